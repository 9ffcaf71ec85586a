"""Who a letter goes to: the debtor's name and postal address as the registers give it (CPR for a
citizen, CVR for a company), looked up when the letter leaves (decision 0013).

Pure values; the look-up itself is an adapter (``debtor/adapters/address``). A CPR number is
never part of these values: a recipient is a name and an address, nothing that identifies the
person beyond what goes on the envelope.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """A Danish postal address in the registers' parts (CPR ``CprAdresse``, CVR
    ``beliggenhedsadresse``).

    street: the addressing name of the road (``vejadresseringsnavn``, at most 20 characters
        in CPR; the CVR gives ``vejnavn``).
    building: house number with its letter, "12A" (``husnummer``; CVR ``husnummerFra`` +
        ``bogstavFra``).
    floor: ``etage``: "st", "kl", "1" ... "99", or empty.
    door: ``sidedoer``: "tv", "th", "mf", a number, or empty.
    care_of: ``conavn`` without the "c/o".
    locality: ``bynavn``, the town name the post needs where postcode and district are not
        enough; empty otherwise.
    postcode, city: ``postnummer`` and ``postdistrikt``.
    """

    street: str
    building: str
    postcode: str
    city: str
    floor: str = ""
    door: str = ""
    care_of: str = ""
    locality: str = ""

    def lines(self) -> tuple[str, ...]:
        """The address as the lines of an envelope, Danish style::

        c/o Hanne Holm
        Vesterbrogade 12A, 2. tv
        Valby
        2500 Valby
        """
        out = []
        if self.care_of:
            out.append(f"c/o {self.care_of}")
        street = f"{self.street} {self.building}".strip()
        unit = " ".join(
            part for part in (f"{self.floor}." if self.floor else "", self.door) if part
        )
        out.append(f"{street}, {unit}" if unit else street)
        if self.locality:
            out.append(self.locality)
        out.append(f"{self.postcode} {self.city}".strip())
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Recipient:
    """The debtor as a letter addresses them.

    address None: the person has name and address protection (navne- og adressebeskyttelse,
    CPR-loven § 28): the letter carries the name only and goes through Digital Post, which
    addresses it by the CPR number; no postal address is ever printed.
    """

    name: str
    address: PostalAddress | None

    @property
    def protected(self) -> bool:
        return self.address is None

    def window_lines(self) -> tuple[str, ...]:
        """What shows in the envelope's window: the name, then the address (if any)."""
        return (self.name, *(self.address.lines() if self.address is not None else ()))


class NoAddressReason(StrEnum):
    """Why the register has no address to send a letter to."""

    UNKNOWN = "unknown"
    """The register does not know the number."""
    DEAD = "dead"
    """CPR status 90 (død)."""
    EMIGRATED = "emigrated"
    """CPR status 80 (udrejst)."""
    DISAPPEARED = "disappeared"
    """CPR status 70 (forsvundet)."""
    NO_RESIDENCE = "no-residence"
    """CPR status 20 (no residence in Denmark or Greenland) or no address on record."""
    NUMBER_REPLACED = "number-replaced"
    """CPR status 30, 50, 60 (the number was annulled, deleted as a duplicate or changed)."""


NO_ADDRESS_TEXT: dict[NoAddressReason, str] = {
    NoAddressReason.UNKNOWN: "Registret kender ikke nummeret / the register does not know the number",
    NoAddressReason.DEAD: "Personen er død (CPR-status 90) / the person is dead",
    NoAddressReason.EMIGRATED: "Personen er udrejst (CPR-status 80) / the person has emigrated",
    NoAddressReason.DISAPPEARED: "Personen er forsvundet (CPR-status 70) / the person is missing",
    NoAddressReason.NO_RESIDENCE: (
        "Ingen bopælsadresse i registret / no residential address on record"
    ),
    NoAddressReason.NUMBER_REPLACED: (
        "Personnummeret er annulleret eller ændret (CPR-status 30, 50 eller 60) / "
        "the number was annulled or changed"
    ),
}


@dataclass(frozen=True, slots=True)
class NoAddress:
    """The register answered, and there is no address to send to."""

    reason: NoAddressReason

    @property
    def text(self) -> str:
        return NO_ADDRESS_TEXT[self.reason]


LookupResult = Recipient | NoAddress
"""A look-up's answer: the recipient, or why there is none."""


CPR_LIVE_STATUSES = frozenset({"01", "03", "05", "07"})
"""CPR person statuses with a residence: 01/03 in the Danish register (03: a special road code),
05/07 the same in the Greenlandic one."""

_CPR_STATUS_REASON = {
    "20": NoAddressReason.NO_RESIDENCE,
    "30": NoAddressReason.NUMBER_REPLACED,
    "50": NoAddressReason.NUMBER_REPLACED,
    "60": NoAddressReason.NUMBER_REPLACED,
    "70": NoAddressReason.DISAPPEARED,
    "80": NoAddressReason.EMIGRATED,
    "90": NoAddressReason.DEAD,
}


def person_recipient(
    *, status: str, name: str, protected: bool, address: PostalAddress | None
) -> LookupResult:
    """How a CPR person record becomes a letter's recipient (one rule for every adapter).

    A person with a residence (status 01, 03, 05, 07) and an address gets it; with name and
    address protection, the name only. Any other status says why there is no address (an
    unknown status counts as no residence).
    """
    if status not in CPR_LIVE_STATUSES:
        return NoAddress(_CPR_STATUS_REASON.get(status, NoAddressReason.NO_RESIDENCE))
    if not name:
        return NoAddress(NoAddressReason.NO_RESIDENCE)
    if protected:
        return Recipient(name=name, address=None)
    if address is None:
        return NoAddress(NoAddressReason.NO_RESIDENCE)
    return Recipient(name=name, address=address)


def company_recipient(*, name: str, address: PostalAddress | None) -> LookupResult:
    """How a CVR company record becomes a letter's recipient: its newest name and its newest
    address (a ceased company is still written to where the register says it was)."""
    if not name or address is None:
        return NoAddress(NoAddressReason.NO_RESIDENCE)
    return Recipient(name=name, address=address)
