"""Cash at the till (#11 item 9b, decision 0014): the cash figure is rounded to 50 øre the
Danish way, the claim is settled to the øre (no few øre left open, no credit made of a rounding)
and the difference is the till's rounding line; card and bank pay to the øre. The whole system is
wired (library, debtor, payments), on SQLite and PostgreSQL; the ledger guard runs after each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from fbs_debitor.bootstrap import System
from fbs_debitor.core.money import Money
from fbs_debitor.debtor import views
from fbs_debitor.debtor.service.agreements import account_for
from fbs_debitor.debtor.service.credit import available_credit
from fbs_debitor.debtor.service.unmatched import list_unmatched
from fbs_debitor.debtor.store.tables import claims, payments
from fbs_debitor.library.model import FeeStatus
from fbs_debitor.messaging.store import outbox
from fbs_debitor.tenants.model import Role
from fbs_debitor.tenants.service import keys as tenant_keys
from fbs_debitor.web.app import create_app
from tests.integration.leg34_support import (
    CPR,
    K,
    assert_reconciled,
    bank,
    credit,
    fee_open,
    new_fee,
)

TILL_KEY = "test-101-till"
TILL = {"Authorization": f"Bearer {TILL_KEY}"}
B = f"/api/v1/{K}"


@pytest.fixture
def till(live: System) -> TestClient:
    with live.db.begin() as conn:
        tenant_keys.create_api_key(conn, live.clock, K, Role.CASH_REGISTER, "till", TILL_KEY)
    return TestClient(create_app(live), raise_server_exceptions=False)


def pay(till: TestClient, receipt: str, payment_id: str, **body: Any) -> dict[str, Any]:
    r = till.post(
        f"{B}/payments",
        json={"receipt": receipt, "debtor": CPR, "payment_ids": [payment_id], **body},
        headers=TILL,
    )
    assert r.status_code == 201, r.text
    answer: dict[str, Any] = r.json()
    return answer


def claim_state(live: System, fee_id: int) -> tuple[str, int]:
    """(status, balance in øre) of the fee's claim in debtor."""
    with live.db.connect() as conn:
        status = conn.execute(
            select(claims.c.status).where(claims.c.claim_id == str(fee_id))
        ).scalar_one()
        return status, views.claim_balances(conn, K)[str(fee_id)]


def no_credit_nor_unmatched(live: System) -> None:
    with live.db.connect() as conn:
        assert available_credit(conn, K, account_for(conn, K, CPR)) == 0
        assert list_unmatched(conn, K) == []


def test_a_cash_payment_of_a_10_37_fee_settles_it_fully(live: System, till: TestClient) -> None:
    fee, pid = new_fee(live, 1037)
    shown = till.post(f"{B}/payable", json={"debtor": CPR, "payment_id": pid}, headers=TILL)
    body = shown.json()
    assert (body["total_due_ore"], body["total_due_cash_ore"]) == (1037, 1050)
    assert body["total_due_cash"] == "10,50 kr."
    assert body["invoices"][0]["amount_due_cash_ore"] == 1050

    answer = pay(till, "K-1", pid, tender="cash")
    assert (answer["tender"], answer["amount_ore"], answer["cash_ore"], answer["rounding_ore"]) == (
        "cash",
        1037,
        1050,
        13,
    )
    assert (answer["cash"], answer["rounding"]) == ("10,50 kr.", "0,13 kr.")
    live.drain()

    assert fee_open(live, fee) == (Money(0), FeeStatus.PAID)
    assert claim_state(live, fee) == ("paid", 0)
    no_credit_nor_unmatched(live)
    with live.db.connect() as conn:  # debtor booked the exact amount, the whole of it covered
        row = conn.execute(
            select(payments.c.amount_ore, payments.c.covered_ore, payments.c.credit_ore)
        ).one()
    assert tuple(row) == (1037, 1037, 0)
    assert_reconciled(live)


def test_the_clerk_may_type_the_cash_figure_shown(live: System, till: TestClient) -> None:
    """The clerk types 10,50 (the cash figure on the screen) for a 10,37 invoice: it settles the
    10,37 due, it does not leave 13 øre of credit."""
    fee, pid = new_fee(live, 1037)
    answer = pay(till, "K-2", pid, tender="cash", amount="10,50")
    assert (answer["amount_ore"], answer["cash_ore"], answer["rounding_ore"]) == (1037, 1050, 13)
    live.drain()
    assert fee_open(live, fee) == (Money(0), FeeStatus.PAID)
    no_credit_nor_unmatched(live)
    assert_reconciled(live)


def test_cash_rounded_down_still_settles_the_claim(live: System, till: TestClient) -> None:
    fee, pid = new_fee(live, 1012)
    answer = pay(till, "K-3", pid, tender="cash")
    assert (answer["amount_ore"], answer["cash_ore"], answer["rounding_ore"]) == (1012, 1000, -12)
    live.drain()
    assert fee_open(live, fee) == (Money(0), FeeStatus.PAID)
    assert claim_state(live, fee) == ("paid", 0)
    no_credit_nor_unmatched(live)
    assert_reconciled(live)


@pytest.mark.parametrize(
    ("fee_ore", "cash_ore"),
    # by the rule, written out: 0-24 øre down, 25-74 to 50, 75-99 up to the next krone
    [(1024, 1000), (1025, 1050), (1074, 1050), (1075, 1100)],
)
def test_the_boundaries_at_the_till(
    live: System, till: TestClient, fee_ore: int, cash_ore: int
) -> None:
    fee, pid = new_fee(live, fee_ore)
    answer = pay(till, f"B-{fee_ore}", pid, tender="cash")
    assert (answer["amount_ore"], answer["cash_ore"]) == (fee_ore, cash_ore)
    assert answer["rounding_ore"] == cash_ore - fee_ore
    live.drain()
    assert claim_state(live, fee) == ("paid", 0)
    no_credit_nor_unmatched(live)


