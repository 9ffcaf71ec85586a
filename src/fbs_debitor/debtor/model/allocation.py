"""The allocation plan, pure (no I/O): how one payment covers the claims it may pay.

The rule (decision 0006, the same as ``service.allocation`` always applied):

* claims are paid in allocation order: oldest due date first (a claim without a due date last),
  then oldest created, then by claim id (:func:`allocation_order`);
* a claim whose balance is 0 or less gets nothing; each other claim gets
  ``min(what is left of the payment, its balance)``;
* within a claim, debtor's own fees (reminder fees and interest, one component in the ledger:
  :data:`~fbs_debitor.debtor.model.ledger.FEE_KINDS`) before the principal;
* **a payment counts on the day it was paid** (its booking date, the till's receipt date, the
  gateway's capture date), not the day it reached debtor. Fees and interest that arose *after*
  that day (``OpenClaim.late_fees``) are never covered before what was due on it: first every
  claim's fees and principal as they stood on the payment day, then the later fees;
* a claim whose payment-day amount the payment settles in full was paid in time for the later
  fees: they are **waived** (``AllocationPlan.waived``: the reminder was sent, or the interest
  ran, for money already paid), never covered (gebyrloven § 2, renteloven § 9 b: a fee is owed
  only for a reminder about a debt overdue when it was sent);
* what is left when every claim is paid is the remainder: credit on the debtor account.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from fbs_debitor.core.errors import ValidationError
from fbs_debitor.core.money import Money

_ZERO = Money(0)


class Component(StrEnum):
    """The parts of a claim a payment covers, in the order it covers them."""

    FEES = "fees"
    """Debtor's own reminder fees and interest."""
    PRINCIPAL = "principal"
    """The library's amount, as regulated: what the library hears of (``ClaimCovered``)."""


def allocation_order(
    due_date: date | None, created_on: date, claim: int
) -> tuple[bool, date, date, int]:
    """The sort key of a claim in allocation order (module docstring)."""
    return (due_date is None, due_date or date.max, created_on, claim)


@dataclass(frozen=True, slots=True)
class OpenClaim:
    """A claim as the plan sees it.

    claim:       the claim's database id (also the last tie-break of the order).
    principal:   what is left of the library's amount (may be negative after corrections).
    fees:        what is left of debtor's reminder fees and interest (may be negative likewise).
    due_date:    its due date; None when it has none yet (it goes last).
    created_on:  the day the library created it.
    late_fees:   the part of ``fees`` that arose after the payment's day (reminder fees and
                 interest posted later); 0 to ``fees``.
    """

    claim: int
    principal: Money
    fees: Money
    due_date: date | None
    created_on: date
    late_fees: Money = _ZERO

    @property
    def balance(self) -> Money:
        """What the claim owes in all: principal and fees."""
        return self.principal + self.fees

    def order_key(self) -> tuple[bool, date, date, int]:
        """Its place in allocation order."""
        return allocation_order(self.due_date, self.created_on, self.claim)


@dataclass(frozen=True, slots=True)
class CoverageLine:
    """One component of one claim covered by the payment; ``amount`` is positive."""

    claim: int
    component: Component
    amount: Money


@dataclass(frozen=True, slots=True)
class AllocationPlan:
    """What a payment does: the coverage lines in order, the remainder (credit), what the
    claims owed in all before it (the sum of their positive balances, less what is waived) and
    the late fees waived per claim (module docstring)."""

    lines: tuple[CoverageLine, ...]
    remainder: Money
    due: Money
    waived: tuple[tuple[int, Money], ...] = ()

    @property
    def covered(self) -> Money:
        """The part of the payment that covers claims."""
        return Money.sum(line.amount for line in self.lines)

    def per_claim(self) -> dict[int, tuple[Money, Money]]:
        """(fees covered, principal covered) per claim paid, in the order they were paid."""
        out: dict[int, tuple[Money, Money]] = {}
        for line in self.lines:
            fees, principal = out.get(line.claim, (Money.zero(), Money.zero()))
            if line.component is Component.FEES:
                fees += line.amount
            else:
                principal += line.amount
            out[line.claim] = (fees, principal)
        return out


def plan_allocation(claims: Sequence[OpenClaim], payment: Money) -> AllocationPlan:
    """How ``payment`` covers ``claims`` (any order; the plan sorts them): module docstring.

    Raises :class:`ValidationError` for a payment of 0,00 kr. or less.
    """
    if not payment.is_positive():
        raise ValidationError(
            f"a payment must be more than 0,00 kr., got {payment}", code="payment-amount"
        )
    remaining = payment.ore
    due = 0
    lines: list[CoverageLine] = []
    late: list[tuple[int, int]] = []
    waived: list[tuple[int, Money]] = []
    for claim in sorted(claims, key=OpenClaim.order_key):
        principal, fees = claim.principal.ore, claim.fees.ore
        later = min(max(claim.late_fees.ore, 0), max(fees, 0))
        on_the_day = principal + fees - later  # what the claim owed on the payment's day
        if principal + fees <= 0:
            continue
        pay = min(max(remaining, 0), max(on_the_day, 0))
        remaining -= pay
        from_fees = min(max(fees - later, 0), pay)
        if from_fees:
            lines.append(CoverageLine(claim.claim, Component.FEES, Money(ore=from_fees)))
        if pay - from_fees:
            lines.append(CoverageLine(claim.claim, Component.PRINCIPAL, Money(ore=pay - from_fees)))
        if later and pay == max(on_the_day, 0):
            waived.append((claim.claim, Money(ore=later)))  # paid in time for the later fees
            due += max(on_the_day, 0)
        else:
            late.append((claim.claim, later))
            due += max(on_the_day, 0) + later
    for claim_pk, later in late:  # then the fees that arose after the payment's day
        pay = min(remaining, later)
        if pay > 0:
            remaining -= pay
            lines.append(CoverageLine(claim_pk, Component.FEES, Money(ore=pay)))
    return AllocationPlan(tuple(lines), Money(ore=remaining), Money(ore=due), tuple(waived))
