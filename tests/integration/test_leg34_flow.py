"""Legs 3 and 4 end to end, the whole system wired: a bank file or a till pays invoices, debtor
allocates (fees and interest before principal), the library's fee follows, and both sides agree
to the øre after every test."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select, update

from fbs_debitor.bootstrap import System
from fbs_debitor.core.money import Money
from fbs_debitor.debtor import views
from fbs_debitor.debtor.service import allocation
from fbs_debitor.debtor.service.agreements import account_for
from fbs_debitor.debtor.service.credit import available_credit
from fbs_debitor.debtor.service.dunning import run_dunning
from fbs_debitor.debtor.service.unmatched import list_unmatched
from fbs_debitor.debtor.store.tables import claims
from fbs_debitor.library.model import FeeStatus
from fbs_debitor.library.service import accounts
from fbs_debitor.messaging.store import outbox
from fbs_debitor.payments.adapters.camt_writer import BankCredit
from fbs_debitor.payments.service.register import RegisterPayment, pay_at_register
from tests.integration.leg34_support import (
    CPR,
    assert_reconciled,
    bank,
    credit,
    fee_open,
    new_fee,
    reverse,
)
from tests.integration.municipality_support import K


def test_bank_file_pays_the_invoice_and_the_fee_shows_paid(live: System, tmp_path: Path) -> None:
    f, pid = new_fee(live, 12000)
    counts = bank(live, tmp_path, credit("B1", 12000, pid))
    assert counts["matched"] == 1
    assert fee_open(live, f) == (Money(0), FeeStatus.PAID)
    with live.db.connect() as conn:
        assert accounts.get_fee(conn, K, f).paid_date == date(2026, 3, 10)
        assert views.claim_balances(conn, K) == {str(f): 0}
    # re-import: harmless
    counts = bank(live, tmp_path, credit("B1", 12000, pid))
    assert counts["duplicate"] == 1
    assert fee_open(live, f) == (Money(0), FeeStatus.PAID)
    assert_reconciled(live)


def test_underpayment_partly_covers_and_overpayment_becomes_credit(
    live: System, tmp_path: Path
) -> None:
    a, pid_a = new_fee(live, 12000)
    b, pid_b = new_fee(live, 9000, cpr="0202652345")
    counts = bank(live, tmp_path, credit("U1", 5000, pid_a), credit("O1", 10000, pid_b))
    assert counts["partly_matched"] == 2
    assert fee_open(live, a) == (Money(7000), FeeStatus.OPEN)
    assert fee_open(live, b) == (Money(0), FeeStatus.PAID)
    with live.db.connect() as conn:
        account = conn.execute(
            select(claims.c.account_id).where(claims.c.claim_id == str(b))
        ).scalar_one()
        assert available_credit(conn, K, account) == 1000
    # a second payment for the same claim pays the rest
    bank(live, tmp_path, credit("U2", 7000, pid_a))
    assert fee_open(live, a) == (Money(0), FeeStatus.PAID)
    assert_reconciled(live)


def test_reminder_fee_is_paid_before_the_principal(live: System, tmp_path: Path) -> None:
    f, pid = new_fee(live, 12000)
    # past the deadline and both reminder steps: the second carries a 100 kr fee
    live.clock.set_date(date(2026, 3, 2) + timedelta(days=14 + 40))
    for days in (14 + 15, 14 + 40):
        with live.db.begin() as conn:
            run_dunning(conn, live.clock, date(2026, 3, 2) + timedelta(days=days), K)
    live.drain()
    with live.db.connect() as conn:
        assert views.claim_balances(conn, K) == {str(f): 22000}
    # paid (booked) after the fee-bearing reminder: the fee was owed on the payment's day
    bank(live, tmp_path, BankCredit("R1", 15000, live.clock.today(), pid, ""))
    # 100 kr reminder fee first, then 50 kr of the fee: the library's fee is 70 kr now
    assert fee_open(live, f) == (Money(7000), FeeStatus.OPEN)
    assert_reconciled(live)


def test_unknown_fik_and_no_reference_wait_unmatched(live: System, tmp_path: Path) -> None:
    f, _ = new_fee(live, 12000)
    counts = bank(
        live,
        tmp_path,
        credit("N1", 12000, "000000099999997"),
        credit("N2", 5000, None, "kontingent"),
    )
    assert counts["unmatched"] == 2
    assert fee_open(live, f) == (Money(12000), FeeStatus.OPEN)
    with live.db.connect() as conn:
        waiting = allocation.unmatched_payments(conn, K)
    assert [w["amount_ore"] for w in waiting] == [12000, 5000]
    assert "belongs to no invoice" in waiting[0]["reason"]
    assert_reconciled(live)


def test_cash_register_pays_several_claims_with_one_payment(live: System) -> None:
    a, pid_a = new_fee(live, 12000)
    b, pid_b = new_fee(live, 34950, kind="compensation")
    with live.db.begin() as conn:
        answer = pay_at_register(
            conn,
            live.clock,
            K,
            RegisterPayment(receipt="KASSE-1", debtor=CPR, payment_ids=(pid_a, pid_b)),
        )
    live.drain()
    assert answer["amount_ore"] == 46950
    assert fee_open(live, a) == (Money(0), FeeStatus.PAID)
    assert fee_open(live, b) == (Money(0), FeeStatus.PAID)
    with live.db.begin() as conn:  # the same receipt again changes nothing
        pay_at_register(
            conn,
            live.clock,
            K,
            RegisterPayment(receipt="KASSE-1", debtor=CPR, payment_ids=(pid_a, pid_b)),
        )
    live.drain()
    assert_reconciled(live)


def test_more_till_payments_than_the_invoice_needs_are_credit_of_the_known_debtor(
    live: System,
) -> None:
    """Three receipts for one 10 kr invoice (a queue at the desk, a clerk pressing twice): the
    first pays it; the money of the others belongs to the debtor the clerk named, so it pays
    the debtor's other open fee and the rest is credit, never a payment with no debtor."""
    f, pid = new_fee(live, 1000)
    other, _ = new_fee(live, 1500)
    for receipt in ("R1", "R2", "R3"):
        with live.db.begin() as conn:
            pay_at_register(
                conn,
                live.clock,
                K,
                RegisterPayment(
                    receipt=receipt, debtor=CPR, payment_ids=(pid,), amount=Money(1000)
                ),
            )
    live.drain()
    assert fee_open(live, f) == (Money(0), FeeStatus.PAID)
    assert fee_open(live, other) == (Money(0), FeeStatus.PAID)  # 10 kr of R2 + 5 kr of R3
    with live.db.connect() as conn:
        assert list_unmatched(conn, K) == []
        account = account_for(conn, K, CPR)
        assert available_credit(conn, K, account) == 3 * 1000 - 1000 - 1500
    assert_reconciled(live)


