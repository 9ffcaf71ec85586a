"""The allocation plan (debtor.model.allocation), without a database.

Expected values are written from the rule of decision 0006: oldest due date first (none last),
then oldest created, then claim id; within a claim fees (reminder fees, interest) before the
principal; what is left over is the remainder (credit)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fbs_debitor.core.errors import ValidationError
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.model.allocation import (
    Component,
    CoverageLine,
    OpenClaim,
    plan_allocation,
)

FEES, PRINCIPAL = Component.FEES, Component.PRINCIPAL


def kr(ore: int) -> Money:
    return Money(ore=ore)


def claim(
    pk: int,
    principal: int,
    fees: int = 0,
    due: date | None = date(2024, 3, 1),
    created: date = date(2024, 1, 1),
) -> OpenClaim:
    return OpenClaim(
        claim=pk, principal=kr(principal), fees=kr(fees), due_date=due, created_on=created
    )


def lines(*triples: tuple[int, Component, int]) -> tuple[CoverageLine, ...]:
    return tuple(CoverageLine(c, comp, kr(a)) for c, comp, a in triples)


def test_one_claim_paid_in_full_fees_first() -> None:
    plan = plan_allocation([claim(1, 10_000, fees=10_000)], kr(20_000))
    assert plan.lines == lines((1, FEES, 10_000), (1, PRINCIPAL, 10_000))
    assert plan.remainder == kr(0)
    assert plan.due == kr(20_000)
    assert plan.covered == kr(20_000)


def test_partial_payment_goes_to_fees_before_principal() -> None:
    plan = plan_allocation([claim(1, 10_000, fees=3_000)], kr(5_000))
    assert plan.lines == lines((1, FEES, 3_000), (1, PRINCIPAL, 2_000))
    assert plan.remainder == kr(0)


def test_partial_payment_smaller_than_the_fees_covers_fees_only() -> None:
    plan = plan_allocation([claim(1, 10_000, fees=3_000)], kr(1_000))
    assert plan.lines == lines((1, FEES, 1_000))


def test_oldest_due_date_first_whatever_the_input_order() -> None:
    late = claim(1, 5_000, due=date(2024, 5, 1))
    early = claim(2, 5_000, due=date(2024, 4, 1))
    plan = plan_allocation([late, early], kr(7_000))
    assert plan.lines == lines((2, PRINCIPAL, 5_000), (1, PRINCIPAL, 2_000))


def test_no_due_date_goes_last() -> None:
    undated = claim(1, 5_000, due=None, created=date(2023, 1, 1))
    dated = claim(2, 5_000, due=date(2030, 1, 1))
    plan = plan_allocation([undated, dated], kr(5_000))
    assert plan.lines == lines((2, PRINCIPAL, 5_000))


def test_same_due_date_oldest_created_then_claim_id() -> None:
    newer = claim(1, 1_000, created=date(2024, 2, 1))
    older_b = claim(3, 1_000, created=date(2024, 1, 1))
    older_a = claim(2, 1_000, created=date(2024, 1, 1))
    plan = plan_allocation([newer, older_b, older_a], kr(2_500))
    assert plan.lines == lines((2, PRINCIPAL, 1_000), (3, PRINCIPAL, 1_000), (1, PRINCIPAL, 500))


def test_fees_of_a_later_claim_wait_for_the_earlier_claim() -> None:
    first = claim(1, 4_000, due=date(2024, 1, 1))
    second = claim(2, 4_000, fees=1_000, due=date(2024, 2, 1))
    plan = plan_allocation([second, first], kr(4_500))
    assert plan.lines == lines((1, PRINCIPAL, 4_000), (2, FEES, 500))


def test_overpayment_leaves_a_remainder() -> None:
    plan = plan_allocation([claim(1, 10_000), claim(2, 2_000, fees=500)], kr(15_000))
    assert plan.lines == lines((1, PRINCIPAL, 10_000), (2, FEES, 500), (2, PRINCIPAL, 2_000))
    assert plan.remainder == kr(2_500)
    assert plan.due == kr(12_500)


def test_nothing_to_pay_is_all_remainder() -> None:
    plan = plan_allocation([], kr(5_000))
    assert plan.lines == ()
    assert plan.remainder == kr(5_000)
    assert plan.due == kr(0)


def test_settled_and_negative_claims_get_nothing_and_owe_nothing() -> None:
    settled = claim(1, 0, due=date(2024, 1, 1))
    in_credit = claim(2, -1_000, due=date(2024, 1, 2))
    owing = claim(3, 2_000, due=date(2024, 1, 3))
    plan = plan_allocation([settled, in_credit, owing], kr(3_000))
    assert plan.lines == lines((3, PRINCIPAL, 2_000))
    assert plan.remainder == kr(1_000)
    assert plan.due == kr(2_000)


def test_negative_fees_are_not_covered_the_balance_is() -> None:
    # fees below zero (a correction): the whole balance comes from the principal
    plan = plan_allocation([claim(1, 5_000, fees=-1_000)], kr(10_000))
    assert plan.lines == lines((1, PRINCIPAL, 4_000))
    assert plan.remainder == kr(6_000)


def test_due_counts_claims_after_the_money_ran_out() -> None:
    plan = plan_allocation([claim(1, 3_000), claim(2, 4_000)], kr(1_000))
    assert plan.lines == lines((1, PRINCIPAL, 1_000))
    assert plan.due == kr(7_000)


def test_per_claim_sums_the_components_in_payment_order() -> None:
    plan = plan_allocation(
        [claim(2, 1_000, fees=200, due=date(2024, 1, 1)), claim(1, 500)], kr(1_400)
    )
    assert list(plan.per_claim().items()) == [
        (2, (kr(200), kr(1_000))),
        (1, (kr(0), kr(200))),
    ]


@pytest.mark.parametrize("ore", [0, -1, -10_000])
def test_zero_or_negative_payment_refused(ore: int) -> None:
    with pytest.raises(ValidationError):
        plan_allocation([claim(1, 1_000)], kr(ore))


_claims = st.lists(
    st.builds(
        claim,
        pk=st.integers(1, 10_000),
        principal=st.integers(-5_000, 50_000),
        fees=st.integers(-2_000, 10_000),
        due=st.none() | st.dates(date(2020, 1, 1), date(2026, 12, 31)),
        created=st.dates(date(2020, 1, 1), date(2026, 12, 31)),
    ),
    max_size=8,
    unique_by=lambda c: c.claim,
)


@given(claims=_claims, payment=st.integers(1, 200_000))
def test_plan_accounts_for_every_ore(claims: list[OpenClaim], payment: int) -> None:
    plan = plan_allocation(claims, kr(payment))
    by_id = {c.claim: c for c in claims}
    assert sum(line.amount.ore for line in plan.lines) + plan.remainder.ore == payment
    assert plan.remainder.ore >= 0
    for line in plan.lines:
        assert line.amount.ore > 0
        owner = by_id[line.claim]
        limit = owner.fees if line.component is FEES else owner.balance
        assert line.amount <= limit
        if line.component is PRINCIPAL:
            assert line.amount <= owner.principal
    for pk, (fees, principal) in plan.per_claim().items():
        assert fees + principal <= by_id[pk].balance
    due = sum(max(c.principal.ore + c.fees.ore, 0) for c in claims)
    assert plan.due.ore == due
    # a remainder only when every claim is paid in full
    if plan.remainder.ore > 0:
        assert plan.covered.ore == due
