"""The debtor ledger, pure (no I/O): accounts, claims, postings, balances and the rules a
registration from the library must pass.

A claim's money history is an append-only list of :class:`Posting` rows, each with a *signed*
amount in øre. The balance is their sum and is never stored: a correction is a new posting (a
``reversal`` of an earlier one, or a regulation), never an edit. Which sign a posting carries is
fixed by its :class:`PostingKind`::

    raise the balance (+)   charge, write_up, reminder_fee, interest
    lower the balance (-)   write_down, cancellation, coverage, write_off
    reversal (±)            the opposite sign of the posting it reverses (``reverses`` = its id)

For allocation of payments (a later issue) the kinds fall into components: the *principal*
(charge, write-up, write-down) and the *fees* (reminder fees, interest); settlements (coverage,
write-off, cancellation) and reversals say what they settle or undo through their own rows. So
every posting keeps its ``kind``.

Rules are plain functions that raise :class:`~fbs_debitor.core.errors.ValidationError` with a
stable ``code`` (listed in :class:`Refusal`) and a sentence in Danish and English; the library
shows that sentence on the fee.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

import pydantic

from fbs_debitor.contracts.registration import ClaimKind, ClaimMessage, ClaimRegistered, LegalBasis
from fbs_debitor.core.errors import ValidationError
from fbs_debitor.core.ids import Cpr, Cvr
from fbs_debitor.core.money import MAX_AMOUNT_ORE, MAX_FEE_ORE, Money


class Refusal(StrEnum):
    """Every code a registration message can be refused with (``RegistrationRejected.code``)."""

    INVALID_MESSAGE = "invalid-message"
    """The payload does not read as the contract (a field missing, too long, of the wrong type)."""
    INVALID_CPR = "invalid-cpr"
    """Not 10 digits or no real birth date (the modulus-11 check is never demanded)."""
    INVALID_CVR = "invalid-cvr"
    """Not 8 digits or failing the CVR modulus-11 check."""
    AMOUNT_NOT_POSITIVE = "amount-not-positive"
    """An amount of 0 or less where the contract wants a positive amount."""
    AMOUNT_TOO_LARGE = "amount-too-large"
    """A claim or write-up above ``core.money.MAX_FEE_ORE`` (100.000 kr., one library fee), a
    write-down above ``MAX_AMOUNT_ORE`` (10 milliarder kr.), or a write-up that would take the
    claim's balance above ``MAX_AMOUNT_ORE``: a typing error."""
    UNKNOWN_CLAIM_KIND = "unknown-claim-kind"
    """A claim kind that is not in the sortiment (``contracts.registration.ClaimKind``)."""
    WRITE_DOWN_BELOW_ZERO = "write-down-below-zero"
    """A write-down larger than what is left of the claim."""
    UNKNOWN_CLAIM = "unknown-claim"
    """A regulation for a claim debtor does not have."""
    CLAIM_EXISTS = "claim-exists"
    """A registration for a claim id debtor has already."""
    CLAIM_CANCELLED = "claim-cancelled"
    """Anything for a claim that was cancelled."""
    CLAIM_NOT_OPEN = "claim-not-open"
    """A regulation for a claim that is paid or written off (a claim handed over to collection
    takes regulations: they are reported to collection, decision 0022)."""


class IdType(StrEnum):
    """What identifies a debtor: a person's CPR number or a company's CVR number."""

    CPR = "cpr"
    CVR = "cvr"


class ClaimStatus(StrEnum):
    """Where a claim stands. Intake reaches ``open``, ``held`` and ``cancelled``; the others
    belong to invoicing, allocation, write-off and collection."""

    OPEN = "open"
    """Registered, something may still be owed; regulations are accepted."""
    HELD = "held"
    """Registered but not to be collected yet: its debtor is a person under 18 (the reason is its
    last ``held`` event). Not invoiced, reminded, paid from credit or written off by a rule;
    regulations and debtor changes are accepted, and a debtor of age makes it ``open``."""
    PAID = "paid"
    """Fully covered by payments."""
    CANCELLED = "cancelled"
    """Cancelled by the library (the whole remaining balance was cancelled); final."""
    WRITTEN_OFF = "written_off"
    """Written off by the municipality."""
    HANDED_OVER = "handed_over"
    """Handed over to state collection (PSRM): never reminded, charged interest or written off
    by a rule; regulations, local payments and staff write-offs are accepted and each reported
    to collection (``collection.HandedOverClaimChanged``); fully covered it is ``paid``, and
    returned by PSRM ``open`` again (decision 0022)."""


