"""The library regulates a claim (write-down, cancellation), also after it was paid, pure.

What a regulation does to a claim's ledger (decision 0016):

* a **write-down** lowers the principal by its amount (a ``write_down`` posting, all principal).
  It may go below what is still owed, down to what was paid: the part of the payments the claim
  no longer needs becomes **credit** on the debtor account (a ``to_credit`` posting brings the
  principal back to zero, and the account's credit grows by as much). Only a write-down below the
  claim's own amount (as regulated) is refused (``write-down-below-zero``);
* a **cancellation**, and a write-down **to zero** of the claim's amount, end the claim: it was not
  owed, so the reminder fees and interest debtor charged for it fall with it (the open ones are
  cancelled), and everything paid on it, fees included, becomes credit;
* after a regulation a claim that owes nothing is ``paid`` when something of its amount is left
  (the payments covered it), ``cancelled`` when its amount went to zero.

Amounts are øre; the claim's parts come from its postings (:func:`parts_of`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fbs_debitor.core.errors import ValidationError
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.model.claims import ClaimStatus, Refusal
from fbs_debitor.debtor.model.ledger import PRINCIPAL_KINDS, PostingKind

PAID_KINDS = frozenset({PostingKind.COVERAGE, PostingKind.REVERSAL, PostingKind.TO_CREDIT})
"""What moves money in or out of the claim: payments, their reversals, and the credit moved out
(a reversal of a write-off counts too; it gives back what the write-off took, no money)."""


@dataclass(frozen=True, slots=True)
class ClaimParts:
    """Where a claim stands, in øre.

    principal / fees:       what is left of the library's amount and of debtor's fees and
                            interest (may be below zero only mid-regulation).
    amount:                 the library's amount as regulated (charge + write-ups - write-downs).
    paid_principal / paid_fees: what payments (less reversals and credit moved out) covered of
                            each component.
    """

    principal: int
    fees: int
    amount: int
    paid_principal: int
    paid_fees: int

    @property
    def balance(self) -> int:
        return self.principal + self.fees


def parts_of(
    postings: Iterable[tuple[PostingKind, int, int, PostingKind | None]],
) -> ClaimParts:
    """A claim's parts from its postings as (kind, amount, fee part, kind of the posting a
    reversal reverses or None)."""
    principal = fees = amount = paid_p = paid_f = 0
    for kind, ore, fee_part, reversed_kind in postings:
        principal += ore - fee_part
        fees += fee_part
        if kind in PRINCIPAL_KINDS:
            amount += ore
        money = kind in (PostingKind.COVERAGE, PostingKind.TO_CREDIT) or (
            kind is PostingKind.REVERSAL and reversed_kind is PostingKind.COVERAGE
        )
        if money:
            paid_p -= ore - fee_part
            paid_f -= fee_part
    return ClaimParts(principal, fees, amount, paid_p, paid_f)


@dataclass(frozen=True, slots=True)
class RegulationPlan:
    """The postings of a regulation as (kind, amount, fee part), the credit they make, and the
    claim's status afterwards (None: unchanged, still open)."""

    postings: tuple[tuple[PostingKind, int, int], ...]
    to_credit: int
    status: ClaimStatus | None


def _after(parts: ClaimParts, plan: list[tuple[PostingKind, int, int]]) -> ClaimParts:
    principal = parts.principal + sum(a - f for _, a, f in plan)
    fees = parts.fees + sum(f for _, _, f in plan)
    amount = parts.amount + sum(a for k, a, _ in plan if k in PRINCIPAL_KINDS)
    return ClaimParts(principal, fees, amount, parts.paid_principal, parts.paid_fees)


def _end(parts: ClaimParts, plan: list[tuple[PostingKind, int, int]]) -> RegulationPlan:
    """Cancel what is left and move everything paid to credit (the claim was not owed)."""
    now = _after(parts, plan)
    paid = parts.paid_principal + parts.paid_fees
    # cancel the rest of the principal and every fee, paid or not: afterwards each component
    # is minus what was paid of it, and the credit posting brings both to zero
    cancel_p = now.principal + parts.paid_principal
    cancel_f = now.fees + parts.paid_fees
    if cancel_p + cancel_f:
        plan.append((PostingKind.CANCELLATION, -(cancel_p + cancel_f), -cancel_f))
    if paid:
        plan.append((PostingKind.TO_CREDIT, paid, parts.paid_fees))
    return RegulationPlan(tuple(plan), paid, ClaimStatus.CANCELLED)


def plan_cancellation(parts: ClaimParts) -> RegulationPlan:
    """The library cancelled the claim (module docstring)."""
    return _end(parts, [])


def plan_write_down(parts: ClaimParts, amount: Money, claim_id: str) -> RegulationPlan:
    """The library wrote the claim down by ``amount`` (> 0; module docstring). Raises
    ``write-down-below-zero`` for more than the claim's amount as regulated."""
    if amount.ore > parts.amount:
        raise ValidationError(
            f"Nedskrivningen på {amount} er større end fordringens beløb "
            f"{Money(ore=parts.amount)} / write-down below zero: {amount} on claim {claim_id} "
            f"of {Money(ore=parts.amount)}",
            code=Refusal.WRITE_DOWN_BELOW_ZERO,
        )
    plan = [(PostingKind.WRITE_DOWN, -amount.ore, 0)]
    if amount.ore == parts.amount:
        return _end(parts, plan)
    now = _after(parts, plan)
    excess = -now.principal if now.principal < 0 else 0
    if excess:
        plan.append((PostingKind.TO_CREDIT, excess, 0))
    if now.balance + excess == 0:
        return RegulationPlan(tuple(plan), excess, ClaimStatus.PAID)
    return RegulationPlan(tuple(plan), excess, None)
