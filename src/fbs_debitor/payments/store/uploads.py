"""Queries of the bank upload jobs (``payments_bank_upload``): one row per bank file uploaded
over HTTP, claimed by exactly one runner (a conditional UPDATE, so it works alike on SQLite and
PostgreSQL), with its heartbeat, progress and outcome."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, insert, or_, select, update

from fbs_debitor.payments.store.tables import bank_uploads


def insert_job(conn: Connection, values: Mapping[str, Any]) -> int:
    result = conn.execute(insert(bank_uploads).values(**values).returning(bank_uploads.c.id))
    return int(result.scalar_one())


def job(conn: Connection, municipality: str, job_id: int) -> Row[Any] | None:
    return conn.execute(
        select(bank_uploads).where(
            bank_uploads.c.municipality == municipality, bank_uploads.c.id == job_id
        )
    ).first()


def job_by_id(conn: Connection, job_id: int) -> Row[Any] | None:
    return conn.execute(select(bank_uploads).where(bank_uploads.c.id == job_id)).first()


def claim(conn: Connection, job_id: int, now: datetime, stale_before: datetime) -> bool:
    """Take the job to run it: only a queued job, or one importing whose heartbeat stopped
    before ``stale_before`` (its runner died). True when this caller got it."""
    result = conn.execute(
        update(bank_uploads)
        .where(
            bank_uploads.c.id == job_id,
            or_(
                bank_uploads.c.state == "queued",
                and_(
                    bank_uploads.c.state == "importing",
                    bank_uploads.c.updated_at < stale_before,
                ),
            ),
        )
        .values(state="importing", started_at=now, updated_at=now)
    )
    return result.rowcount == 1


def waiting(conn: Connection, node: str, stale_before: datetime, limit: int = 10) -> list[int]:
    """Jobs of this node nobody runs: queued, or importing with a stopped heartbeat."""
    rows = conn.execute(
        select(bank_uploads.c.id)
        .where(
            bank_uploads.c.node == node,
            or_(
                bank_uploads.c.state == "queued",
                and_(
                    bank_uploads.c.state == "importing",
                    bank_uploads.c.updated_at < stale_before,
                ),
            ),
        )
        .order_by(bank_uploads.c.id)
        .limit(limit)
    ).scalars()
    return [int(r) for r in rows]


def heartbeat(conn: Connection, job_id: int, payments: int, now: datetime) -> None:
    conn.execute(
        update(bank_uploads)
        .where(bank_uploads.c.id == job_id, bank_uploads.c.state == "importing")
        .values(payments=payments, updated_at=now)
    )


def finish(
    conn: Connection,
    job_id: int,
    now: datetime,
    *,
    summary: str | None = None,
    payments: int | None = None,
    error_code: str | None = None,
    error_detail: str | None = None,
) -> None:
    values: dict[str, Any] = {
        "state": "failed" if error_code else "done",
        "summary": summary,
        "error_code": error_code,
        "error_detail": error_detail,
        "finished_at": now,
        "updated_at": now,
    }
    if payments is not None:
        values["payments"] = payments
    conn.execute(update(bank_uploads).where(bank_uploads.c.id == job_id).values(**values))
