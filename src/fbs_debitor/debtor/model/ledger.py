"""The debtor ledger, pure (no I/O): posting kinds and their signs, postings, balances and
reversals.

A claim's history is append-only postings; its balance is derived from them, never stored apart
(a correction is a reversing posting)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from fbs_debitor.core.errors import ValidationError
from fbs_debitor.core.money import Money


class PostingKind(StrEnum):
    """The kind of a ledger posting; fixes the sign of its amount (module docstring)."""

    CHARGE = "charge"
    WRITE_UP = "write_up"
    WRITE_DOWN = "write_down"
    CANCELLATION = "cancellation"
    REMINDER_FEE = "reminder_fee"
    INTEREST = "interest"
    COVERAGE = "coverage"
    WRITE_OFF = "write_off"
    REVERSAL = "reversal"
    TO_CREDIT = "to_credit"
    """What was paid on a claim beyond what it owes after the library regulated it, moved to the
    debtor account's credit (positive: brings the claim back up to zero)."""

    @property
    def sign(self) -> int:
        """+1 for kinds that raise the balance, -1 for those that lower it, 0 for a reversal
        (whose sign is the opposite of the posting it reverses)."""
        return _SIGNS[self]


_SIGNS: dict[PostingKind, int] = {
    PostingKind.CHARGE: 1,
    PostingKind.WRITE_UP: 1,
    PostingKind.REMINDER_FEE: 1,
    PostingKind.INTEREST: 1,
    PostingKind.WRITE_DOWN: -1,
    PostingKind.CANCELLATION: -1,
    PostingKind.COVERAGE: -1,
    PostingKind.WRITE_OFF: -1,
    PostingKind.REVERSAL: 0,
    PostingKind.TO_CREDIT: 1,
}


PRINCIPAL_KINDS: frozenset[PostingKind] = frozenset(
    {PostingKind.CHARGE, PostingKind.WRITE_UP, PostingKind.WRITE_DOWN}
)
"""The kinds that make up the claim's principal (what the library charged, as regulated)."""


FEE_KINDS: frozenset[PostingKind] = frozenset({PostingKind.REMINDER_FEE, PostingKind.INTEREST})
"""The kinds debtor adds on top of the principal (reminder fees and interest)."""

SPLIT_KINDS: frozenset[PostingKind] = frozenset(
    {
        PostingKind.COVERAGE,
        PostingKind.WRITE_OFF,
        PostingKind.CANCELLATION,
        PostingKind.REVERSAL,
        PostingKind.TO_CREDIT,
    }
)
"""The kinds that may take (or give back) either component: each such posting names its fee
part when it is written (a payment covers fees first, a write-off the principal first, a
reversal gives back exactly what the reversed posting took)."""


@dataclass(frozen=True, slots=True)
class Posting:
    """One ledger entry on a claim. Immutable and never deleted; the one record every writer
    builds and :func:`~fbs_debitor.debtor.store.ledger.append_postings` stores.

    kind:          what happened (:class:`PostingKind`); fixes the sign of ``amount``.
    amount:        signed amount: positive raises the claim's balance, negative lowers it; never
                   zero.
    effective_on:  the business date the posting counts from (Europe/Copenhagen).
    booked_at:     when debtor booked it (aware UTC, business clock).
    reverses:      for a ``reversal``: the id of the posting it undoes; None for every other kind.
    message_id:    the message that caused the posting (None for debtor's own postings).
    note:          free text shown to staff (the library's reason for a regulation); may be "".
    id:            the database id; None for a posting not stored yet.
    claim_pk:      the database id of the claim it belongs to; None only for a posting not
                   attached to a stored claim (pure computations); required to be stored.
    municipality:  the claim's municipality (kommunekode); "" only where ``claim_pk`` is None.
    reminder_id:   for a ``reminder_fee``: the reminder that charged it; None for every other
                   kind (and for fees read without it).
    fee_part:      how much of ``amount`` is debtor's own fees and interest (the rest is the
                   principal); same sign as ``amount``, never larger. Required for the kinds in
                   :data:`SPLIT_KINDS` (coverage, write-off, cancellation, reversal), which say
                   which component they take; None elsewhere means 0 for the principal kinds and
                   all of it for reminder fees and interest (:attr:`fees_ore`).
    """

    kind: PostingKind
    amount: Money
    effective_on: date
    booked_at: datetime
    reverses: int | None = None
    message_id: str | None = None
    note: str = ""
    id: int | None = None
    claim_pk: int | None = None
    municipality: str = ""
    reminder_id: int | None = None
    fee_part: Money | None = None

    def __post_init__(self) -> None:
        """Check the sign rule and that only a reversal names a posting it reverses. (Plain
        attribute reads: a dunning run builds one posting per claim, 100,000 at a time.)"""
        ore = self.amount.ore
        if ore == 0:
            raise ValidationError("a posting cannot be 0,00 kr.", code="posting-sign")
        if self.kind is PostingKind.REVERSAL:
            if self.reverses is None:
                raise ValidationError(
                    "a reversal must name the posting it reverses", code="posting-sign"
                )
            self._check_fee_part(ore)
            return
        if self.reverses is not None:
            raise ValidationError(
                f"only a reversal reverses a posting, not a {self.kind.value}", code="posting-sign"
            )
        if (ore > 0) != (_SIGNS[self.kind] > 0):
            raise ValidationError(
                f"a {self.kind.value} posting must be "
                f"{'positive' if self.kind.sign > 0 else 'negative'}, got {self.amount}",
                code="posting-sign",
            )
        if self.fee_part is not None or self.kind in SPLIT_KINDS:
            self._check_fee_part(ore)

    def _check_fee_part(self, ore: int) -> None:
        if self.fee_part is None:
            raise ValidationError(
                f"a {self.kind.value} posting must say how much of it is fees and interest",
                code="posting-fee-part",
            )
        part = self.fee_part.ore
        if part and ((part > 0) != (ore > 0) or abs(part) > abs(ore)):
            raise ValidationError(
                f"the fee part {self.fee_part} of a {self.kind.value} posting of {self.amount} "
                "must have its sign and be no larger",
                code="posting-fee-part",
            )
        if (self.kind in PRINCIPAL_KINDS and part) or (self.kind in FEE_KINDS and part != ore):
            raise ValidationError(
                f"a {self.kind.value} posting cannot have a fee part of {self.fee_part}",
                code="posting-fee-part",
            )

    @property
    def fees_ore(self) -> int:
        """The part of the amount in øre that is debtor's fees and interest (module docstring)."""
        if self.fee_part is not None:
            return self.fee_part.ore
        return self.amount.ore if self.kind in FEE_KINDS else 0


