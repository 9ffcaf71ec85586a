"""What people read of collection: the claims handed over by state, the list waiting for a
person, the runs, PSRM's settled total. Read-only; the CLI (``psrm status``) and the HTTP routes
(``collection.api``) show the same figures from here."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, func, select

from fbs_debitor.collection.model.actions import State
from fbs_debitor.collection.model.eligibility import Reason
from fbs_debitor.collection.store import claims as store
from fbs_debitor.collection.store.tables import claims, runs

CHANGE_REJECTED = "change-rejected-by-psrm"


def claim_list(
    conn: Connection,
    municipality: str,
    *,
    state: State | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Claims collection holds (of ``state``, or all), newest hand-over first."""
    query = select(claims).where(claims.c.municipality == municipality)
    if state is not None:
        query = query.where(claims.c.state == state.value)
    rows = conn.execute(
        query.order_by(claims.c.updated_at.desc(), claims.c.id.desc()).limit(limit).offset(offset)
    )
    return [
        {
            "claim_id": r.claim_id,
            "state": r.state,
            "psrm_claim_type": r.psrm_claim_type,
            "psrm_claim_id": r.psrm_claim_id,
            "handed_over_on": r.handed_over_on.isoformat(),
            "handed_over_ore": int(r.handed_over_ore),
            "return_code": r.return_code,
            "return_reason": r.return_reason,
        }
        for r in rows
    ]


def waiting_list(conn: Connection, municipality: str) -> list[dict[str, str]]:
    """Claims a person must decide on: those PSRM returned (with its reason), changes PSRM
    rejected (``change-rejected-by-psrm``: PSRM holds another amount than debtor), and those the
    last run left waiting (unacknowledged replacement charges)."""
    out = [
        {
            "claim_id": c.claim_id,
            "reason": Reason.RETURNED_BY_PSRM.value,
            "text": f"{c.return_code or ''}: {c.return_reason or ''}".strip(": "),
        }
        for c in store.claims_in(conn, municipality, [State.RETURNED])
    ]
    out += [
        {
            "claim_id": r.claim_id,
            "reason": CHANGE_REJECTED,
            "text": f"{r.aktion} {r.aarsagskode or ''} {abs(int(r.amount_ore))} øre: "
            f"{r.answer_code or ''} {r.answer_text or ''}".replace("  ", " ").strip(),
        }
        for r in store.rejected_changes(conn, municipality)
    ]
    returned = {w["claim_id"] for w in out}
    out += [
        {"claim_id": claim_id, "reason": reason, "text": Reason(reason).danish}
        for claim_id, reason in store.waiting(conn, municipality)
        if claim_id not in returned
    ]
    return out


def run_list(conn: Connection, municipality: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """The latest hand-over runs with their counts."""
    rows = conn.execute(
        select(runs)
        .where(runs.c.municipality == municipality)
        .order_by(runs.c.id.desc())
        .limit(limit)
    )
    return [
        {
            "date": r.run_on.isoformat(),
            "at": r.at.isoformat(),
            "evaluated": int(r.evaluated),
            "eligible": int(r.eligible),
            "handed_over": int(r.handed_over),
            "not_eligible": json.loads(r.not_eligible),
        }
        for r in rows
    ]


def status(conn: Connection, municipality: str) -> dict[str, Any]:
    """Claims by state, what PSRM settled, how many wait for a person."""
    return {
        "municipality": municipality,
        "claims_by_state": dict(sorted(store.state_counts(conn, municipality).items())),
        "psrm_settled_ore": store.settled_total(conn, municipality),
        "waiting_for_a_person": waiting_list(conn, municipality),
    }


def claims_total(conn: Connection, municipality: str) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(claims).where(claims.c.municipality == municipality)
        ).scalar_one()
    )
