"""Collection (inddrivelse): debtor <-> the collection context that speaks to PSRM.

Three kinds of contract:

* **Facts** (:class:`CollectionFacts`, :class:`CollectionTerms`): what debtor knows of an open
  claim that decides whether it may go to PSRM. Debtor produces them on demand for a date (a read,
  not a message: the hand-over run asks, set-based, for every open claim of a municipality); the
  collection context decides with them and keeps its own record of what it handed over.
* **Collection -> debtor** (ordered per claim, key ``collection:<municipality>:<claim_id>``, the
  collection context numbers them): :class:`ClaimHandedOver`, :class:`ClaimReturned`,
  :class:`ClaimWrittenOffInCollection`. A settlement from PSRM is an ordinary
  ``payment.PaymentReceived`` with channel ``psrm`` (so it covers the claim and flows to the
  library like any payment).
* **Debtor -> collection** (ordered per claim, key ``collection-report:<municipality>:<claim_id>``,
  debtor numbers them): :class:`HandedOverClaimChanged`, a change to a claim that PSRM holds
  (the library wrote it down or up or cancelled it, a payment arrived locally, the municipality
  wrote it off, a local payment was reversed). Collection turns it into NEDSKRIV, OPSKRIV or
  TILBAGEKALD with the right årsagskode.

Names follow PSRM's creditor services (MFFordringIndberet, MFKvitteringHent,
MFUnderretSamlingHent) where a field has a PSRM counterpart; see ``collection/model/psrm.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from fbs_debitor.contracts.base import Contract
from fbs_debitor.contracts.registration import ClaimMessage

PSRM_CHANNEL = "psrm"
"""The payment channel of PSRM's settlements (``payment.PaymentReceived.channel``)."""

NOT_FOR_COLLECTION = "-"
"""A sortiment mapping's PSRM claim type that means "this kind is not mapped for collection":
claims of it never go to PSRM (eligibility reason ``claim-type-unmapped``)."""


@dataclass(frozen=True, slots=True)
class CollectionTerms:
    """A municipality's collection settings, from its debtor rules.

    municipality:          the kommunekode.
    min_ore:               the smallest balance handed over (``collection_min_ore``).
    days_after_deadline:   hand-over no sooner than this many days after the invoice's last
                           timely payment date (``collection_days_after_deadline``).
    reminder_steps:        how many steps the municipality's reminder procedure has; the
                           procedure is complete when the last one was sent and its deadline
                           has passed.
    """

    municipality: str
    min_ore: int
    days_after_deadline: int
    reminder_steps: int


@dataclass(frozen=True, slots=True)
class CollectionFacts:
    """One open claim as debtor knows it, for the eligibility of hand-over on a date.

    municipality / claim_id:  the claim (the library's id).
    claim_kind:               the sortiment kind (``registration.ClaimKind`` value).
    legal_basis:              ``public`` or ``civil``.
    psrm_claim_type:          the municipality's PSRM fordringstype for the kind
                              (:data:`NOT_FOR_COLLECTION` or "": not mapped).
    acknowledged:             a replacement claim the borrower acknowledged in writing.
    created_on:               the day the library created it (the period's start).
    due_date:                 the due date (forfaldsdato) of the invoice it is on; None: not
                              invoiced.
    last_timely_payment_date: the invoice's SRB; None: not invoiced.
    principal_ore / fees_ore / interest_ore: the balance in its three parts (hovedstol,
                              gebyrer, renter), each at least 0; the balance is their sum.
    reminders_sent:           how many reminder steps went out for the invoice.
    last_reminder_pay_by:     the date to pay by of the last reminder sent (None: none sent).
    announced_on:             the date of the delivered letter that told the debtor the claim
                              will be handed over (None: no such letter delivered).
    agreement_until:          the end of the account's payment agreement (None: none).
    limitation_date:          the day the claim is time-barred (forældelsesdato).
    debtor_id_type / debtor_id: ``cpr`` or ``cvr`` and the full number (sensitive).
    deceased_on:              the debtor's date of death as registered (None: alive).
    text:                     the invoice text of the claim (may be "").
    """

    municipality: str
    claim_id: str
    claim_kind: str
    legal_basis: str
    psrm_claim_type: str
    acknowledged: bool
    created_on: date
    due_date: date | None
    last_timely_payment_date: date | None
    principal_ore: int
    fees_ore: int
    interest_ore: int
    reminders_sent: int
    last_reminder_pay_by: date | None
    announced_on: date | None
    agreement_until: date | None
    limitation_date: date | None
    debtor_id_type: str
    debtor_id: str
    deceased_on: date | None
    text: str = ""

    @property
    def balance_ore(self) -> int:
        return self.principal_ore + self.fees_ore + self.interest_ore


