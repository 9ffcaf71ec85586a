"""``fbs-debitor worker --processes N``: several worker processes share one PostgreSQL outbox,
a worker that dies is started again, and every payment is applied exactly once; SQLite refuses
a second process with a clear message."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import date

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from fbs_debitor.bootstrap import build_system
from fbs_debitor.cli.main import app
from fbs_debitor.contracts.payment import PaymentReceived
from fbs_debitor.contracts.sending import Outgoing, send_many
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.db import Database
from fbs_debitor.core.errors import ValidationError
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.store.tables import invoices, payments
from fbs_debitor.library.model import NewFee
from fbs_debitor.library.service import accounts
from fbs_debitor.library.store.tables import fees
from fbs_debitor.messaging.store import outbox
from fbs_debitor.reconcile import reconcile
from fbs_debitor.workers import WorkerPool, check_processes
from tests.integration.effects_support import effects_applied_twice
from tests.integration.municipality_support import K, set_up_kobenhavn


def test_sqlite_refuses_a_second_worker_process(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(str(tmp_path / "one.db"))
    check_processes(db, 1)
    with pytest.raises(ValidationError, match="SQLite lets one process write at a time"):
        check_processes(db, 2)
    with pytest.raises(ValidationError, match="between 1 and 64"):
        check_processes(db, 0)
    result = CliRunner().invoke(
        app, ["worker", "--processes", "2", "--database", str(tmp_path / "one.db")]
    )
    assert result.exit_code == 2
    assert "use PostgreSQL to scale out" in result.output


def _count(db: Database, query) -> int:  # type: ignore[no-untyped-def]
    with db.connect() as conn:
        return int(conn.execute(query).scalar_one())


def test_two_worker_processes_pay_every_fee_once_and_survive_a_kill(
    empty_postgres: Database, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = empty_postgres
    system = build_system(db=db, clock=SettableClock.at_date(date(2026, 3, 2)))
    set_up_kobenhavn(system)
    with db.begin() as conn:
        patrons = [
            accounts.create_patron(conn, system.clock, K, cpr=f"0101{80 + i % 19:02d}{i:04d}").id
            for i in range(40)
        ]
        accounts.create_fees_bulk(
            conn,
            system.clock,
            K,
            [
                NewFee(patron_id=patrons[i % 40], kind="fee", amount=Money(2000 + 100 * (i % 7)))
                for i in range(1200)
            ],
        )
    system.drain(timeout_s=120)  # intake and invoicing in this process
    with db.connect() as conn:
        issued = conn.execute(select(invoices.c.payment_id, invoices.c.issued_total_ore)).all()
    assert len(issued) == 1200
    with db.begin() as conn:
        send_many(
            conn,
            [
                Outgoing(
                    PaymentReceived(
                        municipality=K,
                        occurred_at=system.clock.now(),
                        payment_ref=f"bank:P{i}",
                        channel="bank",
                        booked_on=date(2026, 3, 10),
                        amount_ore=int(total),
                        payment_id=pid,
                    )
                )
                for i, (pid, total) in enumerate(issued)
            ],
            source="payments",
            leg="leg3",
        )
    # small batches, so that the two processes take turns on the backlog
    monkeypatch.setenv("FBS_DEBITOR_WORKER_BATCH_SIZE", "25")
    monkeypatch.setenv("FBS_DEBITOR_LOG_LEVEL", "ERROR")
    pool = WorkerPool(postgres_url, 2, restart_after_s=0.2)
    stop = threading.Event()
    pool.start()
    supervisor = threading.Thread(target=pool.supervise, args=(stop, 0.1))
    supervisor.start()
    try:
        deadline = time.monotonic() + 120
        applied = select(func.count()).select_from(payments)
        while _count(db, applied) < 50 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(pool.pids[0], signal.SIGKILL)  # in the middle of the backlog
        killed_at = _count(db, applied)
        paid = select(func.count()).select_from(fees).where(fees.c.status == "paid")
        pending = select(func.count()).select_from(outbox).where(outbox.c.status == "pending")
        while time.monotonic() < deadline:
            if _count(db, paid) == 1200 and _count(db, pending) == 0:
                break
            time.sleep(0.2)
    finally:
        stop.set()
        supervisor.join(60)
    assert pool.restarts >= 1, "the killed worker was started again"
    assert killed_at < 1200, "the kill came before the backlog was done"
    assert _count(db, select(func.count()).select_from(fees).where(fees.c.status == "paid")) == 1200
    assert _count(db, select(func.count()).select_from(payments)) == 1200
    with db.connect() as conn:
        assert effects_applied_twice(conn) == []
    not_sent = select(func.count()).select_from(outbox).where(outbox.c.status != "sent")
    assert _count(db, not_sent) == 0
    with db.connect() as conn:
        result = reconcile(conn, K)
    assert result.differences == []
    assert result.reconciled
