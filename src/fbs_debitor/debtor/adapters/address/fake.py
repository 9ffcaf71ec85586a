"""An in-memory CPR and CVR register for the tests and the demo.

Any number has a name and an address, made up from the number (the same number always gives the
same person, in a street of the asking municipality where the fake knows some). A test can put
a person or a company of its own in (:meth:`FakeAddressLookup.add_person`,
:meth:`~FakeAddressLookup.add_company`), make a number unknown (:meth:`~FakeAddressLookup.forget`)
or make every look-up fail (:meth:`~FakeAddressLookup.fail`). Records are read by the same rules
as the real registers' answers (``model.addresses.person_recipient`` / ``company_recipient``).

The names and addresses are invented; never run with the fake where letters reach real people
(``FBS_DEBITOR_ADDRESS_LOOKUP=register`` there).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import TypeVar

from fbs_debitor.core.ids import Cpr, Cvr
from fbs_debitor.debtor.adapters.address.lookup import AddressLookupError
from fbs_debitor.debtor.model.addresses import (
    LookupResult,
    NoAddress,
    NoAddressReason,
    PostalAddress,
    company_recipient,
    person_recipient,
)


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """A person as the CPR register holds them (the parts a letter needs).

    status: the CPR person status ("01" lives in Denmark, "80" emigrated, "90" dead, ...).
    name: the addressing name (``adresseringsnavn``).
    protected: name and address protection (beskyttelsestype 0001) in force.
    """

    name: str
    address: PostalAddress | None
    status: str = "01"
    protected: bool = False


@dataclass(frozen=True, slots=True)
class CompanyRecord:
    """A company as the CVR register holds it: newest name and newest address."""

    name: str
    address: PostalAddress | None


T = TypeVar("T")

_FIRST = (
    "Anne",
    "Mette",
    "Kirsten",
    "Hanne",
    "Sofie",
    "Ida",
    "Lars",
    "Jens",
    "Peter",
    "Mads",
    "Søren",
    "Frederik",
)
_MIDDLE = ("", "", "Marie", "Birk", "Skov", "Dahl")
_LAST = (
    "Nielsen",
    "Jensen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
    "Madsen",
    "Kristensen",
)
_COMPANY = ("Bogbinderiet", "Læsehesten", "Kulturhuset", "Boghandlen", "Fortælleriet")
_COMPANY_FORM = ("ApS", "A/S", "I/S", "IVS")

_STREETS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "101": (
        ("Vesterbrogade", "1620", "København V"),
        ("Nørrebrogade", "2200", "København N"),
        ("Amagerbrogade", "2300", "København S"),
        ("Østerbrogade", "2100", "København Ø"),
        ("Valby Langgade", "2500", "Valby"),
        ("Frederikssundsvej", "2400", "København NV"),
    ),
    "147": (
        ("Gammel Kongevej", "1850", "Frederiksberg C"),
        ("Falkoner Allé", "2000", "Frederiksberg"),
    ),
    "461": (
        ("Vestergade", "5000", "Odense C"),
        ("Hjallesevej", "5230", "Odense M"),
    ),
    "751": (
        ("Søndergade", "8000", "Aarhus C"),
        ("Silkeborgvej", "8200", "Aarhus N"),
    ),
    "851": (
        ("Boulevarden", "9000", "Aalborg"),
        ("Hobrovej", "9200", "Aalborg SV"),
    ),
}
_FLATS = (("", ""), ("st", "tv"), ("st", "th"), ("1", "tv"), ("2", "th"), ("3", "mf"), ("4", ""))


def _digest(number: str) -> bytes:
    return hashlib.sha256(f"fbs-debitor fake register {number}".encode()).digest()


def _pick(options: tuple[T, ...], byte: int) -> T:
    return options[byte % len(options)]


def _address(digest: bytes, municipality: str) -> PostalAddress:
    street, postcode, city = _pick(_STREETS.get(municipality, _STREETS["101"]), digest[3])
    floor, door = _pick(_FLATS, digest[4])
    letter = "" if digest[6] % 4 else "ABC"[digest[6] % 3]
    return PostalAddress(
        street=street,
        building=f"{1 + digest[5] % 149}{letter}",
        floor=floor,
        door=door,
        postcode=postcode,
        city=city,
    )


def invented_person(cpr: str, municipality: str) -> PersonRecord:
    """The person the fake makes up for ``cpr`` (the same every time)."""
    d = _digest(cpr)
    names = (_pick(_FIRST, d[0]), _pick(_MIDDLE, d[1]), _pick(_LAST, d[2]))
    return PersonRecord(name=" ".join(n for n in names if n), address=_address(d, municipality))


def invented_company(cvr: str, municipality: str) -> CompanyRecord:
    """The company the fake makes up for ``cvr`` (the same every time)."""
    d = _digest(cvr)
    name = f"{_pick(_COMPANY, d[0])} {_pick(_LAST, d[2])} {_pick(_COMPANY_FORM, d[1])}"
    return CompanyRecord(name=name, address=_address(d, municipality))


class FakeAddressLookup:
    """The fake registers (see the module docstring). Thread-safe; counts its look-ups."""

    def __init__(self) -> None:
        self._people: dict[str, PersonRecord] = {}
        self._companies: dict[str, CompanyRecord] = {}
        self._unknown: set[str] = set()
        self._failure: str | None = None
        self._lock = threading.Lock()
        self.lookups = 0
        """How many look-ups were asked (failed ones too)."""

    def add_person(self, cpr: str, record: PersonRecord) -> None:
        with self._lock:
            self._people[cpr] = record
            self._unknown.discard(cpr)

    def add_company(self, cvr: str, record: CompanyRecord) -> None:
        with self._lock:
            self._companies[cvr] = record
            self._unknown.discard(cvr)

    def forget(self, number: str) -> None:
        """From now on the register does not know ``number``."""
        with self._lock:
            self._unknown.add(number)

    def fail(
        self, detail: str | None = "Registret svarer ikke / the register does not answer"
    ) -> None:
        """Every look-up raises :class:`AddressLookupError` with ``detail``; None: answer again."""
        with self._lock:
            self._failure = detail

    def lookup(self, debtor: Cpr | Cvr, municipality: str) -> LookupResult:
        number = debtor.value
        with self._lock:
            self.lookups += 1
            failure = self._failure
            unknown = number in self._unknown
            person = self._people.get(number)
            company = self._companies.get(number)
        if failure is not None:
            raise AddressLookupError(failure)
        if unknown:
            return NoAddress(NoAddressReason.UNKNOWN)
        if isinstance(debtor, Cpr):
            p = person or invented_person(number, municipality)
            return person_recipient(
                status=p.status, name=p.name, protected=p.protected, address=p.address
            )
        c = company or invented_company(number, municipality)
        return company_recipient(name=c.name, address=c.address)
