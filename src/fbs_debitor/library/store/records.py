"""Queries of the library context: patrons, fees, their materials, events and payments.

The tables are in :mod:`~fbs_debitor.library.store.tables`, the copies of the municipal set-up
in :mod:`~fbs_debitor.library.store.setup_copy`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    Row,
    bindparam,
    insert,
    select,
    update,
)

from fbs_debitor.core.db import UtcDateTime
from fbs_debitor.core.fastsql import insert_dicts, update_rows
from fbs_debitor.core.ids import Cpr, Cvr
from fbs_debitor.core.money import Money
from fbs_debitor.library.model import (
    DebtorState,
    EventKind,
    Fee,
    FeeEvent,
    FeeMaterial,
    FeeStatus,
    Patron,
)
from fbs_debitor.library.store.tables import fee_events, fee_materials, fees, patrons, payments

# -- patrons -------------------------------------------------------------------------------------


def _patron(row: Row[Any]) -> Patron:
    return Patron(
        id=row.id,
        municipality=row.municipality,
        cpr=Cpr(row.cpr) if row.cpr else None,
        guardian_cpr=Cpr(row.guardian_cpr) if row.guardian_cpr else None,
        cvr=Cvr(row.cvr) if row.cvr else None,
        name=row.name,
    )


def identity_values(cpr: Cpr | None, guardian_cpr: Cpr | None, cvr: Cvr | None) -> dict[str, Any]:
    """The identity columns of a patron."""
    return {
        "cpr": cpr.value if cpr else None,
        "guardian_cpr": guardian_cpr.value if guardian_cpr else None,
        "cvr": cvr.value if cvr else None,
    }


def insert_patron(conn: Connection, values: Mapping[str, Any]) -> int:
    result = conn.execute(insert(patrons).values(**values).returning(patrons.c.id))
    return int(result.scalar_one())


def update_patron(conn: Connection, patron_id: int, values: Mapping[str, Any]) -> None:
    conn.execute(update(patrons).where(patrons.c.id == patron_id).values(**values))


def patrons_by_id(
    conn: Connection, municipality: str, ids: Iterable[int], *, for_update: bool = False
) -> dict[int, Patron]:
    """The municipality's patrons among ``ids`` (others are simply absent)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    query = select(patrons).where(patrons.c.municipality == municipality, patrons.c.id.in_(wanted))
    if for_update:
        query = query.with_for_update()
    return {r.id: _patron(r) for r in conn.execute(query)}


# -- fees ----------------------------------------------------------------------------------------


def _fee(row: Row[Any], materials: tuple[FeeMaterial, ...]) -> Fee:
    return Fee(
        id=row.id,
        municipality=row.municipality,
        patron_id=row.patron_id,
        kind=row.kind,
        reason_message=row.reason_message,
        amount=Money(row.amount_ore),
        open=Money(row.open_ore),
        status=FeeStatus(row.status),
        old=bool(row.old),
        moved_on=row.moved_on,
        creation_date=row.creation_date,
        due_date=row.due_date,
        paid_date=row.paid_date,
        acknowledged=bool(row.acknowledged),
        debtor_state=DebtorState(row.debtor_state),
        debtor_reason=row.debtor_reason,
        debtor_note=row.debtor_note,
        debtor_balance=None if row.debtor_balance_ore is None else Money(row.debtor_balance_ore),
        last_sequence=row.last_sequence,
        registration_message_id=row.registration_message_id,
        materials=materials,
        in_collection=bool(row.in_collection),
    )


