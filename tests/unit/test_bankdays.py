"""Danish bank days."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fbs_debitor.core.bankdays import (
    add_bank_days,
    bank_closing_days,
    bank_days_between,
    easter_sunday,
    is_bank_day,
    next_bank_day,
    previous_bank_day,
)

# Danmarks Nationalbank, "Banklukkedage" (nationalbanken.dk), weekday closing days as published.
NATIONALBANKEN_2026 = [
    date(2026, 1, 1),  # Nytårsdag
    date(2026, 4, 2),  # Skærtorsdag
    date(2026, 4, 3),  # Langfredag
    date(2026, 4, 6),  # 2. påskedag
    date(2026, 5, 14),  # Kristi himmelfartsdag
    date(2026, 5, 15),  # Banklukkedag
    date(2026, 5, 25),  # 2. pinsedag
    date(2026, 6, 5),  # Banklukkedag (Grundlovsdag)
    date(2026, 12, 24),  # Juleaftensdag
    date(2026, 12, 25),  # Juledag
    date(2026, 12, 26),  # 2. juledag (a Saturday)
    date(2026, 12, 31),  # Banklukkedag
]
NATIONALBANKEN_2027 = [
    date(2027, 1, 1),
    date(2027, 3, 25),
    date(2027, 3, 26),
    date(2027, 3, 29),
    date(2027, 5, 6),
    date(2027, 5, 7),
    date(2027, 5, 17),
    date(2027, 6, 5),  # a Saturday
    date(2027, 12, 24),
    date(2027, 12, 31),
]


def _closed_days(year: int) -> set[date]:
    day, closed = date(year, 1, 1), set()
    while day.year == year:
        if not is_bank_day(day):
            closed.add(day)
        day += timedelta(days=1)
    return closed


def _weekends(year: int) -> set[date]:
    return {d for d in _all_days(year) if d.weekday() >= 5}


def _all_days(year: int) -> list[date]:
    start = date(year, 1, 1)
    return [start + timedelta(days=i) for i in range((date(year + 1, 1, 1) - start).days)]


@pytest.mark.parametrize(
    "closed",
    [
        date(2026, 6, 5),  # Constitution Day (Friday)
        date(2026, 12, 24),
        date(2026, 12, 25),
        date(2026, 12, 26),
        date(2026, 12, 31),
        date(2027, 1, 1),
        date(2026, 4, 2),  # Maundy Thursday
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 5),  # Easter Sunday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 14),  # Ascension Day
        date(2026, 5, 15),  # the day after Ascension
        date(2026, 5, 24),  # Whit Sunday
        date(2026, 5, 25),  # Whit Monday
        date(2023, 5, 5),  # Store Bededag 2023, the last one
        date(2026, 3, 7),  # Saturday
        date(2026, 3, 8),  # Sunday
    ],
)
def test_closed_days(closed: date) -> None:
    assert not is_bank_day(closed)


@pytest.mark.parametrize(
    "open_day",
    [
        date(2026, 3, 4),  # a normal Wednesday
        date(2024, 4, 26),  # would have been Store Bededag; abolished from 2024
        date(2026, 5, 1),  # 1 May is a bank day (holidays' "optional" category lists it)
        date(2026, 4, 1),  # Wednesday before Easter
        date(2026, 4, 7),  # Tuesday after Easter
        date(2026, 5, 13),  # Wednesday before Ascension
        date(2026, 5, 26),  # Tuesday after Whitsun
        date(2026, 6, 4),
        date(2026, 12, 23),
        date(2026, 12, 28),
        date(2026, 12, 30),
        date(2027, 1, 4),
    ],
)
def test_open_days(open_day: date) -> None:
    assert is_bank_day(open_day)


def test_store_bededag_holidays_package_behaviour() -> None:
    """holidays 0.109 lists Store Bededag up to 2023 only."""
    assert date(2023, 5, 5) in holidays.country_holidays("DK", years=2023)
    assert date(2024, 4, 26) not in holidays.country_holidays("DK", years=2024)


def test_holidays_package_keeps_bank_only_days_in_optional_category() -> None:
    """Why bankdays adds 5 June, 24/31 December itself instead of taking "optional" (1 May)."""
    public = holidays.country_holidays("DK", years=2026)
    optional = holidays.country_holidays("DK", years=2026, categories=("optional",))
    for day in (date(2026, 6, 5), date(2026, 12, 24), date(2026, 12, 31), date(2026, 5, 1)):
        assert day not in public
        assert day in optional
    assert date(2026, 5, 15) not in public
    assert date(2026, 5, 15) not in optional


@pytest.mark.parametrize(
    ("year", "published"), [(2026, NATIONALBANKEN_2026), (2027, NATIONALBANKEN_2027)]
)
def test_matches_nationalbanken_list(year: int, published: list[date]) -> None:
    assert _closed_days(year) - _weekends(year) == {d for d in published if d.weekday() < 5}
    assert set(published) <= bank_closing_days(year)


def test_bank_closing_days_2026_exactly() -> None:
    assert sorted(bank_closing_days(2026)) == [
        date(2026, 1, 1),
        date(2026, 4, 2),
        date(2026, 4, 3),
        date(2026, 4, 5),
        date(2026, 4, 6),
        date(2026, 5, 14),
        date(2026, 5, 15),
        date(2026, 5, 24),
        date(2026, 5, 25),
        date(2026, 6, 5),
        date(2026, 12, 24),
        date(2026, 12, 25),
        date(2026, 12, 26),
        date(2026, 12, 31),
    ]


def test_store_bededag_in_closing_days_only_before_2024() -> None:
    assert date(2023, 5, 5) in bank_closing_days(2023)
    assert date(2023, 5, 19) in bank_closing_days(2023)  # day after Ascension 2023
    assert date(2024, 4, 26) not in bank_closing_days(2024)
    assert len(bank_closing_days(2023)) == len(bank_closing_days(2024)) + 1


def test_easter_sunday_matches_holidays_package() -> None:
    for year in range(1900, 2101):
        assert easter_sunday(year) in holidays.country_holidays("DK", years=year)
    assert easter_sunday(2026) == date(2026, 4, 5)
    assert easter_sunday(2027) == date(2027, 3, 28)


def test_years_outside_holidays_package_are_refused() -> None:
    with pytest.raises(ValueError, match="2101"):
        is_bank_day(date(2101, 1, 3))
    assert is_bank_day(date(2100, 12, 30))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 12, 24), date(2026, 12, 28)),
        (date(2026, 12, 31), date(2027, 1, 4)),
        (date(2026, 4, 2), date(2026, 4, 7)),
        (date(2026, 5, 14), date(2026, 5, 18)),
        (date(2026, 6, 5), date(2026, 6, 8)),
        (date(2026, 3, 7), date(2026, 3, 9)),
        (date(2026, 3, 4), date(2026, 3, 4)),
    ],
)
def test_next_bank_day(day: date, expected: date) -> None:
    assert next_bank_day(day) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 12, 28), date(2026, 12, 28)),
        (date(2026, 12, 27), date(2026, 12, 23)),
        (date(2027, 1, 1), date(2026, 12, 30)),
        (date(2026, 4, 6), date(2026, 4, 1)),
    ],
)
def test_previous_bank_day(day: date, expected: date) -> None:
    assert previous_bank_day(day) == expected


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (date(2026, 3, 4), 0, date(2026, 3, 4)),
        (date(2026, 3, 7), 0, date(2026, 3, 7)),  # 0 leaves even a Saturday alone
        (date(2026, 3, 4), 1, date(2026, 3, 5)),
        (date(2026, 3, 6), 1, date(2026, 3, 9)),  # Friday + 1 = Monday
        (date(2026, 3, 7), 1, date(2026, 3, 9)),  # Saturday + 1 = Monday
        (date(2026, 3, 4), 5, date(2026, 3, 11)),
        (date(2026, 12, 23), 1, date(2026, 12, 28)),
        (date(2026, 12, 23), 3, date(2026, 12, 30)),
        (date(2026, 12, 23), 4, date(2027, 1, 4)),
        (date(2026, 4, 1), 1, date(2026, 4, 7)),
        (date(2026, 5, 13), 1, date(2026, 5, 18)),
        (date(2026, 3, 9), -1, date(2026, 3, 6)),
        (date(2026, 12, 28), -1, date(2026, 12, 23)),
        (date(2027, 1, 4), -4, date(2026, 12, 23)),
    ],
)
def test_add_bank_days(day: date, n: int, expected: date) -> None:
    assert add_bank_days(day, n) == expected


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        (date(2026, 3, 4), date(2026, 3, 4), 0),
        (date(2026, 3, 4), date(2026, 3, 5), 1),
        (date(2026, 3, 6), date(2026, 3, 9), 1),
        (date(2026, 3, 6), date(2026, 3, 8), 0),
        (date(2026, 12, 23), date(2027, 1, 4), 4),
        (date(2027, 1, 4), date(2026, 12, 23), -4),
        (date(2026, 1, 1), date(2027, 1, 1), 250),
    ],
)
def test_bank_days_between(start: date, end: date, count: int) -> None:
    assert bank_days_between(start, end) == count


def test_bank_days_in_2026() -> None:
    assert len(_all_days(2026)) - len(_closed_days(2026)) == 250


days_2020s = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@given(days_2020s, st.integers(min_value=-60, max_value=60))
def test_add_bank_days_round_trips_with_between(day: date, n: int) -> None:
    target = add_bank_days(day, n)
    assert bank_days_between(day, target) == n
    if n != 0:
        assert is_bank_day(target)


@given(days_2020s)
def test_next_bank_day_is_the_first_open_day(day: date) -> None:
    result = next_bank_day(day)
    assert is_bank_day(result)
    assert result >= day
    assert all(not is_bank_day(day + timedelta(days=i)) for i in range((result - day).days))
    assert next_bank_day(result) == result
    assert result - day <= timedelta(days=5)
