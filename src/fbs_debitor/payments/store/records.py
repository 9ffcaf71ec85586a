"""Queries of the payments context: payables, bank files and entries, register payments and
debtor's allocations of them. The tables are in :mod:`~fbs_debitor.payments.store.tables`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    insert,
    literal,
    select,
    update,
)

from fbs_debitor.core.fastsql import update_rows
from fbs_debitor.payments.model import Payable
from fbs_debitor.payments.store.tables import bank_entries, bank_files, payables, register_payments

# -- the payable copy ----------------------------------------------------------------------------


def payables_by_payment_id(
    conn: Connection, municipality: str, payment_ids: Iterable[str]
) -> dict[str, Payable]:
    """payment ID -> invoice for the municipality's invoices among ``payment_ids`` (without
    their claims: matching does not need them)."""
    wanted = sorted(set(payment_ids))
    if not wanted:
        return {}
    rows = conn.execute(
        select(
            payables.c.invoice_id,
            payables.c.payment_id,
            payables.c.amount_due_ore,
            payables.c.status,
            payables.c.debtor_id_masked,
        ).where(payables.c.municipality == municipality, payables.c.payment_id.in_(wanted))
    )
    return {
        r.payment_id: Payable(
            municipality,
            r.invoice_id,
            r.payment_id,
            int(r.amount_due_ore),
            r.status,
            r.debtor_id_masked,
        )
        for r in rows
    }


def payable_rows(
    conn: Connection, municipality: str, invoice_ids: Iterable[str], *, for_update: bool = False
) -> dict[str, Row[Any]]:
    """invoice id -> row for the municipality's invoices among ``invoice_ids``."""
    wanted = sorted(set(invoice_ids))
    if not wanted:
        return {}
    query = select(payables).where(
        payables.c.municipality == municipality, payables.c.invoice_id.in_(wanted)
    )
    if for_update:
        query = query.with_for_update()
    return {r.invoice_id: r for r in conn.execute(query)}


