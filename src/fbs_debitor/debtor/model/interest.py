"""Interest on public claims (gebyrloven § 3): 1 % per started month from the due date, on the
principal only, never on interest (nor on reminder fees). Pure."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal

from fbs_debitor.core.money import Money, round_to_ore
from fbs_debitor.debtor.model.rules import INTEREST_PERMILLE_PER_MONTH


def started_months(due_date: date, on: date) -> int:
    """Calendar months begun after ``due_date`` up to and including ``on``.

    Due 16 March: on 16 March none, on 17 March one, on 16 April still one, on 17 April two.
    A due date at a month's end counts from that day (due 31 January: 28 February is the end of
    the first month on a non-leap year, 1 March starts the second).
    """
    if on <= due_date:
        return 0
    months = (on.year - due_date.year) * 12 + (on.month - due_date.month)
    # the day of month the period turns on; clamp to the month's length
    last = calendar.monthrange(on.year, on.month)[1]
    turn = min(due_date.day, last)
    if on.day > turn:
        months += 1
    return months


def interest_due(principal: Money, due_date: date, on: date) -> Money:
    """Total interest a principal has earned from ``due_date`` up to ``on`` (rounded to the øre,
    half up). The dunning run posts the difference to what was posted before."""
    if principal.ore <= 0:
        return Money.zero()
    months = started_months(due_date, on)
    amount = Decimal(principal.ore) * months * INTEREST_PERMILLE_PER_MONTH / Decimal(1000)
    return Money(int(round_to_ore(amount / 100) * 100))