def balance(postings: Iterable[Posting]) -> Money:
    """The claim's balance: the plain sum of its postings' signed amounts (0,00 kr. if none)."""
    return Money.sum(p.amount for p in postings)


def reverse(
    posting: Posting, *, booked_at: datetime, effective_on: date, note: str = ""
) -> Posting:
    """The reversal of a stored posting: the same amount with the opposite sign, giving back
    exactly the components it took (its fee part, negated)."""
    if posting.id is None:
        raise ValueError("only a stored posting (with an id) can be reversed")
    if posting.kind is PostingKind.REVERSAL:
        raise ValidationError("a reversal is not reversed again; post anew", code="posting-sign")
    return Posting(
        kind=PostingKind.REVERSAL,
        amount=-posting.amount,
        effective_on=effective_on,
        booked_at=booked_at,
        reverses=posting.id,
        note=note,
        claim_pk=posting.claim_pk,
        municipality=posting.municipality,
        fee_part=Money(ore=-posting.fees_ore),
    )


def check_reversal(reversal: Posting, reversed_posting: Posting) -> None:
    """Raise unless ``reversal`` reverses ``reversed_posting`` with the opposite sign."""
    if reversal.reverses is None or reversal.reverses != reversed_posting.id:
        raise ValidationError("the reversal names another posting", code="posting-sign")
    if (reversal.amount.ore > 0) == (reversed_posting.amount.ore > 0):
        raise ValidationError(
            "a reversal carries the opposite sign of the posting it reverses", code="posting-sign"
        )


def principal_and_fees(parts: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """What is left of a claim's principal (the library's amount) and of debtor's own fees
    (reminder fees, interest): the sums of its postings' parts, each given as
    ``(amount in øre, fee part in øre)`` (:attr:`Posting.fees_ore`, column ``fee_part_ore``).

    Every posting names its fee part when it is written, so the components are plain sums and a
    reversal restores exactly the components the reversed posting took.
    """
    principal = fees = 0
    for amount, fee_part in parts:
        principal += amount - fee_part
        fees += fee_part
    return principal, fees


def fee_part_fees_first(principal: int, fees: int, amount: int) -> int:
    """The fee part of a posting that lowers a claim by ``-amount`` øre (``amount`` < 0), taking
    debtor's fees and interest first, then the principal (how a payment covers a claim)."""
    taken = -amount
    return -min(max(fees, 0), taken)


def fee_part_principal_first(principal: int, fees: int, amount: int) -> int:
    """The fee part of a posting that lowers a claim by ``-amount`` øre, taking the principal
    first, then debtor's fees (a write-off or a cancellation of the claim: the library's fee goes
    to zero, debtor's fees on it go with it)."""
    taken = -amount
    from_principal = min(max(principal, 0), taken)
    return -(taken - from_principal)