def test_card_pays_to_the_ore(live: System, till: TestClient) -> None:
    fee, pid = new_fee(live, 1037)
    answer = pay(till, "C-1", pid)  # tender card is the default
    assert (answer["tender"], answer["amount_ore"], answer["cash_ore"], answer["rounding_ore"]) == (
        "card",
        1037,
        None,
        0,
    )
    live.drain()
    assert fee_open(live, fee) == (Money(0), FeeStatus.PAID)
    no_credit_nor_unmatched(live)


def test_a_card_part_payment_leaves_the_rest_to_the_ore(live: System, till: TestClient) -> None:
    fee, pid = new_fee(live, 1037)
    pay(till, "C-2", pid, tender="card", amount="10,25")
    live.drain()
    assert fee_open(live, fee) == (Money(12), FeeStatus.OPEN)
    assert claim_state(live, fee) == ("open", 12)


def test_the_bank_pays_to_the_ore(live: System, tmp_path: Path) -> None:
    fee, pid = new_fee(live, 1037)
    assert bank(live, tmp_path, credit("BANK-1037", 1037, pid))["matched"] == 1
    assert fee_open(live, fee) == (Money(0), FeeStatus.PAID)
    other, pid2 = new_fee(live, 1037)
    assert bank(live, tmp_path, credit("BANK-1050", 1050, pid2))["partly_matched"] == 1
    assert fee_open(live, other) == (Money(0), FeeStatus.PAID)
    with live.db.connect() as conn:  # a bank overpayment is no rounding: it stays as credit
        assert available_credit(conn, K, account_for(conn, K, CPR)) == 13
    assert_reconciled(live)


def test_the_days_rounding_lines_add_up_for_the_drawer(live: System, till: TestClient) -> None:
    _, a = new_fee(live, 1037)
    _, b = new_fee(live, 2012)
    _, c = new_fee(live, 999)
    pay(till, "D-1", a, tender="cash")  # 10,50 taken, +13
    pay(till, "D-2", b, tender="cash")  # 20,00 taken, -12
    pay(till, "D-3", c)  # card, 9,99
    live.drain()
    r = till.get(f"{B}/register-payments", headers=TILL)
    assert r.status_code == 200, r.text
    day = r.json()
    assert day["on"] == live.clock.today().isoformat()
    assert [p["receipt"] for p in day["payments"]] == ["D-1", "D-2", "D-3"]
    assert (day["amount_ore"], day["card_ore"], day["cash_ore"], day["rounding_ore"]) == (
        1037 + 2012 + 999,
        999,
        1050 + 2000,
        13 - 12,
    )
    # the drawer: cash taken = what the cash payments settled + their rounding lines
    assert day["cash_ore"] == day["amount_ore"] - day["card_ore"] + day["rounding_ore"]
    other = till.get(f"{B}/register-payments", params={"on": "2026-01-05"}, headers=TILL).json()
    assert (other["payments"], other["amount_ore"], other["rounding_ore"]) == ([], 0, 0)


def test_the_cash_payment_tells_debtor_the_exact_amount(live: System, till: TestClient) -> None:
    _, pid = new_fee(live, 1037)
    pay(till, "T-1", pid, tender="cash")
    with live.db.connect() as conn:
        payload = conn.execute(
            select(outbox.c.payload).where(outbox.c.message_type == "payment.PaymentReceived.v1")
        ).scalar_one()
    assert '"amount_ore": 1037' in payload or '"amount_ore":1037' in payload
    assert "kontant 10,50 kr. (øreafrunding +13 øre)" in payload


def test_a_receipt_is_one_payment_whatever_the_tender(live: System, till: TestClient) -> None:
    _, pid = new_fee(live, 1037)
    first = pay(till, "R-1", pid, tender="cash")
    again = till.post(
        f"{B}/payments",
        json={"receipt": "R-1", "debtor": CPR, "payment_ids": [pid], "tender": "cash"},
        headers=TILL,
    )
    assert again.headers["Idempotent-Replayed"] == "true"
    assert {**again.json(), "replayed": False} == first
    by_card = till.post(
        f"{B}/payments",
        json={"receipt": "R-1", "debtor": CPR, "payment_ids": [pid], "tender": "card"},
        headers=TILL,
    )
    assert by_card.status_code == 409
    assert by_card.json()["type"].endswith("receipt-reused")


def test_what_cannot_be_paid_in_cash(live: System, till: TestClient) -> None:
    _, pid = new_fee(live, 20)  # 0,20 kr.: 0,00 kr. in cash
    r = till.post(
        f"{B}/payments",
        json={"receipt": "Z-1", "debtor": CPR, "payment_ids": [pid], "tender": "cash"},
        headers=TILL,
    )
    assert r.status_code == 422
    assert r.json()["type"].endswith("cash-rounds-to-zero")
    cheque = till.post(
        f"{B}/payments",
        json={"receipt": "Z-2", "debtor": CPR, "payment_ids": [pid], "tender": "cheque"},
        headers=TILL,
    )
    assert cheque.status_code == 422
    assert pay(till, "Z-3", pid)["amount_ore"] == 20  # by card it is paid
