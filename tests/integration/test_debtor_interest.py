"""Interest (issue #11 item 4): 1 % per started month on the principal outstanding when each
month began, by the payments' own dates; never on fees or interest (gebyrloven § 3).

A 100 kr. library fee registered Monday 2 March 2026 is due 16 March; months begin on 17 March,
17 April, 17 May. Every expected amount below is worked out by hand.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from fbs_debitor.debtor.store.tables import write_offs
from tests.integration.debtor_billing_support import Desk


def interest(desk: Desk, claim_id: str = "a") -> int:
    return sum(ore for kind, ore, _ in desk.postings(claim_id) if kind == "interest")


def corrections(desk: Desk) -> list[int]:
    with desk.system.db.connect() as conn:
        rows = conn.execute(
            select(write_offs.c.amount_ore).where(write_offs.c.rule == "interest_correction")
        )
        return [int(r) for r in rows.scalars()]


def test_interest_runs_on_the_principal_left_after_a_payment(desk: Desk) -> None:
    desk.rules(interest_enabled=True)
    desk.register("a", 10000)
    desk.pay("bank:B1", 5000, "a", date(2026, 3, 20))
    desk.dun(date(2026, 5, 17))
    # month 1 on 100 kr. (the payment came after it began): 1 kr.; months 2 and 3 on 50 kr.
    assert interest(desk) == 100 + 50 + 50


def test_interest_never_runs_on_fees(desk: Desk) -> None:
    desk.rules(interest_enabled=True)
    desk.register("a", 10000)
    desk.dun(date(2026, 3, 30))
    desk.dun(date(2026, 4, 19))  # the 100 kr. reminder fee
    assert interest(desk) == 200  # months 1 and 2 on 100 kr.
    desk.dun(date(2026, 5, 17))
    assert interest(desk) == 300  # month 3 on the same 100 kr.: the fee bears none


FREE_REMINDER_ONLY = [{"days_after_deadline": 14, "fee_public_ore": 0, "fee_civil_ore": 0}]


def test_interest_added_before_a_late_part_payment_arrived_is_taken_back(desk: Desk) -> None:
    desk.rules(interest_enabled=True, reminder_steps=FREE_REMINDER_ONLY)
    desk.register("a", 10000)
    desk.dun(date(2026, 4, 17))  # months 1 and 2 on 100 kr.: 2 kr.
    assert interest(desk) == 200
    desk.today(date(2026, 4, 20))
    desk.pay("bank:B1", 5000, "a", date(2026, 4, 1))  # paid before month 2 began
    # it covers principal: the 2 kr. of interest arose after its day
    assert desk.parts("a") == (5200, 5000, 200)
    desk.dun(date(2026, 4, 21))
    # owed: month 1 on 100 kr. (1 kr.), month 2 on 50 kr. (0,50 kr.): 0,50 kr. taken back
    assert corrections(desk) == [50]
    assert desk.parts("a") == (5150, 5000, 150)
    desk.dun(date(2026, 5, 17))  # month 3 on 50 kr.
    assert desk.parts("a") == (5200, 5000, 200)
    assert corrections(desk) == [50]


def test_a_write_up_counts_from_its_own_day(desk: Desk) -> None:
    desk.rules(interest_enabled=True)
    desk.register("a", 10000)
    desk.today(date(2026, 4, 20))
    desk.write_up("a", 10000)  # 200 kr. from 20 April
    desk.dun(date(2026, 5, 17))
    # months 1 and 2 on 100 kr., month 3 on 200 kr.
    assert interest(desk) == 100 + 100 + 200