class EventKind(StrEnum):
    """Non-money history of a claim (money history is the postings)."""

    REGISTERED = "registered"
    """The claim was registered (not stored as a row: read from the claim itself)."""

    DEBTOR_CHANGED = "debtor_changed"
    """The claim moved to another debtor account; detail holds old and new debtor, masked."""
    CANCELLED = "cancelled"
    """The claim was cancelled; detail holds the library's reason."""
    HELD = "held"
    """The claim was held; detail holds ``reason`` ("guardian required") and ``text``."""
    RELEASED = "released"
    """A held claim became open (its debtor is now of age); detail holds the debtor, masked."""
    HANDED_OVER = "handed_over"
    """Collection handed the claim over to PSRM (``collection.ClaimHandedOver``); detail holds
    the date, the PSRM claim type, the amounts handed over and ``marked`` ("yes": the claim went
    ``handed_over``; "no": it was no longer open and owed nothing, so it was reported back to be
    recalled, decision 0022)."""
    RETURNED = "returned"
    """PSRM rejected or sent back the claim (``collection.ClaimReturned``); detail holds PSRM's
    ``code`` and ``reason``."""


@dataclass(frozen=True, slots=True)
class Account:
    """A debtor account: one per CPR or CVR number per municipality.

    id:            the database id.
    municipality:  the kommunekode the account belongs to.
    id_type:       ``cpr`` (a person) or ``cvr`` (a company).
    debtor_id:     the full number (10 or 8 digits). Sensitive for a CPR: show ``masked`` instead.
    created_at:    when debtor opened the account (business clock).
    """

    id: int
    municipality: str
    id_type: IdType
    debtor_id: str
    created_at: datetime

    @property
    def masked(self) -> str:
        """The number as shown on screens: "DDMMYY-XXXX" for a CPR, the 8 digits for a CVR."""
        return mask_debtor_id(self.id_type, self.debtor_id)


@dataclass(frozen=True, slots=True)
class Claim:
    """One library claim (fee, replacement charge, ...) as debtor holds it.

    id:                     the database id (postings and events refer to it).
    municipality:           the kommunekode.
    claim_id:               the library's id of the claim (FBS ``feeId``), unique per municipality.
    account_id:             the debtor account that owes it (changes with a debtor change).
    claim_kind:             the sortiment kind (:class:`~fbs_debitor.contracts.registration.ClaimKind`).
    legal_basis:            public (with right of distraint) or civil, derived from the kind.
    debtor_classification:  the municipality's account for the kind (its sortiment mapping).
    psrm_claim_type:        the PSRM claim type for collection (its sortiment mapping).
    patron_id:              the library patron it arose for (may differ from the debtor: a minor).
    created_on:             the day the library created the claim.
    due_date:               the library's due date, if it gave one; invoicing sets its own.
    acknowledged:           a replacement claim the borrower acknowledged in writing.
    materials:              the materials the claim is about, as the contract's JSON form.
    invoice_text:           text for the invoice line; may be "".
    status:                 :class:`ClaimStatus`; the balance is not here (sum the postings).
    registered_at:          when debtor registered it (business clock).
    leg1_ms:                wall-clock milliseconds from the message's enqueue in the library to
                            the claim's creation here (leg 1 of the four flows); None if unknown.
    last_applied_sequence:  the per-claim sequence of the last message applied (None: over HTTP).
    """

    id: int
    municipality: str
    claim_id: str
    account_id: int
    claim_kind: ClaimKind
    legal_basis: LegalBasis
    debtor_classification: str
    psrm_claim_type: str
    patron_id: str
    created_on: date
    due_date: date | None
    acknowledged: bool
    materials: tuple[dict[str, str | None], ...]
    invoice_text: str
    status: ClaimStatus
    registered_at: datetime
    leg1_ms: int | None
    last_applied_sequence: int | None


