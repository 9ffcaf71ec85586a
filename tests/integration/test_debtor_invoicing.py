"""Leg 2: claims become invoices with a FIK +71 payment slip, on SQLite and PostgreSQL.

Immediate mode invoices each claim in the transaction that registers it (single and bulk path
alike); collected mode invoices an account's claims together every N days above a minimum. The
amount due is derived from the claims' balances; InvoiceIssued goes to the outbox (leg 2).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, select

from fbs_debitor.contracts.coverage import InvoiceIssued
from fbs_debitor.contracts.registration import ClaimRegistered
from fbs_debitor.core.bankdays import is_bank_day
from fbs_debitor.core.fik import PaymentId, parse_code_line, validate_payment_id
from fbs_debitor.debtor import guard, views
from fbs_debitor.debtor.service import intake
from fbs_debitor.debtor.service.bulk_intake import Incoming, apply_registrations_bulk
from fbs_debitor.debtor.store.tables import accounts, invoices, letters
from fbs_debitor.messaging.store import outbox
from fbs_debitor.tenants.service import municipalities as tenants
from tests.factories import claim_registered
from tests.integration.debtor_billing_support import (
    CPR,
    CREDITOR,
    LIBRARY_KEY,
    OTHER_CPR,
    Desk,
    K,
    auth,
)


def test_a_registered_claim_is_invoiced_at_once(desk: Desk) -> None:
    desk.register("fee-1", 12500, text="Gebyr for sen aflevering", materials=("Kaninen",))
    (invoice,) = desk.account()["invoices"]
    assert invoice["issue_date"] == date(2026, 3, 2)
    assert invoice["due_date"] == invoice["last_timely_payment_date"] == date(2026, 3, 16)
    assert validate_payment_id(invoice["payment_id"]) == (True, "")
    card, pid, creditor = parse_code_line(invoice["code_line"])
    assert (card, pid, creditor) == (71, PaymentId.parse(invoice["payment_id"]), CREDITOR)
    assert invoice["amount_due_ore"] == invoice["issued_total_ore"] == 12500
    assert invoice["status"] == "open"
    assert [c["claim_id"] for c in invoice["claims"]] == ["fee-1"]

    ((payload, sequence, leg),) = desk.messages(InvoiceIssued.MESSAGE_TYPE)
    assert (sequence, leg) == (None, "leg2")
    assert payload["invoice_id"] == str(invoice["invoice_id"])
    assert payload["payment_id"] == invoice["payment_id"]
    assert payload["creditor_number"] == CREDITOR
    assert payload["debtor_id_masked"] == "010180-XXXX"
    assert payload["amount_ore"] == 12500
    assert payload["due_date"] == payload["last_timely_payment_date"] == "2026-03-16"
    assert payload["claim_ids"] == ["fee-1"]

    (letter,) = desk.account()["letters"]
    assert (letter["kind"], letter["title"], letter["status"]) == (
        "invoice",
        "Opkrævning",
        "pending",
    )
    assert letter["total_ore"] == 12500 and letter["debtor"] == "010180-XXXX"


@pytest.mark.parametrize(
    ("issued", "due"),
    [
        (date(2026, 5, 22), date(2026, 6, 8)),  # the term ends on 5 June
        (date(2026, 12, 10), date(2026, 12, 28)),  # on 24 December
        (date(2026, 12, 17), date(2027, 1, 4)),  # on 31 December
        (date(2026, 5, 1), date(2026, 5, 18)),  # on the day after Ascension (15 May 2026)
        (date(2026, 3, 7), date(2026, 3, 23)),  # on a Saturday
    ],
)
def test_due_dates_fall_on_bank_days(desk: Desk, issued: date, due: date) -> None:
    desk.today(issued)
    desk.register("fee-1")
    invoice = desk.invoice_of("fee-1")
    assert invoice["due_date"] == invoice["last_timely_payment_date"] == due
    assert is_bank_day(due)


def test_payment_ids_are_unique_and_counted_per_municipality(desk: Desk) -> None:
    for i in range(3):
        desk.register(f"fee-{i}", debtor=[CPR, OTHER_CPR, CPR][i])
    ids = [i["payment_id"] for number in (CPR, OTHER_CPR) for i in desk.account(number)["invoices"]]
    assert sorted(PaymentId.parse(p).sequence for p in ids) == [1, 2, 3]


def test_the_amount_due_follows_the_claims(desk: Desk) -> None:
    desk.register("fee-1", 12500)
    desk.write_down("fee-1", 2500)
    invoice = desk.invoice_of("fee-1")
    assert (invoice["amount_due_ore"], invoice["issued_total_ore"]) == (10000, 12500)
    desk.write_up("fee-1", 700)
    assert desk.invoice_of("fee-1")["amount_due_ore"] == 10700
    desk.cancel("fee-1")
    invoice = desk.invoice_of("fee-1")
    assert (invoice["amount_due_ore"], invoice["status"]) == (0, "settled")
    assert invoice["claims"] == [{"claim_id": "fee-1", "status": "cancelled", "balance_ore": 0}]


def _registration(claim_id: str, number: str, amount: int = 2000) -> ClaimRegistered:
    return claim_registered(claim_id, municipality=K, debtor=number, amount_ore=amount)


def _without(text: str, *keys: str) -> str:
    data = json.loads(text)
    return json.dumps({k: v for k, v in data.items() if k not in keys}, sort_keys=True)


def _billing_state(conn: Connection) -> dict[str, Any]:
    """Invoices, letters and InvoiceIssued messages without database ids (a PostgreSQL sequence
    does not roll back, so the ids differ between two rolled-back runs)."""
    return {
        "invoices": sorted(
            tuple(r)
            for r in conn.execute(
                select(
                    invoices.c.payment_id,
                    invoices.c.due_date,
                    invoices.c.issued_total_ore,
                    accounts.c.debtor_id,
                ).join_from(invoices, accounts, accounts.c.id == invoices.c.account_id)
            )
        ),
        "letters": sorted(
            _without(r, "reference") for (r,) in conn.execute(select(letters.c.data))
        ),
        "issued": sorted(
            _without(p, "invoice_id")
            for (p,) in conn.execute(
                select(outbox.c.payload).where(outbox.c.message_type == InvoiceIssued.MESSAGE_TYPE)
            )
        ),
        "balances": views.claim_balances(conn, K),
    }


def test_bulk_and_single_paths_issue_the_same_invoices(desk: Desk) -> None:
    items = [
        Incoming(_registration(f"c{i}", [CPR, OTHER_CPR][i % 2], 1000 + i), f"m{i}", None, 1)
        for i in range(6)
    ]
    items.insert(3, Incoming(_registration("c0", CPR), "dup", None, 1))  # refused: exists
    clock = desk.clock

    def run(bulk: bool) -> dict[str, Any]:
        with desk.system.db.connect() as conn:
            transaction = conn.begin()
            if bulk:
                apply_registrations_bulk(conn, clock, items)
            else:
                for item in items:
                    intake.apply_registration_message(
                        conn, clock, item.message, message_id=item.message_id, enqueued_at=None
                    )
            state = _billing_state(conn)
            assert guard.check_ledger(conn) == []
            transaction.rollback()
        return state

    single, bulk = run(False), run(True)
    assert bulk == single
    assert len(bulk["invoices"]) == 6
    assert {json.loads(p)["claim_ids"][0] for p in bulk["issued"]} == {f"c{i}" for i in range(6)}


def test_collected_mode_invoices_an_account_every_n_days_above_a_minimum(desk: Desk) -> None:
    desk.rules(invoicing_mode="collected", collect_every_days=7, collect_min_total_ore=10000)
    desk.register("a", 5000)
    desk.register("b", 6000)
    desk.register("c", 4000, debtor=OTHER_CPR)
    assert desk.account()["invoices"] == []
    result = desk.invoice(date(2026, 3, 2))
    assert (result.invoices, result.claims) == (1, 2)
    (invoice,) = desk.account()["invoices"]
    assert [c["claim_id"] for c in invoice["claims"]] == ["a", "b"]
    assert invoice["issued_total_ore"] == 11000
    assert desk.account(OTHER_CPR)["invoices"] == []  # 40 kr is below the 100 kr minimum

    desk.today(date(2026, 3, 4))
    desk.register("d", 7000, debtor=OTHER_CPR)
    assert desk.invoice().skipped == 1  # collected 2 days ago: not due
    assert desk.invoice(date(2026, 3, 9)).invoices == 1
    (other,) = desk.account(OTHER_CPR)["invoices"]
    assert [c["claim_id"] for c in other["claims"]] == ["c", "d"]
    assert other["issue_date"] == date(2026, 3, 9) and other["due_date"] == date(2026, 3, 23)
    assert desk.invoice(date(2026, 3, 16)).invoices == 0  # nothing left to collect


def test_claims_that_arrive_before_the_setup_are_invoiced_by_the_run(desk: Desk) -> None:
    message = _registration("early", CPR).model_copy(update={"municipality": "461"})
    with desk.system.db.begin() as conn:
        outcome = intake.apply_registration(
            conn, desk.clock, message, message_id="m-early", enqueued_at=None
        )
    assert outcome.accepted
    with desk.system.db.begin() as conn:
        tenants.create_municipality(
            conn,
            desk.clock,
            kommunekode="461",
            name="Odense",
            agency_id="746100",
            creditor_number="81234567",
        )
    desk.system.drain()
    result = desk.invoice()
    assert (result.invoices, result.claims) == (1, 1)
    with desk.system.db.connect() as conn:
        view = views.account_view(conn, "461", CPR)
    (invoice,) = view["invoices"]
    assert invoice["creditor_number"] == "81234567"
    assert PaymentId.parse(invoice["payment_id"]).sequence == 1  # Odense counts its own
    assert desk.invoice().invoices == 0


def test_a_claim_moved_to_another_debtor_gets_an_invoice_to_the_new_debtor(desk: Desk) -> None:
    desk.register("fee-1", 12500)
    old = desk.invoice_of("fee-1")
    desk.change_debtor("fee-1", OTHER_CPR)
    (left,) = desk.account()["invoices"]
    assert (left["amount_due_ore"], left["status"], left["claims"]) == (0, "settled", [])
    new = desk.invoice_of("fee-1", OTHER_CPR)
    assert new["payment_id"] != old["payment_id"]
    assert new["amount_due_ore"] == 12500
    issued = desk.messages(InvoiceIssued.MESSAGE_TYPE)
    assert [p["debtor_id_masked"] for p, _, _ in issued] == ["010180-XXXX", "211062-XXXX"]


def test_debtor_rules_over_http(staff: TestClient) -> None:
    r = staff.get(f"/api/v1/{K}/debtor-rules", headers=auth())
    assert r.status_code == 200
    assert r.json()["invoicing_mode"] == "immediate"
    assert [s["days_after_deadline"] for s in r.json()["reminder_steps"]] == [14, 34]

    custom = {
        "payment_term_days": 20,
        "interest_enabled": True,
        "reminder_steps": [
            {"days_after_deadline": 10, "fee_public_ore": 25000, "fee_civil_ore": 10000}
        ],
    }
    unexplained = staff.put(f"/api/v1/{K}/debtor-rules", json=custom, headers=auth())
    assert unexplained.status_code == 422
    assert unexplained.json()["type"].endswith("/reason-required")
    why = {"reason": "byrådets beslutning"}
    r = staff.put(f"/api/v1/{K}/debtor-rules", json={**custom, **why}, headers=auth())
    assert r.status_code == 200, r.text
    assert staff.get(f"/api/v1/{K}/debtor-rules", headers=auth()).json() == r.json()
    assert r.json()["payment_term_days"] == 20 and r.json()["collect_every_days"] == 7

    too_much = {
        "reminder_steps": [{"days_after_deadline": 10, "fee_public_ore": 30000, "fee_civil_ore": 0}]
    }
    r = staff.put(f"/api/v1/{K}/debtor-rules", json={**too_much, **why}, headers=auth())
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/reminder-fee-public")  # a LegalLimitError
    assert "250,00 kr." in r.json()["detail"] and "gebyrloven" in r.json()["detail"]

    four_civil = {
        "reminder_steps": [
            {"days_after_deadline": d, "fee_public_ore": 0, "fee_civil_ore": 5000}
            for d in (10, 20, 30, 40)
        ]
    }
    r = staff.put(f"/api/v1/{K}/debtor-rules", json={**four_civil, **why}, headers=auth())
    assert r.status_code == 422 and "at most 3" in r.json()["detail"]
    r = staff.put(f"/api/v1/{K}/debtor-rules", json={"payment_term_days": 0, **why}, headers=auth())
    assert r.status_code == 422 and r.json()["type"].endswith("/invalid-rules")
    assert staff.get(f"/api/v1/{K}/debtor-rules", headers=auth()).json()["payment_term_days"] == 20

    r = staff.get(f"/api/v1/{K}/debtor-rules", headers=auth(LIBRARY_KEY))
    assert r.status_code == 403
    r = staff.get("/api/v1/461/debtor-rules", headers=auth())
    assert r.status_code == 403
