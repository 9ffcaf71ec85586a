"""Money: construction, parsing, arithmetic, display and allocation."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fbs_debitor.core.errors import ValidationError
from fbs_debitor.core.money import Money, allocate, format_dkk, round_to_ore

ore_values = st.integers(min_value=-(10**15), max_value=10**15)


# -- construction -------------------------------------------------------------------------------


def test_constructor_takes_int_ore() -> None:
    assert Money(ore=1250).ore == 1250
    assert Money(1250) == Money(ore=1250)


@pytest.mark.parametrize("bad", [True, False, 12.5, 12.0, Decimal("12"), "1250", None])
def test_constructor_refuses_non_int(bad: Any) -> None:
    with pytest.raises(TypeError):
        Money(ore=bad)


def test_money_is_immutable_and_hashable() -> None:
    m = Money(ore=100)
    with pytest.raises(AttributeError):
        m.ore = 5  # type: ignore[misc]
    assert {Money(ore=100), Money(ore=100), Money(ore=200)} == {Money(ore=100), Money(ore=200)}
    assert repr(m) == "Money(ore=100)"


def test_zero() -> None:
    assert Money.zero() == Money(ore=0)
    assert Money.zero().is_zero()


def test_of_accepts_kroner_as_str_and_decimal() -> None:
    assert Money.of("12,50") == Money(ore=1250)
    assert Money.of(Decimal("12.50")) == Money(ore=1250)
    assert Money.of(Decimal("-0.01")) == Money(ore=-1)


@pytest.mark.parametrize("bad", [1250, 12.5, True])
def test_of_refuses_int_and_float(bad: Any) -> None:
    with pytest.raises(TypeError, match=r"Money\(ore=\.\.\.\)"):
        Money.of(bad)


# -- parse --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ore"),
    [
        ("12,50", 1250),
        ("12.50", 1250),
        ("1.234,50", 123450),
        ("1,234.50", 123450),
        ("1 234,50", 123450),
        ("1\u00a0234,50", 123450),
        ("1.234.567,89", 123456789),
        ("1.234.567", 123456700),
        ("1234.5", 123450),
        ("1234,5", 123450),
        ("-3,00", -300),
        ("+3,00", 300),
        ("\u22123,00", -300),
        ("12", 1200),
        ("0", 0),
        ("-0,00", 0),
        ("007", 700),
        (",50", 50),
        (".5", 50),
        ("0.500", 50),
        ("0,050", 5),
        ("1234.500", 123450),
        ("12,5000", 1250),
        ("1.234,500", 123450),
        (" 12,50 kr.", 1250),
        ("kr 12,50", 1250),
        ("kr. 12,50", 1250),
        ("KR 12,50", 1250),
        ("DKK 12,50", 1250),
        ("12,50 DKK", 1250),
        ("12,50kr", 1250),
        ("-12,50 kr.", -1250),
        ("kr -12,50", -1250),
        ("-kr. 12,50", -1250),
        ("1.234,50\u00a0kr.", 123450),
        ("\t12,50\n", 1250),
    ],
)
def test_parse_accepts(text: str, ore: int) -> None:
    assert Money.parse(text) == Money(ore=ore)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "kr.",
        "abc",
        "12,505",  # 3 decimals, and ambiguous
        "1,2345",  # 4 decimals, not all zeros beyond the 2nd
        "0,001",
        "1.000",  # ambiguous: one thousand (Danish) or one krone (English)?
        "12,500",  # ambiguous the other way round
        "12.",
        "12,",
        ".",
        "1..2",
        "1.23.456",
        "12.3.4",
        "1.2345,00",
        "1.234.56,00",
        "1,234.567,8",
        "1 23,00",
        "--1",
        "-+1",
        "- kr -1",
        "kr 1 kr",
        "1e3",
        "12,50 EUR",
        "١٢",  # Arabic-Indic digits are not accepted
        "1" * 70,
    ],
)
def test_parse_refuses(text: str) -> None:
    with pytest.raises(ValidationError) as info:
        Money.parse(text)
    assert info.value.code == "invalid-amount"


def test_parse_explains_ambiguity() -> None:
    with pytest.raises(ValidationError, match="ambiguous"):
        Money.parse("1.000")
    with pytest.raises(ValidationError, match="more than 2 decimals"):
        Money.parse("1,2345")


def test_parse_refuses_non_str() -> None:
    with pytest.raises(TypeError):
        Money.parse(12)  # type: ignore[arg-type]


# -- from_decimal / round_to_ore / from_json_number ----------------------------------------------


def test_from_decimal_exact() -> None:
    assert Money.from_decimal(Decimal("12.5")) == Money(ore=1250)
    assert Money.from_decimal(Decimal("12.500")) == Money(ore=1250)
    assert Money.from_decimal(Decimal("1E+3")) == Money(ore=100000)
    assert Money.from_decimal(Decimal("-0.07")) == Money(ore=-7)
    assert Money.from_decimal(Decimal("123456789012345678901234567890.12")) == Money(
        ore=12345678901234567890123456789012
    )


def test_from_decimal_refuses_sub_ore_without_rounding() -> None:
    with pytest.raises(ValidationError, match="rounding=") as info:
        Money.from_decimal(Decimal("12.505"))
    assert info.value.code == "invalid-amount"


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_from_decimal_refuses_non_finite(bad: Decimal) -> None:
    with pytest.raises(ValidationError):
        Money.from_decimal(bad)


@pytest.mark.parametrize("bad", [12, 12.5, "12.50"])
def test_from_decimal_refuses_non_decimal(bad: Any) -> None:
    with pytest.raises(TypeError):
        Money.from_decimal(bad)


@pytest.mark.parametrize(
    ("value", "mode", "ore"),
    [
        ("12.505", ROUND_HALF_UP, 1251),
        ("12.504", ROUND_HALF_UP, 1250),
        ("-12.505", ROUND_HALF_UP, -1251),
        ("12.505", ROUND_HALF_EVEN, 1250),
        ("12.515", ROUND_HALF_EVEN, 1252),
        ("12.509", ROUND_DOWN, 1250),
    ],
)
def test_from_decimal_with_rounding(value: str, mode: str, ore: int) -> None:
    assert Money.from_decimal(Decimal(value), rounding=mode) == Money(ore=ore)


def test_round_to_ore() -> None:
    assert round_to_ore(Decimal("0.005")) == Decimal("0.01")
    assert round_to_ore(Decimal("-0.005")) == Decimal("-0.01")
    assert str(round_to_ore(Decimal("7"))) == "7.00"
    assert str(round_to_ore(Decimal("2.675"), ROUND_HALF_EVEN)) == "2.68"
    assert str(round_to_ore(Decimal("1" * 40 + ".555"))) == "1" * 40 + ".56"
    with pytest.raises(TypeError):
        round_to_ore(0.005)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("number", "ore"),
    [
        (12, 1200),
        (0, 0),
        (12.5, 1250),
        (0.1, 10),
        (0.3, 30),
        (1234.56, 123456),
        (-19.99, -1999),
        (1e3, 100000),
        (Decimal("12.50"), 1250),
    ],
)
def test_from_json_number(number: float | Decimal, ore: int) -> None:
    assert Money.from_json_number(number) == Money(ore=ore)


def test_from_json_number_refuses_sub_ore_nan_and_bool() -> None:
    with pytest.raises(ValidationError):
        Money.from_json_number(0.125)
    assert Money.from_json_number(0.125, rounding=ROUND_HALF_UP) == Money(ore=13)
    with pytest.raises(ValidationError):
        Money.from_json_number(float("nan"))
    with pytest.raises(ValidationError):
        Money.from_json_number(float("inf"))
    with pytest.raises(TypeError):
        Money.from_json_number(True)
    with pytest.raises(TypeError):
        Money.from_json_number("12.50")  # type: ignore[arg-type]


# -- arithmetic and comparison ------------------------------------------------------------------


def test_arithmetic() -> None:
    a, b = Money(ore=1250), Money(ore=300)
    assert a + b == Money(ore=1550)
    assert a - b == Money(ore=950)
    assert b - a == Money(ore=-950)
    assert -a == Money(ore=-1250)
    assert abs(Money(ore=-1250)) == a
    assert a * 3 == Money(ore=3750)
    assert 3 * a == Money(ore=3750)
    assert a * 0 == Money.zero()
    assert a * -1 == -a


@pytest.mark.parametrize("other", [1, 1.5, Decimal("1"), "1"])
def test_add_and_sub_take_money_only(other: Any) -> None:
    with pytest.raises(TypeError):
        Money(ore=1) + other
    with pytest.raises(TypeError):
        Money(ore=1) - other
    with pytest.raises(TypeError):
        other + Money(ore=1)


@pytest.mark.parametrize("factor", [1.5, True, Decimal("2"), Money(ore=2)])
def test_mul_takes_int_only(factor: Any) -> None:
    with pytest.raises(TypeError):
        Money(ore=1) * factor
    with pytest.raises(TypeError):
        factor * Money(ore=1)


def test_comparisons() -> None:
    assert Money(ore=1) < Money(ore=2) <= Money(ore=2) < Money(ore=3)
    assert Money(ore=-5) < Money.zero()
    assert max(Money(ore=3), Money(ore=7), Money(ore=-1)) == Money(ore=7)
    assert sorted([Money(ore=3), Money(ore=-1), Money(ore=2)]) == [
        Money(ore=-1),
        Money(ore=2),
        Money(ore=3),
    ]
    plain_int: object = 100
    assert Money(ore=100) != plain_int
    with pytest.raises(TypeError):
        _ = Money(ore=1) < 2  # type: ignore[operator]


def test_truthiness_and_sign() -> None:
    assert not Money.zero()
    assert Money(ore=1)
    assert Money(ore=-1)
    assert Money(ore=5).is_positive()
    assert not Money(ore=5).is_negative()
    assert Money(ore=-5).is_negative()
    assert not Money.zero().is_positive()
    assert not Money.zero().is_negative()


def test_sum() -> None:
    assert Money.sum([]) == Money.zero()
    assert Money.sum([Money(ore=1), Money(ore=2), Money(ore=-4)]) == Money(ore=-1)
    assert Money.sum(Money(ore=i) for i in range(5)) == Money(ore=10)
    with pytest.raises(TypeError):
        Money.sum([Money(ore=1), 2])  # type: ignore[list-item]


# -- ways out -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ore", "decimal_text", "json_text"),
    [
        (0, "0.00", "0.00"),
        (1, "0.01", "0.01"),
        (-1, "-0.01", "-0.01"),
        (1250, "12.50", "12.50"),
        (-1250, "-12.50", "-12.50"),
        (123450, "1234.50", "1234.50"),
        (100000000, "1000000.00", "1000000.00"),
    ],
)
def test_to_decimal_and_json_str(ore: int, decimal_text: str, json_text: str) -> None:
    m = Money(ore=ore)
    assert str(m.to_decimal()) == decimal_text
    assert m.to_decimal().as_tuple().exponent == -2
    assert m.to_json_str() == json_text


@pytest.mark.parametrize(
    ("ore", "with_symbol", "without_symbol"),
    [
        (123450, "1.234,50 kr.", "1.234,50"),
        (-1250, "-12,50 kr.", "-12,50"),
        (0, "0,00 kr.", "0,00"),
        (5, "0,05 kr.", "0,05"),
        (-1, "-0,01 kr.", "-0,01"),
        (2000, "20,00 kr.", "20,00"),
        (123456789, "1.234.567,89 kr.", "1.234.567,89"),
        (100000000000, "1.000.000.000,00 kr.", "1.000.000.000,00"),
    ],
)
def test_format_dkk_exact(ore: int, with_symbol: str, without_symbol: str) -> None:
    m = Money(ore=ore)
    assert format_dkk(m) == with_symbol
    assert format_dkk(m, symbol=True) == with_symbol
    assert format_dkk(m, symbol=False) == without_symbol
    assert str(m) == with_symbol
    assert f"{m}" == with_symbol


def test_format_dkk_uses_plain_ascii_space() -> None:
    text = format_dkk(Money(ore=123450))
    assert text.isascii()
    assert text[-4] == " "
    assert "\u00a0" not in text


# -- allocate -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "weights", "shares"),
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (-100, [1, 1, 1], [-34, -33, -33]),
        (100, [1], [100]),
        (100, [0, 1], [0, 100]),
        (0, [1, 2], [0, 0]),
        (1000, [1, 2, 7], [100, 200, 700]),
        (5, [3, 3, 3, 3], [2, 1, 1, 1]),
        (10, [1, 1, 2], [3, 2, 5]),
        (7, [2, 1, 1, 3], [2, 1, 1, 3]),
        (101, [50, 50], [51, 50]),
        (2, [1, 1, 1, 1, 1], [1, 1, 0, 0, 0]),
        (100, [3, 7], [30, 70]),
        (1, [1, 3], [0, 1]),
    ],
)
def test_allocate_examples(total: int, weights: list[int], shares: list[int]) -> None:
    assert allocate(Money(ore=total), weights) == [Money(ore=s) for s in shares]


@pytest.mark.parametrize("weights", [[], [0], [0, 0], [1, -1], [-1, 2]])
def test_allocate_refuses_bad_weights(weights: list[int]) -> None:
    with pytest.raises(ValidationError) as info:
        allocate(Money(ore=100), weights)
    assert info.value.code == "invalid-allocation"


def test_allocate_refuses_non_int_weights() -> None:
    with pytest.raises(TypeError):
        allocate(Money(ore=100), [1.5, 1])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        allocate(Money(ore=100), [True, 1])


# -- properties ---------------------------------------------------------------------------------


@given(ore_values)
def test_format_parse_round_trip(ore: int) -> None:
    m = Money(ore=ore)
    assert Money.parse(format_dkk(m)) == m
    assert Money.parse(format_dkk(m, symbol=False)) == m
    assert Money.parse(m.to_json_str()) == m
    assert Money.parse(str(m.to_decimal())) == m
    assert Money.of(m.to_decimal()) == m
    if abs(ore) < 10**13:  # 13 significant digits survive a float round trip
        assert Money.from_json_number(float(m.to_json_str())) == m


@given(ore_values, st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12))
def test_allocate_sums_to_total(ore: int, weights: list[int]) -> None:
    if sum(weights) == 0:
        weights = [*weights, 1]
    total = Money(ore=ore)
    shares = allocate(total, weights)
    assert len(shares) == len(weights)
    assert Money.sum(shares) == total
    weight_sum = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        exact = abs(ore) * weight / weight_sum
        assert abs(abs(share.ore) - exact) < 1 + 1e-9 * max(1.0, exact)
        assert share.ore == 0 or (share.ore < 0) == (ore < 0)


@given(ore_values, ore_values, st.integers(min_value=-1000, max_value=1000))
def test_arithmetic_matches_int(a: int, b: int, k: int) -> None:
    ma, mb = Money(ore=a), Money(ore=b)
    assert (ma + mb).ore == a + b
    assert (ma - mb).ore == a - b
    assert (ma * k).ore == a * k
    assert (ma < mb) == (a < b)
    assert (ma == mb) == (a == b)


@given(st.integers(min_value=-(10**60), max_value=10**60))
def test_format_dkk_of_any_size_groups_every_digit(ore: int) -> None:
    """babel quantizes within the decimal context: an amount of 40 digits must still format
    (the API formats what a user typed into its error messages), digit for digit."""
    kroner, rest = divmod(abs(ore), 100)
    digits = str(kroner)
    groups = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    expected = ("-" if ore < 0 else "") + ".".join(groups) + f",{rest:02d}"
    assert format_dkk(Money(ore), symbol=False) == expected