def insert_payables(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        conn.execute(insert(payables), list(rows))


def update_payable(
    conn: Connection, municipality: str, invoice_id: str, values: Mapping[str, Any]
) -> None:
    conn.execute(
        update(payables)
        .where(payables.c.municipality == municipality, payables.c.invoice_id == invoice_id)
        .values(**values)
    )


# -- bank files and entries ----------------------------------------------------------------------


def find_file(conn: Connection, municipality: str, sha256: str) -> Row[Any] | None:
    return conn.execute(
        select(bank_files).where(
            bank_files.c.municipality == municipality, bank_files.c.sha256 == sha256
        )
    ).first()


def insert_file(conn: Connection, values: Mapping[str, Any]) -> int:
    result = conn.execute(insert(bank_files).values(**values).returning(bank_files.c.id))
    return int(result.scalar_one())


def finish_file(conn: Connection, file_id: int, summary: Mapping[str, Any], at: datetime) -> None:
    conn.execute(
        update(bank_files)
        .where(bank_files.c.id == file_id)
        .values(
            status="done",
            entries=int(summary["entries"]),
            summary=json.dumps(summary),
            finished_at=at,
        )
    )


def existing_keys(conn: Connection, municipality: str, keys: Iterable[str]) -> set[str]:
    """The keys among ``keys`` that the municipality has imported before."""
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    rows = conn.execute(
        select(bank_entries.c.entry_key).where(
            bank_entries.c.municipality == municipality, bank_entries.c.entry_key.in_(wanted)
        )
    )
    return {r.entry_key for r in rows}


_INSERT_ENTRY = insert(bank_entries)
_ENTRY_COLUMNS = [c.name for c in bank_entries.columns if c.name != "id"]
_COPY_ENTRIES = f"COPY {bank_entries.name} ({', '.join(_ENTRY_COLUMNS)}) FROM STDIN"
_COPY_FROM = 50
"""From this many rows on, PostgreSQL gets them by COPY (about 5 times the executemany rate)."""


def insert_entries(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert bank entry rows (every column but ``id``) in the caller's transaction."""
    if not rows:
        return
    if conn.dialect.name == "postgresql" and len(rows) >= _COPY_FROM:
        # timestamps are aware UTC already (the clock's), as UtcDateTime would store them
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(_COPY_ENTRIES) as copy:
                for row in rows:
                    copy.write_row([row[c] for c in _ENTRY_COLUMNS])
        finally:
            cursor.close()
        return
    conn.execute(_INSERT_ENTRY, list(rows))


def reversible_payment(
    conn: Connection, municipality: str, reference: str | None, amount_ore: int
) -> Row[Any] | None:
    """The newest imported credit that a debit of ``amount_ore`` with ``reference`` takes back:
    same reference and amount, sent to debtor, not reversed yet. Locked for the update."""
    if not reference:
        return None
    return conn.execute(
        select(bank_entries)
        .where(
            bank_entries.c.municipality == municipality,
            bank_entries.c.reference == reference,
            bank_entries.c.credit.is_(True),
            bank_entries.c.state.in_(("matched", "partly_matched", "unmatched")),
            bank_entries.c.reversed_by_key.is_(None),
            bank_entries.c.amount_ore == amount_ore,
        )
        .order_by(bank_entries.c.id.desc())
        .limit(1)
        .with_for_update()
    ).first()


def mark_reversed(conn: Connection, entry_id: int, reversal_key: str) -> None:
    conn.execute(
        update(bank_entries)
        .where(bank_entries.c.id == entry_id)
        .values(reversed_by_key=reversal_key)
    )


def list_entries(
    conn: Connection,
    municipality: str,
    *,
    state: str | None = None,
    limit: int = 100,
    after_id: int = 0,
) -> list[Row[Any]]:
    query = select(bank_entries).where(
        bank_entries.c.municipality == municipality, bank_entries.c.id > after_id
    )
    if state is not None:
        query = query.where(bank_entries.c.state == state)
    return list(conn.execute(query.order_by(bank_entries.c.id).limit(limit)))


def entry_by_key(conn: Connection, municipality: str, key: str) -> Row[Any] | None:
    return conn.execute(
        select(bank_entries).where(
            bank_entries.c.municipality == municipality, bank_entries.c.entry_key == key
        )
    ).first()


# -- cash register -------------------------------------------------------------------------------


def register_payment(conn: Connection, municipality: str, receipt: str) -> Row[Any] | None:
    return conn.execute(
        select(register_payments).where(
            register_payments.c.municipality == municipality,
            register_payments.c.receipt == receipt,
        )
    ).first()


def insert_register_payment(conn: Connection, values: Mapping[str, Any]) -> None:
    conn.execute(insert(register_payments).values(**values))


def register_payments_on(conn: Connection, municipality: str, on: date) -> list[Row[Any]]:
    """The till's payments booked on ``on``, in the order they were taken."""
    return list(
        conn.execute(
            select(register_payments)
            .where(
                register_payments.c.municipality == municipality,
                register_payments.c.booked_on == on,
            )
            .order_by(register_payments.c.id)
        )
    )


# -- allocation answers --------------------------------------------------------------------------


_ALLOCATION_COLUMNS = (
    "allocation",
    "covered_ore",
    "credit_ore",
    "allocation_reason",
    "allocated_at",
)


def record_allocations(
    conn: Connection, answers: Sequence[tuple[str, str, Mapping[str, Any]]]
) -> list[bool]:
    """Put debtor's allocations, ``(municipality, payment_ref, values)`` in order, on the bank
    entries or register payments the references name (``bank:<key>``, ``register:<receipt>``);
    per answer, False if it names none of ours. One read and one executemany per table.

    A bank entry left ``unmatched`` at import takes the state of an allocation that found its
    claims after all (a person applied it in debtor): ``matched`` or ``partly_matched``."""
    by_table: dict[str, list[tuple[int, str, str, Mapping[str, Any]]]] = {}
    for i, (municipality, payment_ref, values) in enumerate(answers):
        channel, _, key = payment_ref.partition(":")
        if channel in ("bank", "register"):
            by_table.setdefault(channel, []).append((i, municipality, key, values))
    found = [False] * len(answers)
    for channel, items in by_table.items():
        table, column = (
            (bank_entries, bank_entries.c.entry_key)
            if channel == "bank"
            else (register_payments, register_payments.c.receipt)
        )
        state = table.c.state if channel == "bank" else literal(None)
        known: dict[tuple[str, str], str | None] = {}
        for municipality in sorted({m for _, m, _, _ in items}):
            keys = sorted({k for _, m, k, _ in items if m == municipality})
            for start in range(0, len(keys), 900):
                rows = conn.execute(
                    select(column, state).where(
                        table.c.municipality == municipality,
                        column.in_(keys[start : start + 900]),
                    )
                )
                known.update(((municipality, k), s) for k, s in rows)
        params, states = [], []
        for i, municipality, key, values in items:
            if (municipality, key) not in known:
                continue
            found[i] = True
            row_key = {"municipality": municipality, column.name: key}
            params.append(row_key | {c: values[c] for c in _ALLOCATION_COLUMNS})
            if known[(municipality, key)] == "unmatched" and values["allocation"] in (
                "matched",
                "partly_matched",
            ):
                states.append(row_key | {"state": values["allocation"]})
        update_rows(conn, table, ["municipality", column.name], params)
        update_rows(conn, table, ["municipality", column.name], states)
    return found


def update_payables_due(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Set amount due, status and updated_at of payables (rows of ``municipality``,
    ``invoice_id``, ``amount_due_ore``, ``status``, ``updated_at``)."""
    update_rows(conn, payables, ["municipality", "invoice_id"], rows)


def as_date(value: date | None) -> str | None:
    return value.isoformat() if value else None
