"""Queries of the collection context: claims handed over, their actions, receipts,
notifications, cursors and runs."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from fbs_debitor.collection.model.actions import WITH_PSRM, State
from fbs_debitor.collection.model.eligibility import Record
from fbs_debitor.collection.model.psrm import Aktion, KvitteringStatus
from fbs_debitor.collection.store.tables import (
    actions,
    claims,
    cursors,
    notifications,
    receipts,
    runs,
)
from fbs_debitor.core.fastsql import among, insert_dicts

_RECORD = {
    State.SUBMITTED.value: Record.HELD,
    State.DONE.value: Record.HELD,
    State.HEARING.value: Record.HELD,
    State.RECALLED.value: Record.HELD,
    State.RETURNED.value: Record.RETURNED,
    State.RELEASED.value: Record.NONE,
}


def _insert(conn: Connection, table: Any) -> Any:
    """An INSERT that can say ON CONFLICT DO NOTHING on both databases."""
    return pg_insert(table) if conn.dialect.name == "postgresql" else sqlite_insert(table)


@dataclass(frozen=True, slots=True)
class HeldClaim:
    """A claim collection holds, as the services need it."""

    id: int
    municipality: str
    claim_id: str
    state: State
    psrm_claim_id: str | None
    handed_over_on: date
    handed_over_ore: int
    return_code: str | None
    return_reason: str | None
    sequence: int
    action_sequence: int


def records(conn: Connection, municipality: str) -> dict[str, Record]:
    """What collection holds of each claim it ever held, for eligibility."""
    rows = conn.execute(
        select(claims.c.claim_id, claims.c.state).where(claims.c.municipality == municipality)
    )
    return {r.claim_id: _RECORD[r.state] for r in rows}


def insert_new(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """Insert claims handed over for the first time; returns the claim ids this call inserted
    (a claim another run inserted first is skipped: the unique key decides, even when two runs
    race on PostgreSQL)."""
    if not rows:
        return set()
    stmt = (
        _insert(conn, claims)
        .on_conflict_do_nothing(index_elements=["municipality", "claim_id"])
        .returning(claims.c.claim_id)
    )
    won: set[str] = set()
    for part in _chunks(list(rows), 2000):
        won.update(r.claim_id for r in conn.execute(stmt, part))
    return won


def take_released(
    conn: Connection,
    municipality: str,
    claim_ids: Iterable[str],
    *,
    on: date,
    amounts: Mapping[str, int],
    types: Mapping[str, str],
    now: datetime,
) -> dict[str, tuple[int, int]]:
    """Hand over again the claims a person released; returns claim id -> (sequence,
    action_sequence) to use for the new messages. Only a claim still ``released`` is taken, so
    two runs never both take it."""
    taken: dict[str, tuple[int, int]] = {}
    for claim_id in claim_ids:
        row = conn.execute(
            update(claims)
            .where(
                claims.c.municipality == municipality,
                claims.c.claim_id == claim_id,
                claims.c.state == State.RELEASED.value,
            )
            .values(
                state=State.SUBMITTED.value,
                handed_over_on=on,
                handed_over_ore=amounts[claim_id],
                psrm_claim_type=types[claim_id],
                psrm_claim_id=None,
                sequence=claims.c.sequence + 1,
                action_sequence=claims.c.action_sequence + 1,
                updated_at=now,
            )
            .returning(claims.c.sequence, claims.c.action_sequence)
        ).first()
        if row is not None:
            taken[claim_id] = (int(row.sequence), int(row.action_sequence))
    return taken


def held_claim(
    conn: Connection, municipality: str, claim_id: str, *, lock: bool = False
) -> HeldClaim | None:
    query = select(claims).where(
        claims.c.municipality == municipality, claims.c.claim_id == claim_id
    )
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else _held(row)


def _held(row: Any) -> HeldClaim:
    return HeldClaim(
        id=int(row.id),
        municipality=row.municipality,
        claim_id=row.claim_id,
        state=State(row.state),
        psrm_claim_id=row.psrm_claim_id,
        handed_over_on=row.handed_over_on,
        handed_over_ore=int(row.handed_over_ore),
        return_code=row.return_code,
        return_reason=row.return_reason,
        sequence=int(row.sequence),
        action_sequence=int(row.action_sequence),
    )


def claims_in(conn: Connection, municipality: str, states: Iterable[State]) -> list[HeldClaim]:
    rows = conn.execute(
        select(claims)
        .where(
            claims.c.municipality == municipality,
            claims.c.state.in_([s.value for s in states]),
        )
        .order_by(claims.c.id)
    )
    return [_held(r) for r in rows]


def set_claim(conn: Connection, pk: int, now: datetime, **values: Any) -> None:
    conn.execute(update(claims).where(claims.c.id == pk).values(updated_at=now, **values))


def insert_actions(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    insert_dicts(conn, actions, rows)


def queued_actions(conn: Connection, aktion_ids: Sequence[str]) -> list[Any]:
    """The actions among ``aktion_ids`` that are still queued (not sent, not decided), locked
    for this transaction where the database can."""
    if not aktion_ids:
        return []
    query = select(actions.c.id, actions.c.aktion_id, actions.c.body).where(
        among(conn, actions.c.aktion_id, list(aktion_ids)), actions.c.status == "queued"
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return list(conn.execute(query))


def mark_sent(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    if ids:
        conn.execute(
            update(actions)
            .where(actions.c.id.in_(list(ids)))
            .values(status="sent", sent_at=now, attempts=actions.c.attempts + 1)
        )


def action_by_id(conn: Connection, aktion_id: str) -> Any | None:
    return conn.execute(select(actions).where(actions.c.aktion_id == aktion_id)).first()


def latest_create(conn: Connection, municipality: str, claim_id: str) -> str | None:
    """The aktion id of the claim's newest OPRETFORDRING (a resubmission makes a new one)."""
    return conn.execute(
        select(actions.c.aktion_id)
        .where(
            actions.c.municipality == municipality,
            actions.c.claim_id == claim_id,
            actions.c.aktion == Aktion.OPRETFORDRING.value,
        )
        .order_by(actions.c.id.desc())
        .limit(1)
    ).scalar()