@dataclass(frozen=True, slots=True)
class ClaimEvent:
    """A non-money event in a claim's history.

    kind:        :class:`EventKind`.
    at:          when it happened in debtor (business clock).
    message_id:  the message that caused it (None for debtor's own events).
    detail:      what changed, as JSON-able text values (CPRs only masked).
    """

    kind: EventKind
    at: datetime
    message_id: str | None
    detail: dict[str, str]


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer to one registration message.

    accepted:      True if it was applied, False if refused (then nothing changed but the
                   rejection record).
    municipality:  the kommunekode of the message.
    claim_id:      the library's claim id the message was about ("" if an unreadable message
                   did not name one).
    message_id:    the message's id.
    message_type:  the message's contract name and version.
    balance_ore:   accepted: the claim's balance in debtor afterwards; refused: None.
    code:          refused: a :class:`Refusal` value; accepted: None.
    reason:        refused: the sentence for the library; accepted: None.
    """

    accepted: bool
    municipality: str
    claim_id: str
    message_id: str
    message_type: str
    balance_ore: int | None = None
    code: str | None = None
    reason: str | None = None


def accepted(msg: ClaimMessage, message_id: str, balance_after: Money) -> Outcome:
    """The outcome of an applied message; ``balance_after`` is the claim's balance now."""
    return Outcome(
        accepted=True,
        municipality=msg.municipality,
        claim_id=msg.claim_id,
        message_id=message_id,
        message_type=msg.MESSAGE_TYPE,
        balance_ore=balance_after.ore,
    )


def refused(msg: ClaimMessage, message_id: str, refusal: ValidationError) -> Outcome:
    """The outcome of a refused message, with the refusal's code and sentence."""
    return Outcome(
        accepted=False,
        municipality=msg.municipality,
        claim_id=msg.claim_id,
        message_id=message_id,
        message_type=msg.MESSAGE_TYPE,
        code=refusal.code,
        reason=refusal.detail,
    )


def describe_contract_error(error: pydantic.ValidationError) -> str:
    """The errors of a payload as one sentence, without the input values (they may hold a CPR)."""
    parts = [
        f"{'.'.join(str(p) for p in e['loc']) or 'payload'}: {e['msg']}"
        for e in error.errors(include_input=False, include_url=False)[:5]
    ]
    return "Ugyldig besked / invalid message: " + "; ".join(parts)


# -- rules ---------------------------------------------------------------------------------------


def parse_debtor(id_type: str, number: str) -> Cpr | Cvr:
    """The debtor's CPR or CVR. A CPR failing the modulus-11 check is valid (see ``core.ids``).

    Raises ValidationError with code ``invalid-cpr`` / ``invalid-cvr``.
    """
    if id_type == IdType.CPR:
        return Cpr.parse(number)
    if id_type == IdType.CVR:
        return Cvr.parse(number)
    raise ValidationError(
        f"Ukendt debitortype / unknown debtor id type {id_type!r}; expected cpr or cvr",
        code=Refusal.INVALID_MESSAGE,
    )


def mask_debtor_id(id_type: str, number: str) -> str:
    """A debtor number as shown anywhere: a CPR as "DDMMYY-XXXX", a CVR in full (it is public)."""
    if id_type == IdType.CPR:
        return f"{number[:6]}-XXXX"
    return number


def require_positive(amount_ore: int, what: str, limit: int = MAX_AMOUNT_ORE) -> Money:
    """``amount_ore`` as Money if it is above zero and at most ``limit`` øre; raises
    ``amount-not-positive`` or ``amount-too-large`` otherwise."""
    amount = Money(ore=amount_ore)
    if not amount.is_positive():
        raise ValidationError(
            f"Beløbet skal være positivt / the {what} amount must be positive, got {amount}",
            code=Refusal.AMOUNT_NOT_POSITIVE,
        )
    if amount_ore > limit:
        raise ValidationError(
            f"Beløbet er for stort / the {what} amount must be at most {Money(limit)}, "
            f"got {amount}",
            code=Refusal.AMOUNT_TOO_LARGE,
        )
    return amount


