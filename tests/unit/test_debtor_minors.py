"""Who needs a guardian (pure): a person under 18 on the day, by the CPR number's birth date.
Every expected age here is counted by hand."""

from __future__ import annotations

from datetime import date

import pytest

from fbs_debitor.core.ids import Cpr, Cvr
from fbs_debitor.debtor.model.minors import age_on, needs_guardian


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2008, 3, 2), date(2026, 3, 1), 17),
        (date(2008, 3, 2), date(2026, 3, 2), 18),  # the birthday itself
        (date(2010, 6, 15), date(2026, 3, 2), 15),
        (date(2008, 2, 29), date(2026, 2, 28), 17),  # leap-day birth: 18 from 1 March
        (date(2008, 2, 29), date(2026, 3, 1), 18),
        (date(2008, 2, 29), date(2028, 2, 29), 20),
        (date(2030, 1, 1), date(2026, 3, 2), -4),  # not born yet: a minor too
    ],
)
def test_age_on(born: date, on: date, age: int) -> None:
    assert age_on(born, on) == age


@pytest.mark.parametrize(
    ("number", "on", "minor"),
    [
        ("0303084123", date(2026, 3, 2), True),  # born 3 March 2008 (7th digit 4: 2000s)
        ("0203084123", date(2026, 3, 2), False),  # born 2 March 2008: 18 today
        ("0103084123", date(2026, 3, 2), False),  # 18 yesterday
        ("0303081234", date(2026, 3, 2), False),  # 7th digit 1: born 1908
        ("0303085123", date(2026, 3, 2), True),  # 7th digit 5, year 08: 2008
        ("0303585123", date(2026, 3, 2), False),  # 7th digit 5, year 58: 1858
        ("1501729995", date(2026, 3, 2), False),  # fails modulus 11: still a CPR, of age
    ],
)
def test_needs_guardian_by_the_cpr_birth_date(number: str, on: date, minor: bool) -> None:
    assert needs_guardian(Cpr.parse(number), on) is minor


def test_a_company_never_needs_a_guardian() -> None:
    assert needs_guardian(Cvr.parse("13585628"), date(2026, 3, 2)) is False