def decide_action(
    conn: Connection, pk: int, status: KvitteringStatus, at: datetime, code: str, text: str
) -> None:
    conn.execute(
        update(actions)
        .where(actions.c.id == pk)
        .values(status=status.value, decided_at=at, answer_code=code or None, answer_text=text)
    )


def insert_once(conn: Connection, table: Any, row: Mapping[str, Any], keys: list[str]) -> bool:
    """Insert ``row`` unless a row with the same ``keys`` exists; True if this call inserted it."""
    stmt = _insert(conn, table).values(**row).on_conflict_do_nothing(index_elements=keys)
    return bool(conn.execute(stmt).rowcount)


def insert_receipt(conn: Connection, row: Mapping[str, Any]) -> bool:
    return insert_once(conn, receipts, row, ["municipality", "kvittering_id"])


def insert_notification(conn: Connection, row: Mapping[str, Any]) -> bool:
    return insert_once(conn, notifications, row, ["municipality", "underretning_id"])


def rejected_changes(conn: Connection, municipality: str) -> list[Any]:
    """Write-downs, write-ups and recalls PSRM rejected (AFVIST): PSRM holds a different amount
    than debtor until a person settles it."""
    return list(
        conn.execute(
            select(
                actions.c.claim_id,
                actions.c.aktion,
                actions.c.aarsagskode,
                actions.c.amount_ore,
                actions.c.answer_code,
                actions.c.answer_text,
            )
            .where(
                actions.c.municipality == municipality,
                actions.c.status == KvitteringStatus.AFVIST.value,
                actions.c.aktion != Aktion.OPRETFORDRING.value,
            )
            .order_by(actions.c.id)
        )
    )


def cursor(conn: Connection, municipality: str, feed: str) -> str | None:
    return conn.execute(
        select(cursors.c.cursor).where(
            cursors.c.municipality == municipality, cursors.c.feed == feed
        )
    ).scalar()


