"""Put a contract in the outbox (in the caller's transaction)."""

from __future__ import annotations

from sqlalchemy import Connection

from fbs_debitor.contracts.base import Contract
from fbs_debitor.messaging import publish


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
    ordering_key: str | None = None
    if message.ORDERED:
        if sequence is None:
            raise ValueError(f"{message.MESSAGE_TYPE} is ordered per claim: give its sequence")
        ordering_key = getattr(message, "ordering_key")  # noqa: B009 - ClaimMessage property
    return publish(
        conn,
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
