"""Danish bank days.

A bank day is a weekday on which Danish banks settle payments. Closed are:

* Saturdays and Sundays;
* the Danish public holidays (``holidays.country_holidays("DK")``, category "public" only):
  New Year's Day, Maundy Thursday, Good Friday, Easter Sunday and Monday, Ascension Day,
  Whit Sunday and Monday, Christmas Day and Boxing Day; Store Bededag (the fourth Friday after
  Easter) only up to 2023, as it was abolished from 2024 (Act no. 214 of 6 March 2023);
* the bank closing days that are not public holidays: 5 June (Constitution Day), 24 December,
  31 December and the Friday after Ascension Day.

The ``holidays`` package lists 5 June, 24 and 31 December only in its "optional" category, which
also holds 1 May; 1 May is a bank day, so this module takes the "public" category and adds its own
closing days instead.

Due dates that fall on a closed day move to ``next_bank_day``. The result matches Danmarks
Nationalbank's published list of bank closing days ("banklukkedage"; the tests pin 2026 and 2027).

Years are supported as far as ``holidays`` knows Danish holidays (``Denmark.start_year`` to
``Denmark.end_year`` of ``holidays.countries.denmark``, 1771-2100 in holidays 0.109); outside
them a ValueError is raised rather than a wrong answer. The bank-only closing days are applied
with today's rules to every year.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays
from holidays.countries.denmark import Denmark

_SATURDAY = 5
_ONE_DAY = timedelta(days=1)
_ASCENSION_AFTER_EASTER = timedelta(days=39)


def easter_sunday(year: int) -> date:
    """Easter Sunday of ``year`` in the Gregorian calendar (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    lv = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * lv) // 451
    month, day = divmod(h + lv - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=256)
def bank_closing_days(year: int) -> frozenset[date]:
    """The weekday-independent closing days of ``year``: public holidays plus the bank-only ones.

    Weekends are not listed (they are closed anyway); a listed day may itself fall on a weekend.
    Raises ValueError for a year the ``holidays`` package does not cover.
    """
    if not Denmark.start_year <= year <= Denmark.end_year:
        raise ValueError(
            f"Danish bank days are known for {Denmark.start_year}-{Denmark.end_year}, not {year}"
        )
    public = holidays.country_holidays("DK", years=year, categories=("public",))
    days = set(public.keys())
    ascension = easter_sunday(year) + _ASCENSION_AFTER_EASTER
    days.update(
        {
            date(year, 6, 5),
            date(year, 12, 24),
            date(year, 12, 31),
            ascension + _ONE_DAY,
        }
    )
    return frozenset(days)


def is_bank_day(d: date) -> bool:
    """True if Danish banks are open on ``d`` (see the module docstring for the closed days)."""
    return d.weekday() < _SATURDAY and d not in bank_closing_days(d.year)


def next_bank_day(d: date) -> date:
    """``d`` itself if it is a bank day, else the first bank day after it."""
    while not is_bank_day(d):
        d += _ONE_DAY
    return d


def previous_bank_day(d: date) -> date:
    """``d`` itself if it is a bank day, else the last bank day before it."""
    while not is_bank_day(d):
        d -= _ONE_DAY
    return d


def add_bank_days(d: date, n: int) -> date:
    """The ``n``-th bank day after ``d`` (before it for negative ``n``); ``d`` itself for 0.

    ``d`` does not count, whether or not it is a bank day: ``add_bank_days(friday, 1)`` is the
    next Monday that is a bank day.
    """
    step = _ONE_DAY if n >= 0 else -_ONE_DAY
    remaining = abs(n)
    while remaining:
        d += step
        if is_bank_day(d):
            remaining -= 1
    return d


def bank_days_between(start: date, end: date) -> int:
    """The number of bank-day steps from ``start`` to ``end``.

    For ``end >= start``: the bank days in the half-open interval (start, end], so that
    ``bank_days_between(d, add_bank_days(d, n)) == n`` for every ``d`` and ``n``. For
    ``end < start``: minus the bank days in [end, start).
    """
    if end < start:
        return -sum(1 for i in range((start - end).days) if is_bank_day(end + timedelta(days=i)))
    return sum(
        1 for i in range(1, (end - start).days + 1) if is_bank_day(start + timedelta(days=i))
    )
