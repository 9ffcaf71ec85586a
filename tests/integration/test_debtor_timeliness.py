"""Payments count on the day they were paid (issue #11 item 3), not the day they reached debtor.

A 125 kr. library fee registered Monday 2 March 2026 is due 16 March (the default 14-day term;
16 March is a bank day); the default rules remind it free on 30 March and with a 100 kr. fee on
19 April. Expected amounts are worked out by hand.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from fbs_debitor.debtor.store.tables import write_offs
from tests.integration.debtor_billing_support import Desk


def reminded(desk: Desk) -> None:
    desk.register("a", 12500)
    desk.dun(date(2026, 3, 30))
    desk.dun(date(2026, 4, 19))
    assert desk.parts("a") == (22500, 12500, 10000)


def waivers(desk: Desk) -> list[tuple[str, int, str | None]]:
    with desk.system.db.connect() as conn:
        rows = conn.execute(
            select(write_offs.c.rule, write_offs.c.amount_ore, write_offs.c.component)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_a_payment_made_in_time_and_imported_late_owes_no_later_fee(desk: Desk) -> None:
    reminded(desk)
    desk.today(date(2026, 4, 20))  # the bank file of 15 March arrives only now
    desk.pay("bank:B1", 12500, "a", date(2026, 3, 15))
    assert desk.parts("a") == (0, 0, 0)
    assert desk.claim("a")["status"] == "paid"
    assert waivers(desk) == [("paid_in_time", 10000, "fees")]
    # the library hears its whole 125 kr. paid, on 15 March
    (covered,) = [p for p, _, _ in desk.messages("coverage.ClaimCovered.v1")]
    assert (covered["amount_ore"], covered["payment_date"]) == (12500, "2026-03-15")
    (allocated,) = [p for p, _, _ in desk.messages("payment.PaymentAllocated.v1")]
    assert (allocated["outcome"], allocated["credit_ore"]) == ("matched", 0)


def test_a_payment_after_the_deadline_but_before_the_fee_owes_no_fee(desk: Desk) -> None:
    reminded(desk)
    desk.today(date(2026, 4, 21))
    desk.pay("bank:B1", 12500, "a", date(2026, 4, 10))  # after the påmindelse, before the fee
    assert desk.parts("a") == (0, 0, 0)
    assert waivers(desk) == [("paid_in_time", 10000, "fees")]


def test_a_part_payment_made_before_the_fee_covers_the_principal_not_the_later_fee(
    desk: Desk,
) -> None:
    reminded(desk)
    desk.today(date(2026, 4, 21))
    desk.pay("bank:B1", 5000, "a", date(2026, 4, 10))
    # 50 kr. of the 125 kr. principal; the fee of 19 April stays: the claim was still overdue
    assert desk.parts("a") == (17500, 7500, 10000)
    assert waivers(desk) == []


def test_an_overpayment_made_in_time_goes_to_credit_not_to_the_later_fee(desk: Desk) -> None:
    reminded(desk)
    desk.today(date(2026, 4, 21))
    desk.pay("bank:B1", 20000, "a", date(2026, 3, 16))  # on the last timely day itself
    assert desk.parts("a") == (0, 0, 0)
    assert waivers(desk) == [("paid_in_time", 10000, "fees")]
    assert desk.account()["credit_ore"] == 7500


def test_a_payment_after_the_fee_covers_the_fee_first(desk: Desk) -> None:
    reminded(desk)
    desk.pay("bank:B1", 15000, "a", date(2026, 4, 19))  # the fee's own day: not later
    assert desk.parts("a") == (7500, 7500, 0)
    assert waivers(desk) == []


def test_later_fees_are_covered_only_after_what_was_due_on_the_day(desk: Desk) -> None:
    """Two claims of one debtor, each reminded with a 100 kr. fee on 19 April; a payment of
    10 April for both settles 125 + 80 kr. first, so both fees are waived and the 45 kr. left
    is credit. Without dating it would have paid 200 kr. of fees and left 5 kr. open."""
    desk.register("a", 12500)
    desk.register("b", 8000)
    desk.dun(date(2026, 3, 30))
    desk.dun(date(2026, 4, 19))
    assert desk.parts("b") == (18000, 8000, 10000)
    desk.today(date(2026, 4, 21))
    desk.pay("bank:B1", 25000, ["a", "b"], date(2026, 4, 10))
    assert desk.parts("a") == (0, 0, 0) and desk.parts("b") == (0, 0, 0)
    assert waivers(desk) == [("paid_in_time", 10000, "fees")] * 2
    assert desk.account()["credit_ore"] == 4500


def test_a_short_payment_for_two_claims_leaves_the_later_fees_owed(desk: Desk) -> None:
    desk.register("a", 12500)
    desk.register("b", 8000)
    desk.dun(date(2026, 3, 30))
    desk.dun(date(2026, 4, 19))
    desk.today(date(2026, 4, 21))
    desk.pay("bank:B1", 15000, ["a", "b"], date(2026, 4, 10))
    # a (due first... same due date, created first) gets its 125 kr.: settled, its fee waived;
    # b gets 25 kr. of its principal and keeps its fee
    assert desk.parts("a") == (0, 0, 0)
    assert desk.parts("b") == (15500, 5500, 10000)
    assert waivers(desk) == [("paid_in_time", 10000, "fees")]
