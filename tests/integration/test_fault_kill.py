"""Fault test: an outbox worker process is killed with SIGKILL at random moments (at least 20
times) while it works through a municipality's backlog of fees, regulation and payments; after
recovery library and debtor agree to the øre and no effect happened twice. PostgreSQL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date

from sqlalchemy import func, select

from fbs_debitor.bootstrap import build_system
from fbs_debitor.contracts.payment import PaymentReceived
from fbs_debitor.contracts.sending import send
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.db import Database
from fbs_debitor.core.money import Money
from fbs_debitor.debtor import guard
from fbs_debitor.debtor.store.tables import invoices, payments, postings
from fbs_debitor.library.model import NewFee
from fbs_debitor.library.service import accounts
from fbs_debitor.messaging.store import outbox
from fbs_debitor.reconcile import reconcile
from tests.integration.effects_support import effects_applied_twice
from tests.integration.municipality_support import K, set_up_kobenhavn


def worker(url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FBS_DEBITOR_WORKER_BATCH_SIZE": "50", "FBS_DEBITOR_LOG_LEVEL": "ERROR"}
    return subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "fbs_debitor.cli", "worker", "--database", url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def pending(db: Database) -> int:
    with db.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(outbox).where(outbox.c.status == "pending")
            ).scalar_one()
        )


def kill_while_working(db: Database, url: str, rng: random.Random, kills: int) -> int:
    done = 0
    while done < kills and pending(db) > 0:
        proc = worker(url)
        time.sleep(rng.uniform(0.3, 1.2))  # start-up takes ~0.3 s; then it works for a while
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        done += 1
    return done


def test_sigkilled_workers_lose_nothing_and_apply_nothing_twice(
    empty_postgres: Database, postgres_url: str
) -> None:
    db = empty_postgres
    system = build_system(db=db, clock=SettableClock.at_date(date(2026, 3, 2)))
    rng = random.Random(20261123)
    set_up_kobenhavn(system)
    with db.begin() as conn:
        patrons = [
            accounts.create_patron(conn, system.clock, K, cpr=f"0101{80 + i % 19:02d}{i:04d}").id
            for i in range(60)
        ]
        fee_ids = accounts.create_fees_bulk(
            conn,
            system.clock,
            K,
            [
                NewFee(
                    patron_id=rng.choice(patrons),
                    kind="fee",
                    amount=Money(rng.randint(1, 500) * 100),
                )
                for _ in range(3000)
            ],
        )
    for fee_id in rng.sample(fee_ids, 300):
        with db.begin() as conn:
            accounts.write_down(conn, system.clock, K, fee_id, Money(100))
    kills = kill_while_working(db, postgres_url, rng, 12)
    # payments for invoices that exist by now, while workers keep dying
    system.drain()  # every claim invoiced, so the payments below have their invoices
    with db.connect() as conn:
        issued = conn.execute(select(invoices.c.payment_id, invoices.c.issued_total_ore)).all()
    # a backlog big enough to outlast 20+ kills at batch speed: every invoice paid in one or
    # two parts (a split payment), some only partly
    amounts = []
    for pid, total in issued:
        first = int(total) // rng.choice([1, 2])
        amounts.append((pid, first))
        if first < int(total) and rng.random() < 0.7:
            amounts.append((pid, int(total) - first))
    with db.begin() as conn:
        for i, (pid, ore) in enumerate(amounts):
            send(
                conn,
                PaymentReceived(
                    municipality=K,
                    occurred_at=system.clock.now(),
                    payment_ref=f"bank:K{i}",
                    channel="bank",
                    booked_on=date(2026, 3, 10),
                    amount_ore=ore,
                    payment_id=pid,
                ),
                source="payments",
                leg="leg3",
            )
    kills += kill_while_working(db, postgres_url, rng, 40 - kills)
    assert kills >= 20, f"only {kills} kills: the backlog ran out"
    system.worker().drain(timeout_s=300)
    with db.connect() as conn:
        result = reconcile(conn, K)
        problems = guard.check_ledger(conn, K)
        charges = conn.execute(
            select(func.count()).select_from(postings).where(postings.c.kind == "charge")
        ).scalar_one()
        downs = conn.execute(
            select(func.count()).select_from(postings).where(postings.c.kind == "write_down")
        ).scalar_one()
        applied_payments = conn.execute(select(func.count()).select_from(payments)).scalar_one()
        twice = effects_applied_twice(conn)
        dead = conn.execute(
            select(func.count()).select_from(outbox).where(outbox.c.status != "sent")
        ).scalar_one()
    assert dead == 0
    assert problems == []
    assert charges == 3000
    assert downs == 300
    assert applied_payments == len(amounts)
    assert twice == []
    assert result.differences == []
    assert result.reconciled
