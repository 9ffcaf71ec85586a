"""Interest on public claims (gebyrloven § 3): 1 % per started month from the due date, on the
principal only, never on interest (nor on reminder fees). Pure.

Each started month is charged on the principal that was **outstanding when the month began**
(:func:`interest_on_history`): a payment made before a month began, by its own date, spares that
month's interest on what it paid, whenever it reached debtor; a write-up counts from its own day,
not backwards."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date
from functools import lru_cache

from fbs_debitor.core.money import Money
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


@lru_cache(maxsize=4096)
def _months(due_date: date, on: date) -> int:
    return started_months(due_date, on)


def interest_for(principal_ore: int, due_date: date, on: date) -> int:
    """Total interest in øre a principal of ``principal_ore`` has earned from ``due_date`` up to
    ``on``: 1 % per started month, rounded half up to the øre; 0 for a principal of 0 or less.

    The one implementation of the rule: the dunning run (for every public claim, hence integer
    arithmetic and cached months), :func:`interest_due` and the guard all go through it."""
    if principal_ore <= 0:
        return 0
    per_mille = _months(due_date, on) * INTEREST_PERMILLE_PER_MONTH
    return (2 * principal_ore * per_mille + 1000) // 2000


def interest_due(principal: Money, due_date: date, on: date) -> Money:
    """:func:`interest_for` as Money. The dunning run posts the difference to what was posted
    before; the guard checks that no claim carries more."""
    return Money(ore=interest_for(principal.ore, due_date, on))


def month_turns(due_date: date, months: int) -> list[date]:
    """The last day before each of the first ``months`` months begins: the due date itself, then
    the same day of each following month (clamped to the month's length, as
    :func:`started_months` counts)."""
    out: list[date] = []
    for k in range(months):
        year, month = divmod(due_date.month - 1 + k, 12)
        year += due_date.year
        month += 1
        last = calendar.monthrange(year, month)[1]
        out.append(date(year, month, min(due_date.day, last)))
    return out


def interest_on_history(
    due_date: date, on: date, principal_changes: Iterable[tuple[date, int]]
) -> int:
    """Total interest in øre owed up to ``on``: for every month started after ``due_date``, 1 %
    of the principal outstanding at the end of the day before it began (the sum of the
    ``(effective date, øre)`` changes up to then, at least 0), the total rounded half up once.
    With an unchanged principal it equals :func:`interest_for`."""
    months = _months(due_date, on)
    if months == 0:
        return 0
    changes = sorted(principal_changes)
    total_permille_ore = 0
    principal, i = 0, 0
    for turn in month_turns(due_date, months):
        while i < len(changes) and changes[i][0] <= turn:
            principal += changes[i][1]
            i += 1
        total_permille_ore += max(principal, 0) * INTEREST_PERMILLE_PER_MONTH
    return (2 * total_permille_ore + 1000) // 2000
