"""Outbox, inbox and worker: exactly-once, retries, dead letters, ordering, concurrency."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    update,
)

from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.db import Database
from fbs_debitor.messaging.envelope import Envelope
from fbs_debitor.messaging.outbox import publish
from fbs_debitor.messaging.router import Router
from fbs_debitor.messaging.store import inbox, outbox
from fbs_debitor.messaging.worker import Worker, WorkerConfig

test_metadata = MetaData()
effects = Table(
    "test_effects",
    test_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(36), nullable=False),
    Column("value", String(50), nullable=False),
)
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
def db(database: Database) -> Iterator[Database]:
    test_metadata.drop_all(database.engine, checkfirst=True)
    test_metadata.create_all(database.engine)
    yield database
    test_metadata.drop_all(database.engine, checkfirst=True)


def record_effect(conn: Connection, env: Envelope) -> None:
    conn.execute(insert(effects).values(message_id=env.message_id, value=env.payload["value"]))


def make_router(handler=record_effect) -> Router:  # type: ignore[no-untyped-def]
    router = Router()
    router.subscribe("test.Thing.v1", "test-consumer", handler)
    return router


def send(db: Database, value: str, **kw) -> str:  # type: ignore[no-untyped-def]
    with db.begin() as conn:
        return publish(
            conn,
            message_type="test.Thing.v1",
            source="test",
            municipality="101",
            payload={"value": value},
            occurred_at=T0,
            **kw,
        )


def effect_values(db: Database) -> list[str]:
    with db.connect() as conn:
        return [r.value for r in conn.execute(select(effects).order_by(effects.c.id))]


def redeliver(db: Database, message_id: str) -> None:
    """Make the outbox think the acknowledgement was lost."""
    with db.begin() as conn:
        conn.execute(
            update(outbox)
            .where(outbox.c.message_id == message_id)
            .values(status="pending", sent_at=None)
        )


def test_message_is_applied_once_when_delivered_three_times(db: Database) -> None:
    mid = send(db, "a")
    worker = Worker(db, make_router())
    for _ in range(3):
        worker.drain()
        redeliver(db, mid)
    worker.drain()
    assert effect_values(db) == ["a"]
    with db.connect() as conn:
        row = conn.execute(select(outbox).where(outbox.c.message_id == mid)).one()
        applied = conn.execute(select(inbox).where(inbox.c.message_id == mid)).one()
    assert row.status == "sent"
    assert row.sent_at is not None and row.sent_at.tzinfo is not None
    assert applied.applied_at >= applied.enqueued_at


def test_crash_between_effect_and_acknowledge_redelivers_and_changes_nothing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    send(db, "a")
    send(db, "b")
    worker = Worker(db, make_router())

    def crash(*_args: object, **_kw: object) -> None:
        raise KeyboardInterrupt("worker killed before acknowledging")

    monkeypatch.setattr(worker, "_write", crash)
    with pytest.raises(KeyboardInterrupt):
        worker.run_once()
    # the handlers ran, but nothing of the batch survived the crash
    assert effect_values(db) == []
    monkeypatch.undo()
    assert worker.drain() == 2
    assert effect_values(db) == ["a", "b"]
    # and a later redelivery of both changes nothing
    with db.begin() as conn:
        conn.execute(update(outbox).values(status="pending"))
    worker.drain()
    assert effect_values(db) == ["a", "b"]


def outbox_row(db: Database, message_id: str) -> Any:
    with db.connect() as conn:
        return conn.execute(select(outbox).where(outbox.c.message_id == message_id)).one()


def test_failing_handler_is_retried_with_backoff_then_dead_lettered(db: Database) -> None:
    calls: list[str] = []

    def flaky(conn: Connection, env: Envelope) -> None:
        calls.append(env.payload["value"])
        if env.payload["value"] == "bad":
            raise RuntimeError("receiver refused")
        record_effect(conn, env)

    clock = SettableClock(T0)
    config = WorkerConfig(max_attempts=3, backoff_base_s=60.0, backoff_max_s=3600.0)
    worker = Worker(db, make_router(flaky), config, clock=clock)
    send(db, "good-1")
    bad = send(db, "bad")
    send(db, "good-2")
    worker.drain(wait_for_delayed=False)
    # the failing message did not hold back the others
    assert effect_values(db) == ["good-1", "good-2"]
    assert calls.count("bad") == 2  # fast pass, then the careful pass that records attempt 1
    for attempt in (2, 3):
        # not due until the clock has moved past its backoff: no real time passes here
        assert worker.run_once() == 0
        clock.set(outbox_row(db, bad).available_at)
        assert worker.run_once() == 1
        assert outbox_row(db, bad).attempts == attempt
    assert calls.count("bad") == 3 + 1  # fast pass once, then careful passes until dead
    row = outbox_row(db, bad)
    assert row.status == "dead"
    assert row.attempts == 3
    assert "RuntimeError: receiver refused" in row.last_error
    assert effect_values(db) == ["good-1", "good-2"]


def test_backoff_grows_exponentially_on_the_injected_clock(db: Database) -> None:
    def always_fails(conn: Connection, env: Envelope) -> None:
        raise RuntimeError("down")

    clock = SettableClock(T0)
    config = WorkerConfig(max_attempts=10, backoff_base_s=10.0, backoff_max_s=1000.0)
    worker = Worker(db, make_router(always_fails), config, clock=clock)
    mid = send(db, "x")
    delays = []
    for _ in range(3):
        assert worker.run_once() == 1
        due = outbox_row(db, mid).available_at
        delays.append((due - clock.now()).total_seconds())
        # one second before it is due the message waits; at its time it is retried
        clock.set(due - timedelta(seconds=1))
        assert worker.run_once() == 0
        clock.set(due)
    # base 10 s doubling, plus up to 10 % jitter
    assert 10 <= delays[0] <= 11
    assert 20 <= delays[1] <= 22
    assert 40 <= delays[2] <= 44
    assert outbox_row(db, mid).attempts == 3


def test_backoff_is_capped(db: Database) -> None:
    def always_fails(conn: Connection, env: Envelope) -> None:
        raise RuntimeError("down")

    clock = SettableClock(T0)
    config = WorkerConfig(max_attempts=20, backoff_base_s=10.0, backoff_max_s=60.0)
    worker = Worker(db, make_router(always_fails), config, clock=clock)
    mid = send(db, "x")
    for _ in range(6):
        assert worker.run_once() == 1
        clock.set(outbox_row(db, mid).available_at)
    assert worker.run_once() == 1
    delay = (outbox_row(db, mid).available_at - clock.now()).total_seconds()
    assert 60 <= delay <= 66


def test_messages_of_one_key_apply_in_sequence_even_when_reordered(db: Database) -> None:
    send(db, "second", ordering_key="claim-1", sequence=2)
    send(db, "third", ordering_key="claim-1", sequence=3)
    send(db, "other", ordering_key="claim-2", sequence=1)
    clock = SettableClock(T0)  # no time passes in this test: the worker does not wait for it
    worker = Worker(db, make_router(), WorkerConfig(), clock=clock)
    assert worker.run_once() == 3
    assert effect_values(db) == ["other"]  # claim-1 waits for its first message
    assert worker.run_once() == 0  # the early ones are not due again while nothing moved on
    send(db, "first", ordering_key="claim-1", sequence=1)
    worker.drain(timeout_s=10, wait_for_delayed=False)
    assert effect_values(db) == ["other", "first", "second", "third"]
    assert worker.pending_count() == 0


def test_message_without_subscriber_is_marked_sent(db: Database) -> None:
    with db.begin() as conn:
        mid = publish(
            conn,
            message_type="nobody.Listens.v1",
            source="test",
            municipality="101",
            payload={},
            occurred_at=T0,
        )
    Worker(db, make_router()).drain()
    with db.connect() as conn:
        assert (
            conn.execute(select(outbox.c.status).where(outbox.c.message_id == mid)).scalar_one()
            == "sent"
        )


def test_publish_rolls_back_with_the_senders_transaction(db: Database) -> None:
    with pytest.raises(RuntimeError), db.begin() as conn:
        publish(
            conn,
            message_type="test.Thing.v1",
            source="test",
            municipality="101",
            payload={"value": "x"},
            occurred_at=T0,
        )
        raise RuntimeError("business rule failed")
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(outbox)).scalar_one() == 0


def test_two_workers_on_postgresql_never_apply_the_same_message_twice(
    postgres_database: Database,
) -> None:
    db = postgres_database
    test_metadata.drop_all(db.engine, checkfirst=True)
    test_metadata.create_all(db.engine)
    try:
        n = 1500
        with db.begin() as conn:
            for i in range(n):
                publish(
                    conn,
                    message_type="test.Thing.v1",
                    source="test",
                    municipality="101",
                    payload={"value": str(i)},
                    occurred_at=T0,
                )
        router = make_router()
        workers = [Worker(db, router, WorkerConfig(batch_size=50), name=f"w{i}") for i in range(2)]
        applied_by: list[int] = [0, 0]

        def run(i: int) -> None:
            applied_by[i] = workers[i].drain(timeout_s=60, wait_for_delayed=False)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        values = effect_values(db)
        assert len(values) == n
        assert len(set(values)) == n
        assert sum(applied_by) == n
        assert min(applied_by) > 0, "both workers took part"
    finally:
        test_metadata.drop_all(db.engine, checkfirst=True)


def test_batch_handler_gets_runs_in_order_and_failures_fall_back_to_one_by_one(
    db: Database,
) -> None:
    runs: list[list[str]] = []

    def one(conn: Connection, env: Envelope) -> None:
        if env.payload["value"] == "poison":
            raise RuntimeError("cannot apply")
        record_effect(conn, env)

    def many(conn: Connection, envs: list[Envelope]) -> None:
        runs.append([e.payload["value"] for e in envs])
        for env in envs:
            one(conn, env)

    router = Router()
    router.subscribe("test.Thing.v1", "test-consumer", one, batch=many)
    for v in ["a", "b", "c"]:
        send(db, v)
    worker = Worker(db, router, WorkerConfig(max_attempts=1))
    worker.drain()
    assert runs == [["a", "b", "c"]]
    assert effect_values(db) == ["a", "b", "c"]
    with db.connect() as conn:
        stamps = conn.execute(select(inbox.c.enqueued_at, inbox.c.applied_at)).all()
    assert all(applied >= enqueued for enqueued, applied in stamps)

    send(db, "d")
    poison = send(db, "poison")
    send(db, "e")
    worker.drain()
    # the run failed as a whole, then each message went alone: the good ones are applied once
    assert effect_values(db) == ["a", "b", "c", "d", "e"]
    with db.connect() as conn:
        assert (
            conn.execute(select(outbox.c.status).where(outbox.c.message_id == poison)).scalar_one()
            == "dead"
        )


def test_message_applied_over_another_path_is_skipped_by_the_worker(db: Database) -> None:
    """The fast path asks the inbox only about rows tried before; a message that reached the
    consumer another way (an HTTP service endpoint records it in the same inbox) is caught by
    the inbox's key, and the careful run skips it: applied once, marked sent, no error."""
    from fbs_debitor.messaging.inbox import record_applied

    first = send(db, "a")
    mid = send(db, "b")
    with db.begin() as conn:
        row = conn.execute(select(outbox).where(outbox.c.message_id == mid)).one()
        envelope = Envelope(
            message_id=mid,
            message_type=row.message_type,
            source=row.source,
            municipality=row.municipality,
            payload={"value": "b"},
            occurred_at=row.occurred_at,
            enqueued_at=row.enqueued_at,
        )
        assert record_applied(conn, "test-consumer", envelope)
        record_effect(conn, envelope)
    assert Worker(db, make_router()).drain() == 2
    assert effect_values(db) == ["b", "a"]
    with db.connect() as conn:
        rows = {r.message_id: r for r in conn.execute(select(outbox))}
        applied = set(conn.execute(select(inbox.c.message_id)).scalars())
    assert applied == {first, mid}
    for message_id in (first, mid):
        assert rows[message_id].status == "sent"
        assert rows[message_id].attempts == 0
        assert rows[message_id].last_error is None
