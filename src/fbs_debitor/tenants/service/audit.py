"""The audit log: who did what, when and why; append-only (the database refuses changes)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from fbs_debitor.core.clock import Clock
from fbs_debitor.core.ids import mask_cprs_in_text
from fbs_debitor.tenants.service.municipalities import get_municipality
from fbs_debitor.tenants.store.tables import (
    audit_log,
)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log: who (``actor``, ``role``) did what (``action`` on ``target``)
    when (``at``), why (``reason``, as given) and how it ended (``outcome``, the HTTP status)."""

    municipality: str
    actor: str
    role: str
    action: str
    target: str | None
    reason: str | None
    outcome: int


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _clean(text: str | None, length: int) -> str | None:
    """Masked, without control characters (a NUL cannot be stored), cut to ``length``."""
    if text is None:
        return None
    return mask_cprs_in_text(_CONTROL.sub("?", text))[:length] or None


def record_audit(conn: Connection, clock: Clock, entry: AuditEntry) -> None:
    """Append one entry (the table refuses UPDATE and DELETE). CPR numbers are masked, control
    characters replaced."""
    conn.execute(
        insert(audit_log).values(
            municipality=entry.municipality,
            at=clock.now(),
            actor=_clean(entry.actor, 120) or "unknown",
            role=entry.role[:20],
            action=_clean(entry.action, 200) or "unknown",
            target=_clean(entry.target, 300),
            reason=_clean(entry.reason, 500),
            outcome=entry.outcome,
        )
    )


def list_audit(
    conn: Connection, kommunekode: str, *, limit: int = 100, before: int | None = None
) -> list[dict[str, object]]:
    """The municipality's audit log, newest first; ``before`` (an entry id) pages back."""
    get_municipality(conn, kommunekode)
    where = audit_log.c.municipality == kommunekode
    if before is not None:
        where &= audit_log.c.id < before
    rows = conn.execute(
        select(audit_log).where(where).order_by(audit_log.c.id.desc()).limit(limit)
    ).all()
    return [
        {
            "id": r.id,
            "at": r.at,
            "actor": r.actor,
            "role": r.role,
            "action": r.action,
            "target": r.target,
            "reason": r.reason,
            "outcome": r.outcome,
        }
        for r in rows
    ]