def fee_values(fee: Fee, now: datetime) -> dict[str, Any]:
    """The row of a fee about to be inserted (the inverse of reading one; no id)."""
    return {
        "municipality": fee.municipality,
        "patron_id": fee.patron_id,
        "kind": fee.kind,
        "reason_message": fee.reason_message,
        "amount_ore": fee.amount.ore,
        "open_ore": fee.open.ore,
        "status": fee.status.value,
        "old": fee.old,
        "moved_on": fee.moved_on,
        "creation_date": fee.creation_date,
        "due_date": fee.due_date,
        "paid_date": fee.paid_date,
        "acknowledged": fee.acknowledged,
        "debtor_state": fee.debtor_state.value,
        "debtor_reason": fee.debtor_reason,
        "debtor_note": fee.debtor_note,
        "debtor_balance_ore": None if fee.debtor_balance is None else fee.debtor_balance.ore,
        "last_sequence": fee.last_sequence,
        "registration_message_id": fee.registration_message_id,
        "created_at": now,
        "updated_at": now,
    }


def material_rows(fee: Fee) -> list[dict[str, Any]]:
    """The material rows of a fee (which has its id)."""
    return [
        {
            "municipality": fee.municipality,
            "fee_id": fee.id,
            "position": position,
            "record_id": m.record_id,
            "item_number": m.item_number,
            "material_group": m.material_group,
            "title": m.title,
        }
        for position, m in enumerate(fee.materials)
    ]


def _materials_of(conn: Connection, fee_ids: list[int]) -> dict[int, list[FeeMaterial]]:
    out: dict[int, list[FeeMaterial]] = {}
    if not fee_ids:
        return out
    rows = conn.execute(
        select(fee_materials)
        .where(fee_materials.c.fee_id.in_(fee_ids))
        .order_by(fee_materials.c.fee_id, fee_materials.c.position)
    )
    for r in rows:
        out.setdefault(r.fee_id, []).append(
            FeeMaterial(r.record_id, r.item_number, r.material_group, r.title)
        )
    return out


def _load(conn: Connection, query: Any) -> list[Fee]:
    rows = list(conn.execute(query))
    materials = _materials_of(conn, [r.id for r in rows])
    return [_fee(r, tuple(materials.get(r.id, ()))) for r in rows]


def get_fee(
    conn: Connection, municipality: str, fee_id: int, *, for_update: bool = False
) -> Fee | None:
    """One fee of the municipality; ``for_update`` locks its row (PostgreSQL) until commit."""
    query = select(fees).where(fees.c.municipality == municipality, fees.c.id == fee_id)
    if for_update:
        query = query.with_for_update()
    found = _load(conn, query)
    return found[0] if found else None


def fees_for_coverage(conn: Connection, keys: set[tuple[str, int]]) -> dict[tuple[str, int], Fee]:
    """(municipality, fee id) -> fee, locked until commit, for the fees among ``keys``.

    Without their materials (coverage never changes those): one query per 900 fees.
    """
    out: dict[tuple[str, int], Fee] = {}
    ids = sorted({fee_id for _, fee_id in keys})
    for start in range(0, len(ids), 900):
        rows = conn.execute(
            select(fees).where(fees.c.id.in_(ids[start : start + 900])).with_for_update()
        )
        for r in rows:
            if (r.municipality, r.id) in keys:
                out[(r.municipality, r.id)] = _fee(r, ())
    return out


def update_fees_after_coverage(conn: Connection, changed: Sequence[Fee], now: datetime) -> None:
    """Write what coverage changes of each fee (open amount, status, paid date, debtor state)."""
    update_rows(
        conn,
        fees,
        ["id"],
        [
            {
                "id": f.id,
                "open_ore": f.open.ore,
                "status": f.status.value,
                "paid_date": f.paid_date,
                "debtor_state": f.debtor_state.value,
                "debtor_reason": f.debtor_reason,
                "in_collection": f.in_collection,
                "updated_at": now,
            }
            for f in changed
        ],
    )


def fees_of_patron(
    conn: Connection, municipality: str, patron_id: int, *, for_update: bool = False
) -> list[Fee]:
    query = (
        select(fees)
        .where(fees.c.municipality == municipality, fees.c.patron_id == patron_id)
        .order_by(fees.c.id)
    )
    if for_update:
        query = query.with_for_update()
    return _load(conn, query)


