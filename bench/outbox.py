"""Messages per second through outbox -> worker -> inbox, against bare row inserts as ceiling.

Both sides write the same number of rows with the same payload, one statement per row and
``--batch`` rows per transaction (how a producer writes: a business transaction per change,
here grouped). ``ratio`` = messages_per_s / bare_inserts_per_s. Target: >= 0.25.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, Text, insert

from bench.common import parser, run
from fbs_debitor.core.db import Database, UtcDateTime
from fbs_debitor.messaging.envelope import Envelope
from fbs_debitor.messaging.outbox import publish
from fbs_debitor.messaging.router import Router
from fbs_debitor.messaging.worker import Worker, WorkerConfig

bare_md = MetaData()
bare = Table(
    "bench_bare",
    bare_md,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(36)),
    Column("message_type", String(120)),
    Column("municipality", String(3)),
    Column("payload", Text),
    Column("occurred_at", UtcDateTime),
)
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def payload(i: int) -> dict[str, Any]:
    return {
        "claim_id": f"fee-{i}",
        "amount_ore": 12500,
        "kind": "fee",
        "text": "Overskredet lånetid",
    }


def bench(db: Database, n: int, batch: int) -> dict[str, Any]:
    import json
    import uuid

    bare_md.create_all(db.engine)
    t = time.perf_counter()
    for start in range(0, n, batch):
        with db.begin() as conn:
            for i in range(start, min(n, start + batch)):
                conn.execute(
                    insert(bare).values(
                        message_id=str(uuid.uuid4()),
                        message_type="registration.ClaimRegistered.v1",
                        municipality="101",
                        payload=json.dumps(payload(i)),
                        occurred_at=T0,
                    )
                )
    bare_s = time.perf_counter() - t

    applied = 0

    def handler(conn: Connection, env: Envelope) -> None:
        nonlocal applied
        applied += 1

    router = Router()
    router.subscribe("registration.ClaimRegistered.v1", "bench", handler)
    worker = Worker(db, router, WorkerConfig(batch_size=500))
    t = time.perf_counter()
    for start in range(0, n, batch):
        with db.begin() as conn:
            for i in range(start, min(n, start + batch)):
                publish(
                    conn,
                    message_type="registration.ClaimRegistered.v1",
                    source="bench",
                    municipality="101",
                    payload=payload(i),
                    occurred_at=T0,
                    leg="leg1",
                )
    produced_s = time.perf_counter() - t
    worker.drain(timeout_s=3600, wait_for_delayed=False)
    total_s = time.perf_counter() - t
    assert applied == n, f"applied {applied} of {n}"
    messages_per_s = n / total_s
    bare_per_s = n / bare_s
    return {
        "messages": n,
        "batch": batch,
        "messages_per_s": round(messages_per_s, 1),
        "bare_inserts_per_s": round(bare_per_s, 1),
        "ratio": round(messages_per_s / bare_per_s, 3),
        "produce_s": round(produced_s, 3),
        "deliver_s": round(total_s - produced_s, 3),
    }


def main() -> None:
    p = parser("outbox", __doc__ or "")
    p.add_argument("--messages", type=int, default=20000)
    p.add_argument("--batch", type=int, default=100, help="rows per producer transaction")
    args = p.parse_args()
    run("outbox", args.database, lambda db: bench(db, args.messages, args.batch))


if __name__ == "__main__":
    main()