def save_cursor(
    conn: Connection, municipality: str, feed: str, value: str | None, now: datetime
) -> None:
    stmt = _insert(conn, cursors).values(
        municipality=municipality, feed=feed, cursor=value, updated_at=now
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["municipality", "feed"],
            set_={"cursor": value, "updated_at": now},
        )
    )


def municipalities(conn: Connection) -> list[str]:
    """Municipalities collection holds claims of (the receipt and notification reads)."""
    return list(conn.execute(select(claims.c.municipality).distinct()).scalars())


def record_run(conn: Connection, row: Mapping[str, Any]) -> None:
    conn.execute(runs.insert().values(**row))


def last_run(conn: Connection, municipality: str) -> Any | None:
    return conn.execute(
        select(runs).where(runs.c.municipality == municipality).order_by(runs.c.id.desc()).limit(1)
    ).first()


def psrm_balances(
    conn: Connection, municipality: str, claim_id: str | None = None
) -> dict[str, tuple[str, int, int]]:
    """Per claim collection holds (or just ``claim_id``): (state, what PSRM holds by our books,
    what PSRM settled).

    What PSRM holds = the signed amounts of the claim's actions PSRM did not reject, less its
    settlements and write-offs; 0 once recalled or returned (PSRM no longer holds it)."""
    one_claim = [] if claim_id is None else [claims.c.claim_id == claim_id]
    held = {
        r.claim_id: r.state
        for r in conn.execute(
            select(claims.c.claim_id, claims.c.state).where(
                claims.c.municipality == municipality, *one_claim
            )
        )
    }
    one_action = [] if claim_id is None else [actions.c.claim_id == claim_id]
    acted = {
        c: int(total or 0)
        for c, total in conn.execute(
            select(actions.c.claim_id, func.sum(actions.c.amount_ore))
            .where(
                actions.c.municipality == municipality,
                actions.c.status != KvitteringStatus.AFVIST.value,
                *one_action,
            )
            .group_by(actions.c.claim_id)
        )
    }
    settled: dict[str, int] = {}
    taken: dict[str, int] = {}
    one_note = [] if claim_id is None else [notifications.c.claim_id == claim_id]
    for claim_id_, kind, amount in conn.execute(
        select(notifications.c.claim_id, notifications.c.type, func.sum(notifications.c.amount_ore))
        .where(
            notifications.c.municipality == municipality,
            notifications.c.type.in_(["AFREGNING", "AFSKRIVNING"]),
            *one_note,
        )
        .group_by(notifications.c.claim_id, notifications.c.type)
    ):
        (settled if kind == "AFREGNING" else taken)[claim_id_] = int(amount)
    out: dict[str, tuple[str, int, int]] = {}
    for held_id, state in held.items():
        paid = settled.get(held_id, 0)
        holds = int(acted.get(held_id) or 0) - paid - taken.get(held_id, 0)
        if State(state) not in WITH_PSRM:
            holds = 0
        out[held_id] = (state, holds, paid)
    return out


def psrm_balances_of(conn: Connection, municipality: str, claim_id: str) -> tuple[str, int, int]:
    """:func:`psrm_balances` of one claim (it must be held)."""
    return psrm_balances(conn, municipality, claim_id)[claim_id]


def state_counts(conn: Connection, municipality: str) -> dict[str, int]:
    return {
        state: int(n)
        for state, n in conn.execute(
            select(claims.c.state, func.count())
            .where(claims.c.municipality == municipality)
            .group_by(claims.c.state)
        )
    }


def settled_total(conn: Connection, municipality: str) -> int:
    return int(
        conn.execute(
            select(func.coalesce(func.sum(notifications.c.amount_ore), 0)).where(
                and_(
                    notifications.c.municipality == municipality,
                    notifications.c.type == "AFREGNING",
                )
            )
        ).scalar()
        or 0
    )


def waiting(conn: Connection, municipality: str) -> list[tuple[str, str]]:
    """The last run's claims waiting for a person, as (claim id, reason)."""
    row = last_run(conn, municipality)
    return [] if row is None else [(c, r) for c, r in json.loads(row.waiting)]


def _chunks(rows: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]