def held_fees(conn: Connection, municipality: str, kind: str) -> list[Fee]:
    """Open fees of ``kind`` waiting for their kind to be mapped, locked for the release."""
    return _load(
        conn,
        select(fees)
        .where(
            fees.c.municipality == municipality,
            fees.c.debtor_state == DebtorState.HELD.value,
            fees.c.kind == kind,
            fees.c.status == FeeStatus.OPEN.value,
        )
        .order_by(fees.c.id)
        .with_for_update(),
    )


def old_open_fees(conn: Connection, municipality: str) -> list[Fee]:
    """Old fees still open in the library and not moved yet, locked for the move."""
    return _load(
        conn,
        select(fees)
        .where(
            fees.c.municipality == municipality,
            fees.c.old.is_(True),
            fees.c.moved_on.is_(None),
            fees.c.status == FeeStatus.OPEN.value,
        )
        .order_by(fees.c.id)
        .with_for_update(),
    )


def insert_fees(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert many fees in one statement round (executemany); their ids in the rows' order."""
    if not rows:
        return []
    result = conn.execute(
        insert(fees).returning(fees.c.id, sort_by_parameter_order=True), list(rows)
    )
    return [int(i) for i in result.scalars()]


def update_fee(conn: Connection, fee_id: int, values: Mapping[str, Any]) -> None:
    conn.execute(update(fees).where(fees.c.id == fee_id).values(**values))


# Debtor's answers arrive once per message sent, so they are the hot path of registration: one
# prepared UPDATE each (built once, so compiled once) and no SELECT before it.
_ANSWERED = (fees.c.municipality == bindparam("b_municipality")) & (
    fees.c.id == bindparam("b_fee_id")
)
_AWAITED = fees.c.registration_message_id == bindparam("b_message_id")
_NOW = bindparam("b_now", type_=UtcDateTime())
_ANSWERS = {
    "registered": update(fees)
    .where(_ANSWERED & _AWAITED & (fees.c.debtor_state == DebtorState.SENT.value))
    .values(
        debtor_state=DebtorState.REGISTERED.value,
        debtor_balance_ore=bindparam("b_balance"),
        updated_at=_NOW,
    ),
    "balance": update(fees)
    .where(_ANSWERED)
    .values(debtor_balance_ore=bindparam("b_balance"), updated_at=_NOW),
    "rejected": update(fees)
    .where(_ANSWERED & _AWAITED)
    .values(
        debtor_state=DebtorState.REJECTED.value, debtor_reason=bindparam("b_text"), updated_at=_NOW
    ),
    "note": update(fees).where(_ANSWERED).values(debtor_note=bindparam("b_text"), updated_at=_NOW),
}


def apply_answer(
    conn: Connection,
    change: Literal["registered", "balance", "rejected", "note"],
    municipality: str,
    fee_id: int,
    now: datetime,
    *,
    message_id: str | None = None,
    balance_ore: int | None = None,
    text: str | None = None,
) -> bool:
    """Apply one of debtor's answers to a fee; False if it changed no fee.

    * ``registered``: the ClaimRegistered ``message_id`` was accepted; only if it is the
      registration the fee awaits (state ``sent``); keeps ``balance_ore``;
    * ``balance``: a later message was accepted; keeps ``balance_ore``;
    * ``rejected``: the ClaimRegistered ``message_id`` was refused for the reason ``text``; only
      if it is the fee's latest registration;
    * ``note``: a later message was refused; ``text`` goes in ``debtor_note``.
    """
    params = {
        "b_municipality": municipality,
        "b_fee_id": fee_id,
        "b_now": now,
        "b_message_id": message_id,
        "b_balance": balance_ore,
        "b_text": text,
    }
    return bool(conn.execute(_ANSWERS[change], params).rowcount == 1)


def answer_state(
    conn: Connection, keys: set[tuple[str, int]]
) -> dict[tuple[str, int], tuple[str, str | None]]:
    """(municipality, fee id) -> (debtor state, awaited registration message id), in bulk."""
    out: dict[tuple[str, int], tuple[str, str | None]] = {}
    ids = sorted({fee_id for _, fee_id in keys})
    for start in range(0, len(ids), 900):
        rows = conn.execute(
            select(
                fees.c.municipality, fees.c.id, fees.c.debtor_state, fees.c.registration_message_id
            ).where(fees.c.id.in_(ids[start : start + 900]))
        )
        for r in rows:
            if (r.municipality, r.id) in keys:
                out[(r.municipality, r.id)] = (r.debtor_state, r.registration_message_id)
    return out


# The bulk path decided in Python (after one read) which fees an answer changes, so its
# updates go by primary key alone: a plan no planner gets wrong, statistics or not.
_BY_ID = fees.c.id == bindparam("b_fee_id")
_ANSWERS_BY_ID = {
    "registered": update(fees)
    .where(_BY_ID)
    .values(
        debtor_state=DebtorState.REGISTERED.value,
        debtor_balance_ore=bindparam("b_balance"),
        updated_at=_NOW,
    ),
    "balance": update(fees)
    .where(_BY_ID)
    .values(debtor_balance_ore=bindparam("b_balance"), updated_at=_NOW),
}


def apply_answers(
    conn: Connection,
    change: Literal["registered", "balance"],
    rows: Sequence[Mapping[str, Any]],
) -> None:
    """Many answers of one kind at once, to fees the caller has checked (``b_fee_id``,
    ``b_balance``, ``b_now``)."""
    if rows:
        conn.execute(_ANSWERS_BY_ID[change], list(rows))


def insert_materials(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        conn.execute(insert(fee_materials), list(rows))


def open_sent_amounts(conn: Connection, municipality: str) -> dict[str, int]:
    """claim_id -> open øre of every fee debtor has (sent or registered)."""
    rows = conn.execute(
        select(fees.c.id, fees.c.open_ore).where(
            fees.c.municipality == municipality,
            fees.c.debtor_state.in_([DebtorState.SENT.value, DebtorState.REGISTERED.value]),
        )
    )
    return {str(r.id): int(r.open_ore) for r in rows}


# -- history -------------------------------------------------------------------------------------


def event_row(
    municipality: str,
    fee_id: int,
    at: datetime,
    kind: EventKind,
    text: str,
    *,
    amount_ore: int = 0,
    message_id: str | None = None,
    sequence: int | None = None,
) -> dict[str, Any]:
    """One history row, for :func:`insert_events`."""
    return {
        "municipality": municipality,
        "fee_id": fee_id,
        "at": at,
        "kind": kind.value,
        "amount_ore": amount_ore,
        "text": text,
        "message_id": message_id,
        "sequence": sequence,
    }


def insert_events(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    insert_dicts(conn, fee_events, rows)


def events_of(conn: Connection, municipality: str, fee_id: int) -> list[FeeEvent]:
    rows = conn.execute(
        select(fee_events)
        .where(fee_events.c.municipality == municipality, fee_events.c.fee_id == fee_id)
        .order_by(fee_events.c.id)
    )
    return [
        FeeEvent(r.at, EventKind(r.kind), Money(r.amount_ore), r.text, r.message_id, r.sequence)
        for r in rows
    ]


# -- payments in the library ---------------------------------------------------------------------


def payments_of(conn: Connection, fee_ids: Iterable[int]) -> dict[int, tuple[int, str]]:
    """fee id -> (payment id, order id) of the fees among ``fee_ids`` paid in the library."""
    wanted = sorted(set(fee_ids))
    if not wanted:
        return {}
    rows = conn.execute(
        select(payments.c.fee_id, payments.c.id, payments.c.order_id).where(
            payments.c.fee_id.in_(wanted)
        )
    )
    return {r.fee_id: (int(r.id), r.order_id) for r in rows}


def insert_payment(conn: Connection, values: Mapping[str, Any]) -> int:
    result = conn.execute(insert(payments).values(**values).returning(payments.c.id))
    return int(result.scalar_one())