def require_write_up(balance_ore: int, amount_ore: int) -> Money:
    """A write-up of at most one library fee (``MAX_FEE_ORE``) that leaves the claim's balance
    at most ``MAX_AMOUNT_ORE``; raises ``amount-not-positive`` or ``amount-too-large``."""
    amount = require_positive(amount_ore, "write-up", MAX_FEE_ORE)
    if balance_ore + amount_ore > MAX_AMOUNT_ORE:
        raise ValidationError(
            f"Beløbet er for stort / the write-up would take the claim above "
            f"{Money(MAX_AMOUNT_ORE)}",
            code=Refusal.AMOUNT_TOO_LARGE,
        )
    return amount


def parse_claim_kind(value: str) -> ClaimKind:
    """The sortiment kind; raises ``unknown-claim-kind`` for anything not in ClaimKind."""
    try:
        return ClaimKind(value)
    except ValueError:
        raise ValidationError(
            f"Ukendt fordringsart / unknown claim kind {value[:40]!r}; the sortiment has "
            + ", ".join(k.value for k in ClaimKind),
            code=Refusal.UNKNOWN_CLAIM_KIND,
        ) from None


def require_max_length(value: str, limit: int, field: str) -> str:
    """``value`` if it has 1 to ``limit`` characters; raises ``invalid-message`` otherwise."""
    if not value.strip() or len(value) > limit:
        raise ValidationError(
            f"Feltet {field} skal have 1 til {limit} tegn / {field} must have 1 to {limit} "
            f"characters, got {len(value)}",
            code=Refusal.INVALID_MESSAGE,
        )
    return value


def check_registration(msg: ClaimRegistered) -> tuple[Cpr | Cvr, ClaimKind, Money]:
    """The checks of a ClaimRegistered that need no database: the debtor's number, the claim
    kind, a positive amount, and field lengths. Returns (debtor, kind, amount)."""
    debtor = parse_debtor(msg.debtor.id_type, msg.debtor.id)
    kind = parse_claim_kind(msg.claim_kind)
    amount = require_positive(msg.amount_ore, "claim", MAX_FEE_ORE)
    require_max_length(msg.debtor_classification, 40, "debtor_classification")
    require_max_length(msg.psrm_claim_type, 40, "psrm_claim_type")
    require_max_length(msg.patron_id, 64, "patron_id")
    return debtor, kind, amount


def claim_exists(claim_id: str) -> ValidationError:
    """The refusal of a registration for a claim id debtor has already (``claim-exists``)."""
    return ValidationError(
        f"Fordringen {claim_id} er allerede registreret / claim {claim_id} exists already",
        code=Refusal.CLAIM_EXISTS,
    )


REGULABLE: frozenset[ClaimStatus] = frozenset(
    {ClaimStatus.OPEN, ClaimStatus.HELD, ClaimStatus.HANDED_OVER}
)
"""The statuses that take the library's write-ups, write-downs and cancellations: a claim PSRM
holds too (the change is reported to collection, decision 0022)."""


def require_regulable(status: ClaimStatus, claim_id: str) -> None:
    """Raise unless the claim takes a regulation (:data:`REGULABLE`), as :func:`require_open`."""
    if status not in REGULABLE:
        require_open(status, claim_id)


def require_open(status: ClaimStatus, claim_id: str) -> None:
    """Raise unless the claim takes regulations (it is open or held): ``claim-cancelled`` or
    ``claim-not-open``."""
    if status in (ClaimStatus.OPEN, ClaimStatus.HELD):
        return
    if status is ClaimStatus.CANCELLED:
        raise ValidationError(
            f"Fordringen {claim_id} er annulleret / claim {claim_id} is cancelled",
            code=Refusal.CLAIM_CANCELLED,
        )
    raise ValidationError(
        f"Fordringen {claim_id} er ikke åben ({status.value}) / claim {claim_id} is not open "
        f"({status.value})",
        code=Refusal.CLAIM_NOT_OPEN,
    )
