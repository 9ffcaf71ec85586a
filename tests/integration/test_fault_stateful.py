"""Fault test (hypothesis, stateful): fees, regulation, debtor changes, redelivered and reordered
messages and worker restarts, interleaved at random; after every step library and debtor agree
to the øre once the outbox is drained, and no effect happened twice.

Runs on PostgreSQL (the production database); the long variant is marked ``slow`` (CI runs it).
"""

from __future__ import annotations

import os
from datetime import date

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)
from sqlalchemy import func, select, text, update

from fbs_debitor.bootstrap import System, build_system
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.db import Database
from fbs_debitor.core.errors import DomainError
from fbs_debitor.core.money import Money
from fbs_debitor.debtor import guard
from fbs_debitor.debtor.store.tables import postings
from fbs_debitor.library.model import NewFee
from fbs_debitor.library.service import accounts
from fbs_debitor.messaging.store import outbox
from fbs_debitor.reconcile import reconcile
from fbs_debitor.schema import metadata
from tests.integration.municipality_support import K, set_up_kobenhavn

CPRS = ["0101901234", "0202652345", "1501729995", "2110625629"]


def _truncate(db: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with db.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


class Leg1Machine(RuleBasedStateMachine):
    """The state machine; ``url`` is set by the test before it runs."""

    url: str = ""
    fees = Bundle("fees")
    patrons = Bundle("patrons")

    @initialize(target=patrons)
    def set_up(self) -> object:
        self.db = Database(self.url)
        _truncate(self.db)
        self.system: System = build_system(
            db=self.db, clock=SettableClock.at_date(date(2026, 3, 2))
        )
        set_up_kobenhavn(self.system)
        with self.db.begin() as conn:
            patron = accounts.create_patron(conn, self.system.clock, K, cpr=CPRS[0]).id
        self.regulations = 0  # messages that must each leave exactly one posting
        return patron

    def teardown(self) -> None:
        if hasattr(self, "db"):
            self.db.dispose()

    @rule(target=patrons, cpr=st.sampled_from(CPRS))
    def new_patron(self, cpr: str) -> object:
        with self.db.begin() as conn:
            return accounts.create_patron(conn, self.system.clock, K, cpr=cpr).id

    @rule(
        target=fees,
        patron=patrons,
        kind=st.sampled_from(["fee", "compensation"]),
        ore=st.integers(min_value=1, max_value=500_000),
        old=st.booleans(),
    )
    def new_fee(self, patron: int, kind: str, ore: int, old: bool) -> object:
        created = date(2025, 12, 1) if old else None
        with self.db.begin() as conn:
            fee = accounts.create_fee(
                conn,
                self.system.clock,
                K,
                NewFee(patron_id=patron, kind=kind, amount=Money(ore), creation_date=created),
            )
        if not fee.old:
            self.regulations += 1
        return fee.id

    @rule(fee=fees, ore=st.integers(min_value=1, max_value=600_000), up=st.booleans())
    def regulate(self, fee: int, ore: int, up: bool) -> None:
        try:
            with self.db.begin() as conn:
                before = accounts.get_fee(conn, K, fee)
                if up:
                    accounts.write_up(conn, self.system.clock, K, fee, Money(ore))
                else:
                    accounts.write_down(conn, self.system.clock, K, fee, Money(ore))
        except DomainError:
            return  # refused (below zero, not open): nothing changed
        if before.in_debtor:
            self.regulations += 1

    @rule(fee=fees)
    def cancel(self, fee: int) -> None:
        try:
            with self.db.begin() as conn:
                before = accounts.get_fee(conn, K, fee)
                accounts.cancel_fee(conn, self.system.clock, K, fee, "afleveret")
        except DomainError:
            return
        if before.in_debtor and before.open.ore > 0:
            self.regulations += 1

    @rule(patron=patrons, cpr=st.sampled_from(CPRS))
    def change_debtor(self, patron: int, cpr: str) -> None:
        with self.db.begin() as conn:
            accounts.change_debtor(conn, self.system.clock, K, patron, cpr=cpr)

    @rule(n=st.integers(min_value=1, max_value=5))
    def deliver_some(self, n: int) -> None:
        """A worker that delivers a few rows, then 'crashes' (a new worker next time)."""
        worker = self.system.worker()
        for _ in range(n):
            if not worker.run_once():
                break

    @rule()
    def redeliver_everything(self) -> None:
        with self.db.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.status == "sent").values(status="pending"))

    @rule()
    def reorder_pending(self) -> None:
        """The oldest pending message goes to the back of the queue."""
        with self.db.begin() as conn:
            first = conn.execute(
                select(func.min(outbox.c.id)).where(outbox.c.status == "pending")
            ).scalar_one()
            if first is not None:
                top = conn.execute(select(func.max(outbox.c.id))).scalar_one()
                conn.execute(update(outbox).where(outbox.c.id == first).values(id=top + 1))

    @invariant()
    def agree_after_drain(self) -> None:
        if not hasattr(self, "system"):
            return
        self.system.worker().drain(timeout_s=60)
        with self.db.connect() as conn:
            result = reconcile(conn, K)
            problems = guard.check_ledger(conn, K)
            n_postings = conn.execute(select(func.count()).select_from(postings)).scalar_one()
            dead = conn.execute(
                select(func.count()).select_from(outbox).where(outbox.c.status != "sent")
            ).scalar_one()
        assert dead == 0
        assert problems == []
        assert result.differences == [], result.differences
        # every regulation that reached debtor is exactly one posting: nothing applied twice
        assert n_postings == self.regulations, (n_postings, self.regulations)


def _run(postgres_url: str, examples: int, steps: int) -> None:
    Leg1Machine.url = postgres_url
    test = Leg1Machine.TestCase
    test.settings = settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    test().runTest()


def test_library_and_debtor_agree_under_faults(postgres_url: str) -> None:
    _run(postgres_url, examples=8, steps=25)


@pytest.mark.slow
def test_library_and_debtor_agree_under_faults_long(postgres_url: str) -> None:
    _run(postgres_url, examples=int(os.environ.get("FAULT_EXAMPLES", "60")), steps=50)
