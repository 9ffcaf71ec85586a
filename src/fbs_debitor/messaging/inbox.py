"""Recording a message as applied, for receivers outside the worker (HTTP service endpoints)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from fbs_debitor.messaging.envelope import Envelope
from fbs_debitor.messaging.outbox import wall_now
from fbs_debitor.messaging.store import inbox


def already_applied(conn: Connection, consumer: str, message_id: str) -> bool:
    return (
        conn.execute(
            select(inbox.c.message_id).where(
                inbox.c.consumer == consumer, inbox.c.message_id == message_id
            )
        ).first()
        is not None
    )


def record_applied(conn: Connection, consumer: str, envelope: Envelope) -> bool:
    """Insert the inbox row in the caller's transaction; False if it was applied before.

    Call it *before* the effect and skip the effect when it returns False. Two concurrent
    callers with the same id: the unique key lets one commit and the other fail, rolling back
    its effect with it.
    """
    if already_applied(conn, consumer, envelope.message_id):
        return False
    conn.execute(
        inbox.insert().values(
            consumer=consumer,
            message_id=envelope.message_id,
            source=envelope.source,
            message_type=envelope.message_type,
            municipality=envelope.municipality,
            leg=envelope.leg,
            occurred_at=envelope.occurred_at,
            enqueued_at=envelope.enqueued_at,
            applied_at=wall_now(),
        )
    )
    return True
