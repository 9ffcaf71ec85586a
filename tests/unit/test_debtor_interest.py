"""Interest: 1 % per started month from the due date, on principal only, to the øre."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fbs_debitor.core.money import Money
from fbs_debitor.debtor.model.interest import interest_due, started_months

DUE = date(2026, 3, 16)


@pytest.mark.parametrize(
    ("on", "months"),
    [
        (date(2026, 3, 10), 0),
        (date(2026, 3, 16), 0),
        (date(2026, 3, 17), 1),
        (date(2026, 4, 16), 1),
        (date(2026, 4, 17), 2),
        (date(2027, 3, 16), 12),
        (date(2027, 3, 17), 13),
    ],
)
def test_started_months(on: date, months: int) -> None:
    assert started_months(DUE, on) == months


def test_month_end_due_dates() -> None:
    assert started_months(date(2026, 1, 31), date(2026, 2, 28)) == 1
    assert started_months(date(2026, 1, 31), date(2026, 3, 1)) == 2
    assert started_months(date(2028, 1, 31), date(2028, 2, 29)) == 1  # leap year


def test_interest_to_the_ore() -> None:
    assert interest_due(Money(12000), DUE, date(2026, 3, 17)) == Money(120)
    assert interest_due(Money(12345), DUE, date(2026, 5, 1)) == Money(247)  # 246.9 -> 247
    assert interest_due(Money(12325), DUE, date(2026, 3, 20)) == Money(123)  # 123.25 -> 123
    assert interest_due(Money(12350), DUE, date(2026, 3, 20)) == Money(
        124
    )  # 123.5 -> 124 (half up)
    assert interest_due(Money(0), DUE, date(2027, 1, 1)) == Money(0)
    assert interest_due(Money(20000), DUE, DUE) == Money(0)


@given(
    st.integers(min_value=1, max_value=10_000_000),
    st.integers(min_value=0, max_value=2000),
    st.integers(min_value=0, max_value=60),
)
def test_interest_never_decreases_and_is_simple(principal: int, day: int, more: int) -> None:
    on = DUE + timedelta(days=day)
    later = on + timedelta(days=more)
    a = interest_due(Money(principal), DUE, on)
    b = interest_due(Money(principal), DUE, later)
    assert b >= a
    months = started_months(DUE, later)
    # simple interest: never more than 1 % of the principal per started month, plus rounding
    assert b.ore <= principal * months // 100 + 1
