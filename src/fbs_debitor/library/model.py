"""The library's domain (pure): patrons, fees, cutoff, regulation, what goes to debtor.

A **patron** is a person (CPR), a minor with a financially responsible guardian (CPR + guardian
CPR) or a company (CVR). The patron's **debtor** is the guardian if there is one, else the
company, else the patron (:meth:`Patron.debtor`).

A **fee** is one claim (FBS ``feeId`` = ``claim_id``). Its money:

* ``amount``: what it was created with; ``open``: what is left to pay. Every change of ``open``
  is an event with a signed ``amount`` in the fee's append-only history, so the sum of the
  event amounts always equals ``open`` (:func:`history_balance`);
* ``status``: ``open`` while something is owed; ``paid`` (paid in full in the library, old fees
  only), ``cancelled`` (regulated away), ``closed`` (written down to exactly 0). Only ``open``
  fees can be regulated, paid or moved.

**Old or new** is decided once, when the fee is created, by its creation date against the
municipality's cutoff date as the library knows it then: before the cutoff (or no cutoff yet) the
fee is *old* (stays in the library, may be paid here, never sent); on or after it, *new* (sent to
debtor, paid only there). A later change of the cutoff does not reclassify existing fees; a
municipality moves its old balances with :func:`fbs_debitor.library.service.accounts.move_old_balances`,
after which they are debtor's (``moved_on`` is set) and no longer payable in the library.

**Debtor state** of a fee: ``not_sent`` (old, or closed before it could be sent), ``held`` (its kind
is not mapped in the municipality's sortiment; sent the moment it is mapped), ``sent``,
``registered`` (debtor confirmed the ClaimRegistered), ``rejected`` (debtor refused the
ClaimRegistered; the reason is on the fee; a debtor change sends it again).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from fbs_debitor.contracts.registration import ClaimKind, DebtorRef
from fbs_debitor.core.errors import ValidationError
from fbs_debitor.core.ids import Cpr, Cvr
from fbs_debitor.core.money import MAX_AMOUNT_ORE, MAX_FEE_ORE, Money

BLOCK_THRESHOLD = Money(20000)
"""A patron whose open fees total this much or more (200 kr., the common Danish practice, see
DOMAIN.md "Typical figures") is blocked from borrowing. Recomputed on every read."""


IN_COLLECTION_TEXT = "Overdraget til inddrivelse hos Gældsstyrelsen. Betal via gaeldst.dk"
"""What the FBS fee API says of a fee handed over to state collection (decision 0022)."""


class FeeStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    CANCELLED = "cancelled"
    CLOSED = "closed"


class DebtorState(StrEnum):
    NOT_SENT = "not_sent"
    HELD = "held"
    SENT = "sent"
    REGISTERED = "registered"
    REJECTED = "rejected"


class EventKind(StrEnum):
    """What can happen to a fee (the ``kind`` of a history event)."""

    CREATED = "created"  # amount: +amount
    HELD = "held"  # its kind is unmapped; text: why
    SENT = "sent"  # ClaimRegistered put in the outbox
    MOVED = "moved"  # an old fee moved to debtor
    WRITTEN_DOWN = "written_down"  # amount: -x
    WRITTEN_UP = "written_up"  # amount: +x
    CANCELLED = "cancelled"  # amount: -open
    PAID_MANUALLY = "paid_manually"  # amount: -open (old fees, in the library)
    DEBTOR_CHANGED = "debtor_changed"
    REGISTERED = "registered"  # debtor accepted the ClaimRegistered
    CONFIRMED = "confirmed"  # debtor accepted a later message
    REJECTED = "rejected"  # debtor refused a message; text: its reason
    COVERED = "covered"  # a payment in debtor covered the fee; amount: -x
    WRITTEN_OFF = "written_off"  # debtor wrote the claim off; amount: -x
    COVERAGE_REVERSED = "coverage_reversed"  # a payment was reversed; amount: +x
    DEBTOR_CLOSED = "debtor_closed"  # debtor closed the claim (paid, written off, cancelled)
    IN_COLLECTION = "in_collection"  # handed over to Gældsstyrelsen (PSRM)
    OUT_OF_COLLECTION = "out_of_collection"  # back from Gældsstyrelsen; text: why


class PaymentStatus(StrEnum):
    """The per-fee answer of the FBS payment API (FBS ``PaymentConfirmation.paymentStatus``)."""

    REGISTERED = "paymentRegistered"
    REGISTERED_BY_DIFFERENT_ORDER_ID = "paymentRegisteredByDifferentOrderId"
    NOT_ALLOWED_BY_CLIENT = "paymentNotAllowedByClient"


@dataclass(frozen=True, slots=True)
class Patron:
    """A library patron. At least one of ``cpr`` / ``cvr``; ``guardian_cpr`` only with ``cpr``."""

    id: int
    municipality: str
    cpr: Cpr | None
    guardian_cpr: Cpr | None
    cvr: Cvr | None
    name: str

    @property
    def debtor(self) -> DebtorRef:
        """Who owes the patron's fees: the guardian, else the company, else the patron."""
        if self.guardian_cpr is not None:
            return DebtorRef(id_type="cpr", id=self.guardian_cpr.value)
        if self.cvr is not None:
            return DebtorRef(id_type="cvr", id=self.cvr.value)
        assert self.cpr is not None  # check_identity guarantees one of them
        return DebtorRef(id_type="cpr", id=self.cpr.value)


