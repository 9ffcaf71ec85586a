"""Cash rounding at the till (decision 0014) against two independent references: the rule as
Danmarks Nationalbank words it (the øre of the amount: 1-24 down to 0, 25-74 to 50, 75-99 up to
the next krone), and Decimal half-up rounding to a multiple of 0,50 kr."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fbs_debitor.core.money import Money
from fbs_debitor.payments.model import cash_rounded


def by_the_rule(ore: int) -> int:
    kroner, rest = divmod(ore, 100)
    if rest <= 24:
        return kroner * 100
    if rest <= 74:
        return kroner * 100 + 50
    return (kroner + 1) * 100


def by_decimal(ore: int) -> int:
    halves = (Decimal(ore) / Decimal(50)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(halves) * 50


@pytest.mark.parametrize(
    ("ore", "cash"),
    [
        (1024, 1000),  # 24 øre: down
        (1025, 1050),  # 25 øre: to 50
        (1074, 1050),  # 74 øre: to 50
        (1075, 1100),  # 75 øre: up to the next krone
        (1037, 1050),
        (1012, 1000),
        (1000, 1000),
        (1050, 1050),
        (1099, 1100),
        (24, 0),
        (25, 50),
        (0, 0),
    ],
)
def test_the_boundaries(ore: int, cash: int) -> None:
    assert by_the_rule(ore) == by_decimal(ore) == cash  # the references agree with the table
    assert cash_rounded(Money(ore)) == Money(cash)


@given(st.integers(min_value=0, max_value=10**12))
def test_every_amount_as_the_rule_says(ore: int) -> None:
    rounded = cash_rounded(Money(ore)).ore
    assert rounded == by_the_rule(ore) == by_decimal(ore)
    assert -24 <= rounded - ore <= 25


def test_no_negative_amounts() -> None:
    with pytest.raises(ValueError, match="negative"):
        cash_rounded(Money(-1))
