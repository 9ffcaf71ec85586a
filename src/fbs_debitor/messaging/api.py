"""HTTP for operators (role ``ops``): a municipality's messages by state, and dead letters
retried or discarded. Operators see and retry messages; they move no money and change no rule.

``GET /api/v1/{kommunekode}/messages?status=dead`` lists (newest first, keyset-paginated by
``before``); ``POST .../messages/{message_id}/retry`` queues a dead letter again;
``POST .../messages/{message_id}/discard`` (with a reason) gives it up for good. The payload is
not shown: it can hold a CPR number. The last error is shown with CPR numbers masked.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select, update

from fbs_debitor.core.errors import ConflictError, NotFoundError
from fbs_debitor.core.http import request_system
from fbs_debitor.core.ids import mask_cprs_in_text
from fbs_debitor.messaging.outbox import requeue_dead
from fbs_debitor.messaging.store import outbox

router = APIRouter(prefix="/api/v1/{kommunekode}", tags=["ops"])

MessageId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9a-fA-F-]+$")]


class DiscardIn(BaseModel):
    reason: str = Field(min_length=3, max_length=500, description="Why it is given up")


def _row(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "message_id": r.message_id,
        "message_type": r.message_type,
        "status": r.status,
        "attempts": r.attempts,
        "occurred_at": r.occurred_at,
        "available_at": r.available_at,
        "last_error": mask_cprs_in_text(r.last_error) if r.last_error else None,
    }


@router.get("/messages")
def list_messages(
    kommunekode: str,
    request: Request,
    status: Literal["pending", "sent", "dead", "discarded"] = "dead",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> dict[str, Any]:
    """The municipality's messages in one state, newest first; ``next`` continues the list."""
    where = (outbox.c.municipality == kommunekode) & (outbox.c.status == status)
    if before is not None:
        where &= outbox.c.id < before
    with request_system(request).db.connect() as conn:
        rows = conn.execute(
            select(outbox).where(where).order_by(outbox.c.id.desc()).limit(limit)
        ).all()
    items = [_row(r) for r in rows]
    return {"messages": items, "next": items[-1]["id"] if len(items) == limit else None}


def _dead_letter(conn: Any, kommunekode: str, message_id: str) -> Any:
    row = conn.execute(
        select(outbox).where(
            (outbox.c.municipality == kommunekode) & (outbox.c.message_id == message_id)
        )
    ).first()
    if row is None:
        raise NotFoundError(f"no message {message_id}", code="no-message")
    if row.status != "dead":
        raise ConflictError(f"message {message_id} is {row.status}, not dead", code="not-dead")
    return row


@router.post("/messages/{message_id}/retry")
def retry_message(kommunekode: str, message_id: MessageId, request: Request) -> dict[str, Any]:
    """Queue a dead letter again (its attempts start over)."""
    with request_system(request).db.begin() as conn:
        _dead_letter(conn, kommunekode, message_id)
        requeue_dead(conn, outbox.c.message_id == message_id)
        row = conn.execute(select(outbox).where(outbox.c.message_id == message_id)).one()
    return _row(row)


@router.post("/messages/{message_id}/discard")
def discard_message(
    kommunekode: str, message_id: MessageId, body: DiscardIn, request: Request
) -> dict[str, Any]:
    """Give a dead letter up for good (it stays listed as ``discarded``; the audit log names
    who and why)."""
    with request_system(request).db.begin() as conn:
        _dead_letter(conn, kommunekode, message_id)
        conn.execute(
            update(outbox).where(outbox.c.message_id == message_id).values(status="discarded")
        )
        row = conn.execute(select(outbox).where(outbox.c.message_id == message_id)).one()
    return _row(row)
