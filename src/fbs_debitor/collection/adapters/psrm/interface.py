"""The one interface every PSRM adapter implements, and its errors.

Implementations (each passes ``tests/contract/test_psrm_adapters.py``):

* ``standin.PsrmStandIn``: answers as PSRM does, with configurable rules (tests and the demo);
* ``files.PsrmFiles``: writes each submission as an XML batch valid against
  ``docs/contracts/psrm-v1.xsd`` and reads receipts and notifications back from files;
* ``soap.PsrmSoap``: the real services' SOAP request/response mapping over HTTP.

Errors::

    PsrmError               PSRM refused the call itself (a malformed request): do not retry
    └── PsrmUnavailable     a timeout, a connection error, a 5xx: retry later with backoff; the
                            actions may or may not have arrived, so they are sent again with the
                            same ``aktion_id`` (PSRM treats a repeat as the same action)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from fbs_debitor.collection.model.psrm import FordringAktion, Kvittering, Page, Underretning


class PsrmError(Exception):
    """PSRM refused the call (not an action: the call). Not retried."""


class PsrmUnavailable(PsrmError):
    """PSRM did not answer in time or failed; the caller retries later."""


class Psrm(Protocol):
    """PSRM's creditor services for one deployment (every municipality it serves)."""

    def submit(self, actions: Sequence[FordringAktion]) -> list[str]:
        """``MFFordringIndberet``: hand the actions to PSRM; returns the ``aktion_id`` of each
        action PSRM received (MODTAGET), in order. A repeated ``aktion_id`` is received again
        and changes nothing. Raises PsrmUnavailable when the outcome is unknown."""
        ...

    def receipts(self, municipality: str, cursor: str | None, limit: int = 500) -> Page[Kvittering]:
        """``MFKvitteringHent``: the municipality's receipts after ``cursor`` (None: from the
        start), at most ``limit``, oldest first."""
        ...

    def notifications(
        self, municipality: str, cursor: str | None, limit: int = 500
    ) -> Page[Underretning]:
        """``MFUnderretSamlingHent``: the municipality's notifications after ``cursor``, at most
        ``limit``, oldest first."""
        ...