def check_identity(cpr: Cpr | None, guardian_cpr: Cpr | None, cvr: Cvr | None) -> None:
    """Refuse a patron identity the library cannot bill (ValidationError)."""
    if cpr is None and cvr is None:
        raise ValidationError(
            "a patron needs a CPR number (a person) or a CVR number (a company)",
            code="invalid-patron",
        )
    if guardian_cpr is not None and cpr is None:
        raise ValidationError("a guardian is for a patron with a CPR number", code="invalid-patron")
    if guardian_cpr is not None and guardian_cpr == cpr:
        raise ValidationError("the guardian cannot be the patron", code="invalid-patron")


@dataclass(frozen=True, slots=True)
class FeeMaterial:
    """A material the fee is about (FBS ``FeeMaterialV2``)."""

    record_id: str
    """FAUST number of the bibliographic record (FBS ``recordId``)."""
    item_number: str
    """The exact copy (FBS ``materialItemNumber``)."""
    material_group: str = "standard"
    title: str | None = None


@dataclass(frozen=True, slots=True)
class NewFee:
    """A fee to create. ``creation_date`` None: today (the clock's). ``reason_message`` empty:
    the kind's Danish description."""

    patron_id: int
    kind: str
    amount: Money
    reason_message: str = ""
    creation_date: date | None = None
    due_date: date | None = None
    materials: tuple[FeeMaterial, ...] = ()
    acknowledged: bool = False


@dataclass(frozen=True, slots=True)
class Fee:
    """One fee as stored. See the module docstring for status, old/new and debtor state."""

    id: int
    municipality: str
    patron_id: int
    kind: str
    reason_message: str
    amount: Money
    open: Money
    status: FeeStatus
    old: bool
    moved_on: date | None
    creation_date: date
    due_date: date | None
    paid_date: date | None
    acknowledged: bool
    debtor_state: DebtorState
    debtor_reason: str | None
    """Why it is held, or debtor's reason for rejecting its registration."""
    debtor_note: str | None
    """Debtor's reason for refusing the latest refused later message (a regulation)."""
    debtor_balance: Money | None
    """The claim's balance in debtor as of debtor's latest confirmation."""
    last_sequence: int
    """Sequence number of the latest message sent about this claim (0: none yet)."""
    registration_message_id: str | None
    """Message id of the latest ClaimRegistered sent."""
    materials: tuple[FeeMaterial, ...] = ()
    in_collection: bool = False
    """Handed over to state collection: the citizen pays Gældsstyrelsen, not the municipality
    (``coverage.ClaimCollectionChanged``); the open amount still follows debtor's principal."""

    @property
    def claim_id(self) -> str:
        return str(self.id)

    @property
    def in_debtor(self) -> bool:
        """Whether debtor manages the fee: new ones, and old ones moved there."""
        return not self.old or self.moved_on is not None

    @property
    def payable_by_client(self) -> bool:
        """Whether it may be paid in the library (FBS ``payableByClient``): old, not moved, open."""
        return not self.in_debtor and self.status is FeeStatus.OPEN

    @property
    def fbs_reason_message(self) -> str:
        """The FBS ``reasonMessage``: the fee's own text, and while it is in collection first
        the sentence that sends the citizen to Gældsstyrelsen (:data:`IN_COLLECTION_TEXT`)."""
        if self.in_collection and self.status is FeeStatus.OPEN:
            return f"{IN_COLLECTION_TEXT} ({self.reason_message})"
        return self.reason_message

    @property
    def regulation_goes_to_debtor(self) -> bool:
        """Whether a regulation is sent: only when debtor has (or is about to have) the claim."""
        return self.in_debtor and self.debtor_state in (DebtorState.SENT, DebtorState.REGISTERED)


@dataclass(frozen=True, slots=True)
class FeeEvent:
    """One entry of a fee's append-only history. ``amount`` changes ``open`` (may be 0)."""

    at: datetime
    kind: EventKind
    amount: Money
    text: str
    message_id: str | None = None
    sequence: int | None = None


@dataclass(frozen=True, slots=True)
class PatronAccount:
    """A patron with its fees, as staff see it."""

    patron: Patron
    fees: list[Fee] = field(default_factory=list)

    @property
    def open_total(self) -> Money:
        return Money.sum(f.open for f in self.fees)

    @property
    def blocked(self) -> bool:
        return is_blocked(self.open_total)