def test_reversal_reopens_and_redelivery_changes_nothing(live: System, tmp_path: Path) -> None:
    f, pid = new_fee(live, 12000)
    bank(live, tmp_path, credit("V1", 12000, pid))
    reverse(live, "bank:V1", 12000)
    assert fee_open(live, f) == (Money(12000), FeeStatus.OPEN)
    with live.db.begin() as conn:
        conn.execute(update(outbox).values(status="pending"))
    live.drain()
    assert fee_open(live, f) == (Money(12000), FeeStatus.OPEN)
    with live.db.connect() as conn:
        answers = [
            json.loads(r.payload)
            for r in conn.execute(
                select(outbox).where(outbox.c.message_type == "payment.PaymentAllocated.v1")
            )
        ]
    assert [a["outcome"] for a in answers] == ["matched"]
    assert_reconciled(live)


def test_the_library_cancels_a_paid_fee_and_debtor_keeps_the_money_as_credit(
    live: System, tmp_path: Path
) -> None:
    """Issue #11 item 7: the material came back after the replacement charge was paid."""
    f, pid = new_fee(live, 30000, kind="compensation")
    bank(live, tmp_path, credit("V9", 30000, pid))
    assert fee_open(live, f) == (Money(0), FeeStatus.PAID)
    with live.db.begin() as conn:
        accounts.cancel_fee(conn, live.clock, K, f, "materialet kom tilbage")
    live.drain()
    assert fee_open(live, f) == (Money(0), FeeStatus.CANCELLED)
    with live.db.connect() as conn:
        account = views.account_view(conn, K, CPR, live.clock.today())
    assert account["credit_ore"] == 30000
    assert [c["status"] for c in account["claims"]] == ["cancelled"]
    assert_reconciled(live)
