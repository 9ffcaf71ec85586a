"""Regulation after payment (issue #11 item 7): a cancellation or write-down of a paid or partly
paid claim turns what it no longer needs into credit on the debtor account, never refused and
never kept. Amounts worked out by hand."""

from __future__ import annotations

from datetime import date

from tests.integration.debtor_billing_support import Desk


def credit(desk: Desk) -> int:
    return int(desk.account()["credit_ore"])


def reminded_and_paid_150(desk: Desk) -> None:
    """125 kr. fee, reminded with 100 kr., then 150 kr. paid: fee 100 + principal 50."""
    desk.register("a", 12500)
    desk.dun(date(2026, 3, 30))
    desk.dun(date(2026, 4, 19))
    desk.pay("register:R1", 15000, "a")
    assert desk.parts("a") == (7500, 7500, 0)


def test_cancelling_a_partly_paid_claim_makes_what_was_paid_credit(desk: Desk) -> None:
    reminded_and_paid_150(desk)
    desk.cancel("a")
    claim = desk.claim("a")
    assert claim["status"] == "cancelled"
    assert desk.parts("a") == (0, 0, 0)
    assert credit(desk) == 15000  # 100 kr. fee and 50 kr. principal: the claim was not owed
    # the credit pays the debtor's next claim
    desk.register("b", 4000)
    assert desk.parts("b") == (0, 0, 0)
    assert credit(desk) == 11000


def test_cancelling_a_paid_claim_is_not_refused(desk: Desk) -> None:
    desk.register("a", 12500)
    desk.pay("register:R1", 12500, "a")
    assert desk.claim("a")["status"] == "paid"
    desk.cancel("a")
    assert desk.claim("a")["status"] == "cancelled"
    assert credit(desk) == 12500
    assert desk.messages("registration.RegistrationRejected.v1") == []


def test_a_write_down_below_what_was_paid_makes_the_excess_credit(desk: Desk) -> None:
    reminded_and_paid_150(desk)
    desk.write_down("a", 10000)  # the fee is now 25 kr.; 50 kr. of it was paid
    assert desk.parts("a") == (0, 0, 0)
    assert desk.claim("a")["status"] == "paid"
    assert credit(desk) == 2500


def test_a_write_down_to_zero_treats_fees_like_a_cancellation(desk: Desk) -> None:
    reminded_and_paid_150(desk)
    desk.write_down("a", 12500)
    assert desk.claim("a")["status"] == "cancelled"
    assert desk.parts("a") == (0, 0, 0)
    assert credit(desk) == 15000


def test_a_write_down_beyond_the_claims_amount_is_refused(desk: Desk) -> None:
    reminded_and_paid_150(desk)
    desk.write_down("a", 12501)
    (rejected,) = [p for p, _, _ in desk.messages("registration.RegistrationRejected.v1")]
    assert rejected["code"] == "write-down-below-zero"
    assert desk.parts("a") == (7500, 7500, 0)
    assert credit(desk) == 0