@dataclass(frozen=True, slots=True)
class PaymentConfirmation:
    """The answer for one fee of an FBS payment order. ``confirmation_id`` only when registered."""

    fee_id: int
    status: PaymentStatus
    confirmation_id: str | None = None


def is_blocked(open_total: Money) -> bool:
    """Blocked from borrowing at :data:`BLOCK_THRESHOLD` or more."""
    return open_total >= BLOCK_THRESHOLD


def is_old(creation_date: date, cutoff: date | None) -> bool:
    """Old: created before the cutoff, or no cutoff yet. Created ON the cutoff date: new."""
    return cutoff is None or creation_date < cutoff


def check_kind(kind: str) -> ClaimKind:
    """The claim kind, or ValidationError for one outside the FBS sortiment."""
    try:
        return ClaimKind(kind)
    except ValueError as exc:
        raise ValidationError(
            f"unknown fee kind {kind!r}; the library knows "
            + ", ".join(k.value for k in ClaimKind),
            code="unknown-claim-kind",
        ) from exc


def check_positive(amount: Money, what: str, limit: int = MAX_AMOUNT_ORE) -> Money:
    """Refuse a zero or negative amount, or one above ``limit`` øre (ValidationError)."""
    if not amount.is_positive():
        raise ValidationError(
            f"{what} must be more than 0,00 kr., got {amount}", code="invalid-amount"
        )
    if amount.ore > limit:
        raise ValidationError(
            f"{what} must be at most {Money(limit)}, got {amount}", code="invalid-amount"
        )
    return amount


def check_creation_date(creation_date: date, today: date) -> date:
    """A fee cannot be created in the future."""
    if creation_date > today:
        raise ValidationError(
            f"creation date {creation_date.isoformat()} is in the future",
            code="invalid-creation-date",
        )
    return creation_date


def check_new_fee(row: NewFee, today: date) -> tuple[ClaimKind, date, str]:
    """Check a fee to create; returns its kind, creation date and reason message (ValidationError
    for an unknown kind, an amount not above 0, a date in the future, a due date before the
    creation date, texts too long)."""
    kind = check_kind(row.kind)
    check_positive(row.amount, "a fee's amount", MAX_FEE_ORE)
    created_on = check_creation_date(row.creation_date or today, today)
    if row.due_date is not None and row.due_date < created_on:
        raise ValidationError("the due date is before the creation date", code="invalid-due-date")
    reason_message = row.reason_message.strip() or kind.danish
    if len(reason_message) > 200:
        raise ValidationError("reasonMessage has at most 200 characters", code="invalid-fee")
    for m in row.materials:
        for label, value, limit in (
            ("recordId", m.record_id, 40),
            ("materialItemNumber", m.item_number, 40),
            ("materialGroup", m.material_group, 60),
        ):
            if not value.strip() or len(value) > limit:
                raise ValidationError(
                    f"material {label} must be 1 to {limit} characters", code="invalid-material"
                )
    return kind, created_on, reason_message


def after_write_down(open_amount: Money, by: Money) -> Money:
    """The open amount after writing it down ``by``; refused below zero (exactly zero is fine)."""
    check_positive(by, "a write-down")
    remaining = open_amount - by
    if remaining.is_negative():
        raise ValidationError(
            f"cannot write {by} down from {open_amount}: the fee would go below 0,00 kr.",
            code="write-down-below-zero",
        )
    return remaining


def after_write_up(open_amount: Money, by: Money) -> Money:
    """The open amount after writing it up ``by``; refused above ``MAX_FEE_ORE`` (one fee may
    never be more than that, however many write-ups it gets)."""
    check_positive(by, "a write-up", MAX_FEE_ORE)
    raised = open_amount + by
    if raised.ore > MAX_FEE_ORE:
        raise ValidationError(
            f"cannot write {open_amount} up by {by}: a fee must be at most {Money(MAX_FEE_ORE)}",
            code="invalid-amount",
        )
    return raised


def held_reason(kind: str, municipality: str) -> str:
    """Why a fee of an unmapped kind waits in the library."""
    return (
        f"claim kind {kind} is not mapped in the sortiment of municipality {municipality}; "
        "it is sent as soon as it is mapped"
    )


def decide_payment(fee: Fee, paid_by_order: str | None, order_id: str) -> PaymentStatus:
    """The FBS answer for paying ``fee`` with ``order_id``; ``paid_by_order``: the order that
    paid it before (None: not paid in the library). Same order again: registered (idempotent)."""
    if paid_by_order is not None:
        if paid_by_order == order_id:
            return PaymentStatus.REGISTERED
        return PaymentStatus.REGISTERED_BY_DIFFERENT_ORDER_ID
    if not fee.payable_by_client:
        return PaymentStatus.NOT_ALLOWED_BY_CLIENT
    return PaymentStatus.REGISTERED


def history_balance(events: Iterable[FeeEvent]) -> Money:
    """The open amount the history adds up to (equals ``Fee.open`` for a consistent fee)."""
    return Money.sum(e.amount for e in events)