# -- collection -> debtor ---------------------------------------------------------------------


class CollectionMessage(ClaimMessage):
    """A message from collection about one claim, ordered per claim."""

    @property
    def ordering_key(self) -> str:
        return f"collection:{self.municipality}:{self.claim_id}"


class ClaimHandedOver(CollectionMessage):
    """The claim went to PSRM (OPRETFORDRING submitted): debtor stops reminders and interest and
    tells the library that the citizen now pays Gældsstyrelsen. The amounts are what was handed
    over; a claim that changed in between (paid, written down) is reported back by debtor as a
    :class:`HandedOverClaimChanged`."""

    MESSAGE_TYPE: ClassVar[str] = "collection.ClaimHandedOver.v1"
    handed_over_on: date
    psrm_claim_type: str
    principal_ore: int = Field(ge=0)
    fees_ore: int = Field(ge=0)
    interest_ore: int = Field(ge=0)


class ClaimReturned(CollectionMessage):
    """PSRM rejected the claim (AFVIST) or sent it back (tilbagesendelse): it is the
    municipality's again, open, on the list for a person (fix and resubmit, or write off)."""

    MESSAGE_TYPE: ClassVar[str] = "collection.ClaimReturned.v1"
    code: str
    """PSRM's reason code (AFVIST) or ``TILBAGESEND``."""
    reason: str


class ClaimWrittenOffInCollection(CollectionMessage):
    """PSRM wrote (part of) the claim off as uncollectable (afskrivning in a notification)."""

    MESSAGE_TYPE: ClassVar[str] = "collection.ClaimWrittenOffInCollection.v1"
    amount_ore: int = Field(gt=0)
    reason: str


# -- debtor -> collection ---------------------------------------------------------------------


class Change(StrEnum):
    """What happened to a claim PSRM holds (:class:`HandedOverClaimChanged.change`)."""

    WRITTEN_DOWN = "written_down"
    """The library wrote it down (nedskrivning): NEDSKRIV."""
    WRITTEN_UP = "written_up"
    """The library wrote it up (opskrivning): OPSKRIV."""
    CANCELLED = "cancelled"
    """The library cancelled it: TILBAGEKALD."""
    COVERED = "covered"
    """A payment reached the municipality, not PSRM: NEDSKRIV with årsagskode INDB."""
    COVERAGE_REVERSED = "coverage_reversed"
    """A local payment reported to PSRM was reversed by the bank: OPSKRIV."""
    WRITTEN_OFF = "written_off"
    """The municipality wrote it off: TILBAGEKALD."""


class HandedOverClaimChanged(ClaimMessage):
    """Debtor -> collection: a claim that PSRM holds changed in debtor by ``amount_ore``."""

    MESSAGE_TYPE: ClassVar[str] = "collection.HandedOverClaimChanged.v1"
    change: Change
    amount_ore: int = Field(ge=0)
    """How much the claim's balance changed (always positive; 0 for a cancellation of nothing)."""
    effective_on: date
    """The business date of the change (a payment's own date)."""
    remaining_ore: int = Field(ge=0)
    """The claim's balance in debtor afterwards."""
    reason: str = ""

    @property
    def ordering_key(self) -> str:
        return f"collection-report:{self.municipality}:{self.claim_id}"


# -- collection -> its PSRM sender ---------------------------------------------------------------


class PsrmActionQueued(ClaimMessage):
    """Collection -> its PSRM sender: submit the stored action ``aktion_id`` to PSRM. Ordered per
    claim (key ``psrm:<municipality>:<claim_id>``), so a claim's create reaches PSRM before its
    write-down; the outbox retries it with backoff and keeps it as a dead letter after the last
    attempt, and the action's id makes a repeat the same action in PSRM."""

    MESSAGE_TYPE: ClassVar[str] = "collection.PsrmActionQueued.v1"
    aktion_id: str = Field(min_length=36, max_length=36)

    @property
    def ordering_key(self) -> str:
        return f"psrm:{self.municipality}:{self.claim_id}"


COLLECTION_MESSAGES: tuple[type[Contract], ...] = (
    PsrmActionQueued,
    ClaimHandedOver,
    ClaimReturned,
    ClaimWrittenOffInCollection,
    HandedOverClaimChanged,
)
