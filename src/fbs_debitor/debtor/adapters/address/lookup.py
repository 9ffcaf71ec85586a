"""The address look-up's interface, shared by the real registers and the fake.

Given a debtor (a CPR or a CVR number) and the municipality asking, an ``AddressLookup`` answers
with the :class:`~fbs_debitor.debtor.model.addresses.Recipient` to write to (name and postal
address, or the name only under name and address protection) or a
:class:`~fbs_debitor.debtor.model.addresses.NoAddress` saying why there is none. When it cannot
answer at all (the register is down, refuses the credentials, answers nonsense) it raises
:class:`AddressLookupError`; the letter then waits and is tried again.

A full CPR number is never part of an error, a log line or a URL: the registers get it in the
body of a POST, and ``Cpr``'s ``str`` and ``repr`` are masked.
"""

from __future__ import annotations

from typing import Protocol

from fbs_debitor.core.errors import DomainError
from fbs_debitor.core.ids import Cpr, Cvr
from fbs_debitor.debtor.model.addresses import LookupResult


class AddressLookupError(DomainError):
    """The register could not be asked or gave no usable answer (a timeout, an HTTP error,
    refused credentials, a body that does not read). Never holds the number looked up."""

    code = "address-lookup-failed"


class AddressLookup(Protocol):
    """Name and postal address of a debtor, as the register has them now."""

    def lookup(self, debtor: Cpr | Cvr, municipality: str) -> LookupResult:
        """The recipient of a letter to ``debtor`` from ``municipality`` (kommunekode), or
        why there is none. Raises :class:`AddressLookupError` when the register cannot say."""
        ...
