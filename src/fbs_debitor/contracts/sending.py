"""Put a contract in the outbox (in the caller's transaction)."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import Connection

from fbs_debitor.contracts.base import Contract
from fbs_debitor.messaging.outbox import outbox_row, publish, publish_many, wall_now


def send(
    conn: Connection,
    message: Contract,
    *,
    source: str,
    sequence: int | None = None,
    leg: str | None = None,
    message_id: str | None = None,
) -> str:
    """Publish ``message``; ordered contracts need their per-claim ``sequence``."""
    return publish(conn, **_fields(message, source, sequence, leg, message_id))


class Outgoing(NamedTuple):
    """One message for :func:`send_many`."""

    message: Contract
    sequence: int | None = None
    message_id: str | None = None
    leg: str | None = None
    """The delay leg this message ends (default: ``send_many``'s ``leg``)."""


def send_many(
    conn: Connection,
    messages: list[Outgoing],
    *,
    source: str,
    leg: str | None = None,
) -> list[str]:
    """Publish many messages with one executemany; returns their ids in order."""
    now = wall_now()
    rows = [
        outbox_row(**_fields(m, source, seq, own_leg or leg, mid), now=now)
        for m, seq, mid, own_leg in messages
    ]
    publish_many(conn, rows)
    return [str(r["message_id"]) for r in rows]


def _fields(
    message: Contract, source: str, sequence: int | None, leg: str | None, message_id: str | None
) -> dict[str, Any]:
    ordering_key: str | None = None
    if message.ORDERED:
        if sequence is None:
            raise ValueError(f"{message.MESSAGE_TYPE} is ordered per claim: give its sequence")
        ordering_key = getattr(message, "ordering_key")  # noqa: B009 - ClaimMessage property
    return dict(
        message_type=message.MESSAGE_TYPE,
        source=source,
        municipality=message.municipality,
        payload=message.to_payload(),
        occurred_at=message.occurred_at,
        ordering_key=ordering_key,
        sequence=sequence if ordering_key else None,
        leg=leg,
        message_id=message_id,
    )
