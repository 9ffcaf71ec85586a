"""Helpers of the leg 3 and 4 tests (a registered and invoiced fee, a bank file, a reversal);
the ``live`` fixture (København set up) is in conftest.py."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from fbs_debitor.bootstrap import System
from fbs_debitor.contracts.payment import PaymentReversed
from fbs_debitor.contracts.sending import send
from fbs_debitor.core.money import Money
from fbs_debitor.debtor import guard
from fbs_debitor.debtor.store.tables import claims, invoices
from fbs_debitor.library.model import FeeStatus, NewFee
from fbs_debitor.library.service import accounts
from fbs_debitor.payments.adapters.camt_writer import BankCredit, write_camt054
from fbs_debitor.payments.service.bank import import_bank_file
from fbs_debitor.reconcile import reconcile
from tests.integration.municipality_support import K

__all__ = ["CPR", "K", "assert_reconciled", "bank", "credit", "fee_open", "new_fee", "reverse"]


CPR = "0101901234"


def new_fee(system: System, ore: int, kind: str = "fee", cpr: str = CPR) -> tuple[int, str]:
    """A fee, registered and invoiced; returns (fee id, FIK payment ID of its invoice)."""
    with system.db.begin() as conn:
        p = accounts.create_patron(conn, system.clock, K, cpr=cpr).id
        f = accounts.create_fee(
            conn, system.clock, K, NewFee(patron_id=p, kind=kind, amount=Money(ore))
        ).id
    system.drain()
    with system.db.connect() as conn:
        pid = conn.execute(
            select(invoices.c.payment_id)
            .select_from(invoices.join(claims, claims.c.invoice_id == invoices.c.id))
            .where(claims.c.claim_id == str(f))
        ).scalar_one()
    return f, pid


def bank(system: System, tmp_path: Path, *credits: BankCredit) -> dict[str, int]:
    path = tmp_path / f"camt-{credits[0].reference}.xml"
    write_camt054(path, f"MSG-{credits[0].reference}", credits)
    summary = import_bank_file(system.db, system.clock, K, path)
    system.drain()
    return dict(summary.counts)


def credit(ref: str, ore: int, pid: str | None, text: str = "") -> BankCredit:
    return BankCredit(ref, ore, date(2026, 3, 10), pid, text)


def fee_open(system: System, fee_id: int) -> tuple[Money, FeeStatus]:
    with system.db.connect() as conn:
        f = accounts.get_fee(conn, K, fee_id)
    return f.open, f.status


def reverse(system: System, payment_ref: str, ore: int) -> None:
    """The bank reverses an earlier payment (``PaymentReversed`` from payments), delivered."""
    with system.db.begin() as conn:
        send(
            conn,
            PaymentReversed(
                municipality=K,
                occurred_at=system.clock.now(),
                payment_ref=payment_ref,
                reversal_ref=f"{payment_ref}-R",
                amount_ore=ore,
                reason="tilbageført",
            ),
            source="payments",
        )
    system.drain()


def assert_reconciled(system: System) -> None:
    with system.db.connect() as conn:
        result = reconcile(conn, K)
        assert guard.check_ledger(conn, K) == []
    assert result.differences == []
    assert result.reconciled
