"""Writing to the outbox, in the caller's transaction."""

from __future__ import annotations

import itertools
import json
import os
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, insert, update

from fbs_debitor.core.fastsql import insert_dicts
from fbs_debitor.messaging.store import outbox


def wall_now() -> datetime:
    """Wall-clock time for delivery bookkeeping and delay figures (never business time)."""
    return datetime.now(UTC)


_TAIL = (1 << 62) - 1


class _MessageIds:
    """Time-ordered UUIDs (version 7, RFC 9562): 48 bits of Unix milliseconds, 12 bits of the
    millisecond's fraction, then a per-process random start plus a counter.

    Ids that grow with time go into the outbox's and the inbox's unique indexes at the right
    edge, where the pages are already in memory, instead of at random places all over a large
    index (random version-4 ids cost PostgreSQL and SQLite a page each); and no system call
    for randomness per id. Unique across processes: each process (and each forked child)
    starts its counter at its own 62 random bits."""

    def __init__(self) -> None:
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        self._counter = itertools.count(secrets.randbits(62))

    def __call__(self) -> str:
        ns = time.time_ns()
        fraction = (ns % 1_000_000) * 4096 // 1_000_000
        value = (
            ((ns // 1_000_000) << 80)
            | (0x7000 | fraction) << 64
            | (0b10 << 62)
            | (next(self._counter) & _TAIL)
        )
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


new_message_id = _MessageIds()
"""A new message id: ``new_message_id()`` gives UUID text, time-ordered (see above)."""


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def encode_payload(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, default=_json_default, separators=(",", ":"), ensure_ascii=False)


def publish(
    conn: Connection,
    *,
    message_type: str,
    source: str,
    municipality: str,
    payload: Mapping[str, Any],
    occurred_at: datetime,
    ordering_key: str | None = None,
    sequence: int | None = None,
    leg: str | None = None,
    message_id: str | None = None,
) -> str:
    """Put one message in the outbox within ``conn``'s transaction; returns its message id.

    The message is delivered only if the caller's transaction commits: the state change and the
    message stand or fall together.
    """
    row = outbox_row(
        message_type=message_type,
        source=source,
        municipality=municipality,
        payload=payload,
        occurred_at=occurred_at,
        ordering_key=ordering_key,
        sequence=sequence,
        leg=leg,
        message_id=message_id,
    )
    conn.execute(_INSERT, row)
    return str(row["message_id"])


def outbox_row(
    *,
    message_type: str,
    source: str,
    municipality: str,
    payload: Mapping[str, Any],
    occurred_at: datetime,
    ordering_key: str | None = None,
    sequence: int | None = None,
    leg: str | None = None,
    message_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The outbox row of one message (for :func:`publish_many`); ``now``: its enqueue time
    (default: the wall clock now; rows written together may share one)."""
    if (ordering_key is None) != (sequence is None):
        raise ValueError("ordering_key and sequence go together")
    if sequence is not None and sequence < 1:
        raise ValueError("sequence starts at 1")
    mid = message_id or new_message_id()
    now = now or wall_now()
    return {
        "message_id": mid,
        "message_type": message_type,
        "source": source,
        "municipality": municipality,
        "payload": encode_payload(payload),
        "ordering_key": ordering_key,
        "sequence": sequence,
        "leg": leg,
        "occurred_at": occurred_at,
        "enqueued_at": now,
        "available_at": now,
        "status": "pending",
        "attempts": 0,
        "deferrals": 0,
    }


def publish_many(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Put many messages (rows from :func:`outbox_row`) in the outbox with one executemany."""
    insert_dicts(conn, outbox, rows)


_INSERT = insert(outbox)
"""One statement object for every publish, so SQLAlchemy compiles it once."""


def requeue_dead(conn: Connection, where: ColumnElement[bool]) -> None:
    """Put the dead letters that ``where`` selects back in the queue, their attempts anew."""
    conn.execute(
        update(outbox)
        .where((outbox.c.status == "dead") & where)
        .values(status="pending", attempts=0, deferrals=0, available_at=wall_now())
    )
