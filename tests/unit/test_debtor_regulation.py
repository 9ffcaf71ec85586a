"""Regulation after payment (issue #11 item 7), pure: expected postings worked out by hand."""

from __future__ import annotations

import pytest

from fbs_debitor.core.errors import ValidationError
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.model.claims import ClaimStatus
from fbs_debitor.debtor.model.ledger import PostingKind as K
from fbs_debitor.debtor.model.regulation import (
    ClaimParts,
    parts_of,
    plan_cancellation,
    plan_write_down,
)

# 125 kr. fee, reminded with a 100 kr. fee, 150 kr. paid: the payment took the 100 kr. fee and
# 50 kr. of the principal
PAID_150 = ClaimParts(principal=7500, fees=0, amount=12500, paid_principal=5000, paid_fees=10000)
UNPAID = ClaimParts(principal=12500, fees=10000, amount=12500, paid_principal=0, paid_fees=0)


def settled(parts: ClaimParts, postings: tuple[tuple[K, int, int], ...]) -> tuple[int, int]:
    """(principal, fees) left after the postings."""
    return (
        parts.principal + sum(a - f for _, a, f in postings),
        parts.fees + sum(f for _, _, f in postings),
    )


def test_parts_from_postings() -> None:
    rows = [
        (K.CHARGE, 12500, 0, None),
        (K.REMINDER_FEE, 10000, 10000, None),
        (K.COVERAGE, -15000, -10000, None),
        (K.WRITE_OFF, -1000, 0, None),
        (K.REVERSAL, 1000, 0, K.WRITE_OFF),  # gives back a write-off: no money
    ]
    assert parts_of(rows) == PAID_150
    undone = [*rows, (K.REVERSAL, 15000, 10000, K.COVERAGE)]
    assert parts_of(undone) == UNPAID


def test_cancelling_a_partly_paid_claim_makes_all_that_was_paid_credit() -> None:
    plan = plan_cancellation(PAID_150)
    assert plan.postings == ((K.CANCELLATION, -22500, -10000), (K.TO_CREDIT, 15000, 10000))
    assert (plan.to_credit, plan.status) == (15000, ClaimStatus.CANCELLED)
    assert settled(PAID_150, plan.postings) == (0, 0)


def test_cancelling_an_unpaid_claim_cancels_its_fees_too() -> None:
    plan = plan_cancellation(UNPAID)
    assert plan.postings == ((K.CANCELLATION, -22500, -10000),)
    assert (plan.to_credit, plan.status) == (0, ClaimStatus.CANCELLED)


def test_a_write_down_below_what_was_paid_makes_the_excess_credit() -> None:
    plan = plan_write_down(PAID_150, Money(ore=10000), "f")  # the fee is now 25 kr.
    assert plan.postings == ((K.WRITE_DOWN, -10000, 0), (K.TO_CREDIT, 2500, 0))
    assert (plan.to_credit, plan.status) == (2500, ClaimStatus.PAID)
    assert settled(PAID_150, plan.postings) == (0, 0)


def test_a_write_down_to_zero_is_a_cancellation() -> None:
    plan = plan_write_down(PAID_150, Money(ore=12500), "f")
    assert plan.postings == (
        (K.WRITE_DOWN, -12500, 0),
        (K.CANCELLATION, -10000, -10000),
        (K.TO_CREDIT, 15000, 10000),
    )
    assert (plan.to_credit, plan.status) == (15000, ClaimStatus.CANCELLED)
    assert settled(PAID_150, plan.postings) == (0, 0)


def test_a_small_write_down_of_an_unpaid_claim_is_one_posting() -> None:
    plan = plan_write_down(UNPAID, Money(ore=5000), "f")
    assert plan.postings == ((K.WRITE_DOWN, -5000, 0),)
    assert (plan.to_credit, plan.status) == (0, None)


def test_a_write_down_beyond_the_claims_amount_is_refused() -> None:
    with pytest.raises(ValidationError, match="below zero") as info:
        plan_write_down(PAID_150, Money(ore=12501), "f")
    assert info.value.code == "write-down-below-zero"
