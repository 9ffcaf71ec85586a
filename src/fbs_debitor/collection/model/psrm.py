"""PSRM's vocabulary for a creditor, as in its public creditor services (EFI generation XSDs,
repository ``skat/eksternwiki``), pure: what we send and what comes back.

* ``MFFordringIndberet`` takes :class:`FordringAktion` rows: OPRETFORDRING (create a claim, with
  its :class:`Fordring`), NEDSKRIV / OPSKRIV (write down / up by an amount, with an årsagskode),
  TILBAGEKALD (recall, with an årsagskode). PSRM answers at once that it received them
  (MODTAGET); what it decided comes later as a receipt.
* ``MFKvitteringHent`` returns :class:`Kvittering` rows by cursor: UDFOERT (done; for a create,
  with PSRM's own claim id), AFVIST (rejected, with PSRM's reason), HOERING (a person at
  Gældsstyrelsen must decide; a later receipt for the same action follows).
* ``MFUnderretSamlingHent`` returns :class:`Underretning` rows by cursor: AFREGNING (the monthly
  settlement of what PSRM collected: which claim, how much, the payment date, paid on the last
  bank day of the month), TILBAGESEND (PSRM sends a claim back), AFSKRIVNING (PSRM wrote it off).

Our own reference of a claim (PSRM's "fordringshaver reference") is the library's claim id, unique
per municipality; every action carries our ``aktion_id`` (a UUID), which is the idempotency key:
an action sent twice (a timeout, a late receipt) is one action in PSRM.

Amounts are integer øre; dates are business dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class Aktion(StrEnum):
    """The actions of ``MFFordringIndberet``."""

    OPRETFORDRING = "OPRETFORDRING"
    NEDSKRIV = "NEDSKRIV"
    OPSKRIV = "OPSKRIV"
    TILBAGEKALD = "TILBAGEKALD"


class NedskrivAarsag(StrEnum):
    """Why a claim is written down in PSRM (årsagskode of NEDSKRIV)."""

    INDB = "INDB"
    """Indbetaling: the creditor received a payment."""
    FEJL = "FEJL"
    """Fejl: the claim was too high (the creditor's regulation)."""
    FAST = "FAST"
    """Fastsættelse: the amount was fixed anew (a decision, a court)."""
    ANDN = "ANDN"
    """Anden årsag: any other reason."""


class TilbagekaldAarsag(StrEnum):
    """Why a claim is recalled from PSRM (årsagskode of TILBAGEKALD)."""

    FEJL = "FEJL"
    """Fejl: the claim should not have been handed over (cancelled by the creditor)."""
    HENS = "HENS"
    """Henstand: the creditor grants a postponement."""
    ANDN = "ANDN"
    """Anden årsag: any other reason (written off by the creditor)."""


class KvitteringStatus(StrEnum):
    """The status of an action in a receipt."""

    MODTAGET = "MODTAGET"
    UDFOERT = "UDFOERT"
    AFVIST = "AFVIST"
    HOERING = "HOERING"


class UnderretningType(StrEnum):
    """The notifications we read from ``MFUnderretSamlingHent``."""

    AFREGNING = "AFREGNING"
    TILBAGESEND = "TILBAGESEND"
    AFSKRIVNING = "AFSKRIVNING"


class IdType(StrEnum):
    CPR = "cpr"
    CVR = "cvr"


@dataclass(frozen=True, slots=True)
class Haeftelse:
    """Who is liable (hæftelse): a person or company, and when the claim lapses against them.

    id_type / id:        ``cpr`` (10 digits) or ``cvr`` (8 digits); the full number, sensitive.
    foraeldelsesdato:    the limitation date of the claim against this debtor.
    """

    id_type: IdType
    id: str
    foraeldelsesdato: date

    @property
    def masked(self) -> str:
        return f"{self.id[:6]}-XXXX" if self.id_type is IdType.CPR else self.id


@dataclass(frozen=True, slots=True)
class Fordring:
    """A claim as handed over (the body of OPRETFORDRING).

    fordringstype:                  the PSRM claim type from the municipality's sortiment mapping.
    forfaldsdato:                   due date.
    sidste_rettidige_betalingsdato: the last timely payment date (SRB); PSRM rejects a claim
                                    whose SRB has not passed.
    periode_fra / periode_til:      the period the claim concerns (the fee's creation to its due
                                    date).
    hovedstol_ore:                  the principal.
    gebyr_ore / rente_ore:          reminder fees and interest, apart from the principal.
    haeftelse:                      the debtor.
    tekst:                          a short text for the debtor's statement (may be "").
    """

    fordringstype: str
    forfaldsdato: date
    sidste_rettidige_betalingsdato: date
    periode_fra: date
    periode_til: date
    hovedstol_ore: int
    gebyr_ore: int
    rente_ore: int
    haeftelse: Haeftelse
    tekst: str = ""

    @property
    def beloeb_ore(self) -> int:
        """The whole amount handed over."""
        return self.hovedstol_ore + self.gebyr_ore + self.rente_ore


@dataclass(frozen=True, slots=True)
class FordringAktion:
    """One action of ``MFFordringIndberet``.

    aktion_id:        our UUID of the action; PSRM treats a repeated id as the same action.
    municipality:     the kommunekode of the creditor (the municipality).
    reference:        our reference of the claim (the library's claim id).
    aktion:           what to do.
    virkningsdato:    the business date the action takes effect (a payment's own date for INDB).
    fordring:         OPRETFORDRING only: the claim.
    beloeb_ore:       NEDSKRIV / OPSKRIV: by how much (positive); None otherwise.
    aarsagskode:      NEDSKRIV / TILBAGEKALD: a :class:`NedskrivAarsag` or
                      :class:`TilbagekaldAarsag` value; None otherwise.
    """

    aktion_id: str
    municipality: str
    reference: str
    aktion: Aktion
    virkningsdato: date
    fordring: Fordring | None = None
    beloeb_ore: int | None = None
    aarsagskode: str | None = None


@dataclass(frozen=True, slots=True)
class Kvittering:
    """A receipt from ``MFKvitteringHent``.

    kvittering_id:    PSRM's id of the receipt (unique; our dedup key).
    aktion_id:        the action it answers.
    municipality / reference: the claim it is about.
    status:           UDFOERT, AFVIST or HOERING (MODTAGET is the answer of the submit itself).
    psrm_fordring_id: UDFOERT of OPRETFORDRING: PSRM's id of the claim; else None.
    aarsag_kode / aarsag_tekst: AFVIST and HOERING: PSRM's code and sentence; else "".
    tidspunkt:        when PSRM decided (aware UTC).
    """

    kvittering_id: str
    aktion_id: str
    municipality: str
    reference: str
    status: KvitteringStatus
    tidspunkt: datetime
    psrm_fordring_id: str | None = None
    aarsag_kode: str = ""
    aarsag_tekst: str = ""


@dataclass(frozen=True, slots=True)
class Underretning:
    """A notification from ``MFUnderretSamlingHent``.

    underretning_id:  PSRM's id of the notification (unique; our dedup key).
    type:             AFREGNING, TILBAGESEND or AFSKRIVNING.
    municipality / reference: the claim it is about; psrm_fordring_id: PSRM's id of it.
    beloeb_ore:       AFREGNING: what PSRM collected and pays the municipality; AFSKRIVNING: what
                      it wrote off; TILBAGESEND: what is left of the claim.
    betalingsdato:    AFREGNING: the day the debtor paid PSRM (the coverage's date); else the
                      notification's date.
    afregningsdato:   AFREGNING: the day PSRM pays the municipality (the last bank day of the
                      month); else None.
    tekst:            a sentence (the reason of a return or write-off); may be "".
    """

    underretning_id: str
    type: UnderretningType
    municipality: str
    reference: str
    psrm_fordring_id: str
    beloeb_ore: int
    betalingsdato: date
    afregningsdato: date | None = None
    tekst: str = ""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a cursor read: the rows and the cursor to continue from (give it back on the
    next call; None: start at the beginning). ``more``: another page is waiting."""

    items: tuple[T, ...]
    cursor: str | None
    more: bool = False
