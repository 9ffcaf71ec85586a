"""Every posting names the component it takes (issue #11 items 6 and 8): a reversal restores
exactly what the payment covered, component by component, and staff can waive a reminder fee or
interest alone. Expected amounts are worked out by hand in each test."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from fbs_debitor.debtor.views import principal_balances
from tests.integration.debtor_billing_support import Desk, K, auth


def fee_reminded(desk: Desk) -> None:
    """A 125 kr. library fee registered on 2 March 2026 (due 16 March), reminded free on 30
    March and with the 100 kr. fee on 19 April (the default rules)."""
    desk.register("a", 12500)
    desk.dun(date(2026, 3, 30))
    desk.dun(date(2026, 4, 19))
    assert desk.parts("a") == (22500, 12500, 10000)


def test_a_reversal_restores_the_fee_and_the_principal_it_took(desk: Desk) -> None:
    fee_reminded(desk)
    desk.pay("register:R1", 15000, "a", date(2026, 4, 20))
    # the payment took the 100 kr. fee first, then 50 kr. of the principal
    assert desk.parts("a") == (7500, 7500, 0)
    desk.reverse("register:R1", 15000)
    assert desk.parts("a") == (22500, 12500, 10000)
    with desk.system.db.connect() as conn:
        assert principal_balances(conn, K)["a"] == 12500  # never above the library's 125 kr.
    (reversed_,) = [p for p, _, _ in desk.messages("coverage.CoverageReversed.v1")]
    # the library hears of the 50 kr. of its own amount the payment had covered, not 150 kr.
    assert (reversed_["amount_ore"], reversed_["remaining_ore"]) == (5000, 12500)
    assert desk.claim("a")["status"] == "open"


def test_reversing_a_later_payment_leaves_the_earlier_coverage(desk: Desk) -> None:
    fee_reminded(desk)
    desk.pay("register:R1", 6000, "a", date(2026, 4, 20))  # 60 kr. of the fee
    desk.pay("register:R2", 10000, "a", date(2026, 4, 21))  # 40 kr. fee, 60 kr. principal
    assert desk.parts("a") == (6500, 6500, 0)
    desk.reverse("register:R2", 10000)
    assert desk.parts("a") == (16500, 12500, 4000)
    (reversed_,) = [p for p, _, _ in desk.messages("coverage.CoverageReversed.v1")]
    assert reversed_["amount_ore"] == 6000


def test_staff_waive_the_reminder_fee_alone(desk: Desk, staff: TestClient) -> None:
    fee_reminded(desk)
    before = len(desk.messages("coverage.ClaimWrittenOff.v1"))
    r = staff.post(
        f"/api/v1/{K}/claims/a/write-off",
        json={
            "reason": "Rykker sendt til forkert adresse",
            "by": "Sagsbehandler A",
            "component": "fees",
        },
        headers=auth(),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["written_off_ore"], body["fees_written_off_ore"]) == (10000, 10000)
    assert (body["principal_written_off_ore"], body["remaining_ore"]) == (0, 12500)
    assert desk.parts("a") == (12500, 12500, 0)
    # the library's amount is untouched, so the library hears nothing
    assert len(desk.messages("coverage.ClaimWrittenOff.v1")) == before
    assert desk.claim("a")["status"] == "open"


def test_a_partial_write_off_names_its_component(desk: Desk, staff: TestClient) -> None:
    fee_reminded(desk)
    r = staff.post(
        f"/api/v1/{K}/claims/a/write-off",
        json={
            "amount_ore": 2500,
            "reason": "Delvis eftergivelse",
            "by": "B",
            "component": "principal",
        },
        headers=auth(),
    )
    assert r.status_code == 200, r.text
    assert r.json()["principal_written_off_ore"] == 2500
    assert desk.parts("a") == (20000, 10000, 10000)
    (written,) = [p for p, _, _ in desk.messages("coverage.ClaimWrittenOff.v1")]
    assert written["amount_ore"] == 2500
    # more of a component than is left is refused with a clear error, not a 500
    r = staff.post(
        f"/api/v1/{K}/claims/a/write-off",
        json={"amount_ore": 10001, "reason": "x", "by": "B", "component": "fees"},
        headers=auth(),
    )
    assert r.status_code == 422 and "100,00 kr. in fees and interest left" in r.text
    r = staff.post(
        f"/api/v1/{K}/claims/a/write-off",
        json={"reason": "x", "by": "B", "component": "interest-only"},
        headers=auth(),
    )
    assert r.status_code == 422


def test_a_whole_write_off_takes_the_principal_first(desk: Desk, staff: TestClient) -> None:
    fee_reminded(desk)
    r = staff.post(
        f"/api/v1/{K}/claims/a/write-off",
        json={"amount_ore": 15000, "reason": "Eftergivelse", "by": "C"},
        headers=auth(),
    )
    assert r.status_code == 200, r.text
    assert desk.parts("a") == (7500, 0, 7500)
    (written,) = [p for p, _, _ in desk.messages("coverage.ClaimWrittenOff.v1")]
    assert written["amount_ore"] == 12500
