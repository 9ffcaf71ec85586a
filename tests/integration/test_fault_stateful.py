"""Fault test (hypothesis, stateful): fees, regulation, debtor changes, partial deliveries by
crashing workers, redelivered and reordered messages, interleaved at random. Delivery is a rule,
so the faults act on a queue with messages in it; after every step (read-only) the ledger is
sound and nothing was applied twice; whenever the queue is drained (a rule, and at the end of
every run) library and debtor agree to the øre.

Runs on SQLite and PostgreSQL; the long variant (PostgreSQL) is marked ``slow`` (CI runs it).
``pytest --hypothesis-show-statistics`` shows how often partial delivery and reordering acted.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)
from hypothesis.statistics import collector, describe_statistics
from sqlalchemy import Connection, delete, func, insert, select, update

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
from fbs_debitor.messaging.worker import Worker, WorkerConfig
from fbs_debitor.reconcile import reconcile
from fbs_debitor.schema import metadata
from tests.integration.municipality_support import K, set_up_kobenhavn

CPRS = ["0101901234", "0202652345", "1501729995", "2110625629"]


def _empty(db: Database) -> None:
    """Every table emptied (each example starts from nothing), on either database."""
    with db.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(delete(table))


class Leg1Machine(RuleBasedStateMachine):
    """The state machine; ``database`` is set by the test before it runs."""

    database: Database
    fees = Bundle("fees")
    patrons = Bundle("patrons")

    @initialize(target=patrons)
    def set_up(self) -> object:
        self.db = Database(self.database.url)
        _empty(self.db)
        self.system: System = build_system(
            db=self.db, clock=SettableClock.at_date(date(2026, 3, 2))
        )
        set_up_kobenhavn(self.system)
        with self.db.begin() as conn:
            patron = accounts.create_patron(conn, self.system.clock, K, cpr=CPRS[0]).id
        self.regulations = 0  # messages that must each leave exactly one posting
        return patron

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

    # -- delivery: rules, so that faults act on a queue that has messages in it ----------------

    def _pending(self, conn: Connection) -> list[int]:
        return list(
            conn.execute(
                select(outbox.c.id).where(outbox.c.status == "pending").order_by(outbox.c.id)
            ).scalars()
        )

    @rule(n=st.integers(min_value=1, max_value=5))
    def deliver_some(self, n: int) -> None:
        """A worker that delivers ``n`` rows one at a time, then 'crashes' (a new worker next
        time): the rest of the queue stays pending for the faults below."""
        with self.db.connect() as conn:
            before = len(self._pending(conn))
        if before == 0:
            event("deliver_some: queue empty")
            return
        worker = Worker(
            self.db, self.system.router, WorkerConfig(batch_size=1), clock=self.system.clock
        )
        for _ in range(n):
            if not worker.run_once():
                break
        with self.db.connect() as conn:
            after = len(self._pending(conn))
        if after > 0:
            event("deliver_some: partial delivery (some of a non-empty queue left pending)")
        else:
            event("deliver_some: delivered the whole non-empty queue")

    @rule()
    def redeliver_duplicates(self) -> None:
        """The acknowledgements were lost: every sent message is delivered again."""
        with self.db.begin() as conn:
            n = conn.execute(
                update(outbox)
                .where(outbox.c.status == "sent")
                .values(status="pending", sent_at=None)
            ).rowcount
        event(
            "redeliver_duplicates: sent messages made pending again"
            if n
            else "redeliver_duplicates: nothing sent yet"
        )

    @rule()
    def reorder_pending(self) -> None:
        """The oldest pending message goes to the back of the queue (a new row id, so the
        database's own id sequence stays ahead of it)."""
        with self.db.begin() as conn:
            pending = self._pending(conn)
            if len(pending) < 2:
                event("reorder_pending: fewer than two pending, nothing to reorder")
                return
            row = conn.execute(select(outbox).where(outbox.c.id == pending[0])).one()._asdict()
            conn.execute(delete(outbox).where(outbox.c.id == pending[0]))
            del row["id"]
            conn.execute(insert(outbox).values(**row))
        event("reorder_pending: oldest of >= 2 pending moved to the back")
        if row["ordering_key"] is not None:
            event("reorder_pending: a claim's message (ordering key) moved behind later ones")

    @rule()
    def drain_and_agree(self) -> None:
        """A worker delivers everything: then library and debtor agree."""
        self._drain_and_check()

    # -- read-only checks ----------------------------------------------------------------------

    @invariant()
    def ledger_sound_and_nothing_applied_twice(self) -> None:
        """Mid-flight, too: the ledger is sound, no message is dead, and there are never more
        postings than messages that may each leave one (a duplicate would push it over)."""
        if not hasattr(self, "system"):
            return
        with self.db.connect() as conn:
            problems = guard.check_ledger(conn, K)
            n_postings = conn.execute(select(func.count()).select_from(postings)).scalar_one()
            dead = conn.execute(
                select(func.count()).select_from(outbox).where(outbox.c.status == "dead")
            ).scalar_one()
        assert problems == []
        assert dead == 0
        assert n_postings <= self.regulations, (n_postings, self.regulations)

    def _drain_and_check(self) -> None:
        self.system.worker().drain(timeout_s=60)
        with self.db.connect() as conn:
            result = reconcile(conn, K)
            problems = guard.check_ledger(conn, K)
            n_postings = conn.execute(select(func.count()).select_from(postings)).scalar_one()
            left = conn.execute(
                select(func.count()).select_from(outbox).where(outbox.c.status != "sent")
            ).scalar_one()
        assert left == 0
        assert problems == []
        assert result.differences == [], result.differences
        # every regulation that reached debtor is exactly one posting: nothing applied twice
        assert n_postings == self.regulations, (n_postings, self.regulations)

    def teardown(self) -> None:
        """The run ends with the queue drained: library and debtor converge."""
        if not hasattr(self, "db"):
            return
        try:
            self._drain_and_check()
        finally:
            self.db.dispose()


def _run(request: pytest.FixtureRequest, database: Database, examples: int, steps: int) -> None:
    Leg1Machine.database = database
    test = Leg1Machine.TestCase
    test.settings = settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )

    # The machine runs inside this test function, which Hypothesis's pytest plugin does not see
    # as a Hypothesis test: hand its statistics (the events above) to the plugin ourselves, so
    # that ``--hypothesis-show-statistics`` reports them.
    def note_statistics(stats: Any) -> None:
        stats["nodeid"] = request.node.nodeid
        request.node.hypothesis_statistics = describe_statistics(stats)

    with collector.with_value(note_statistics):  # type: ignore[arg-type]
        test().runTest()


def test_library_and_debtor_agree_under_faults(
    request: pytest.FixtureRequest, database: Database
) -> None:
    _run(request, database, examples=20, steps=30)


@pytest.mark.slow
def test_library_and_debtor_agree_under_faults_long(
    request: pytest.FixtureRequest, postgres_database: Database
) -> None:
    _run(request, postgres_database, examples=int(os.environ.get("FAULT_EXAMPLES", "60")), steps=50)
