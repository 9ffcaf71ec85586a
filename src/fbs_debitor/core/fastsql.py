"""Bulk inserts at database speed, for the hot paths: the dunning run's hundreds of thousands of
rows, the outbox and inbox, and the payment flow.

SQLAlchemy's executemany processes every parameter of every row in Python (about 10 µs a row);
psycopg's executemany sends one statement per row. For the dunning run that is most of its time.
:func:`fast_insert` goes to the driver directly, in the caller's transaction:

* SQLite: ``cursor.executemany`` with positional rows;
* PostgreSQL: ``COPY ... FROM STDIN`` (psycopg 3), the fastest way into a table.

The rows must hold driver-ready values. Plain ints, strings, booleans and None are; a date or a
timestamp that is the same for every row (the run date, "now") is converted once with
:func:`bind_value`, which applies the column's SQLAlchemy type exactly as a normal insert would,
so the stored form is the same either way. :func:`allocate_ids` hands out primary keys before
the insert, for rows that other rows must point at (no RETURNING round trip per row).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    String,
    Table,
    any_,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY


def among(
    conn: Connection, column: ColumnElement[Any], values: Collection[int | str]
) -> ColumnElement[bool]:
    """``column IN values`` with one bound parameter however many values there are.

    A long ``IN (...)`` list costs one bind parameter per value: SQLAlchemy processes each in
    Python, and PostgreSQL parses and plans a statement that size every time (the worker's
    inbox check of 500 message ids took 3 ms, nearly all of it parsing). Here the values travel
    as one array (PostgreSQL: ``= ANY(:values)``) or one JSON text (SQLite:
    ``IN (SELECT value FROM json_each(:values))``). Only for int and str keys.
    """
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    values_json = bindparam(None, json.dumps(list(values)), type_=String())
    return column.in_(select(text("value")).select_from(func.json_each(values_json)))


def bind_value(conn: Connection, column: Column[Any], value: Any) -> Any:
    """``value`` as the driver receives it for ``column`` (its type's bind processing)."""
    dialect = conn.dialect
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    return value if processor is None else processor(value)


def fast_insert(
    conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (tuples in the order of ``columns``, driver-ready values) into ``table``
    in the caller's transaction."""
    if not rows:
        return
    names = ", ".join(table.c[name].name for name in columns)  # KeyError for a stranger
    if conn.dialect.name == "postgresql":
        raw: Any = conn.connection.dbapi_connection  # psycopg 3
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", list(rows))  # noqa: S608 - names from the table's own columns


_MISSING = object()


def _driver_ready(
    conn: Connection, table: Table, columns: list[str], rows: Sequence[Mapping[str, Any]]
) -> list[tuple[Any, ...]]:
    """The rows as tuples of driver-ready values: each column's bind processing applied, once
    per distinct value (rows written together share many: one "now", one run's timestamps)."""
    dialect = conn.dialect
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    caches: list[dict[Any, Any]] = [{} for _ in columns]
    plan = list(zip(columns, processors, caches, strict=True))
    ready: list[tuple[Any, ...]] = []
    for row in rows:
        values = []
        for name, processor, cache in plan:
            value = row[name]
            if processor is not None and value is not None:
                done = cache.get(value, _MISSING)
                if done is _MISSING:
                    done = cache[value] = processor(value)
                value = done
            values.append(value)
        ready.append(tuple(values))
    return ready


def insert_dicts(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows given as dicts of Python values (as for ``insert(table)``), with every
    column's bind processing applied once per value, through :func:`fast_insert`.

    Every row must have the keys of the first row. This is what SQLAlchemy's executemany does,
    without its per-row machinery (a few µs a row instead of ~10).
    """
    if not rows:
        return
    columns = list(rows[0])
    ready = _driver_ready(conn, table, columns, rows)
    fast_insert(conn, table, columns, ready)


def update_rows(
    conn: Connection, table: Table, keys: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """``UPDATE table SET <the other columns of each row> WHERE <keys> = <the row's keys>`` for
    many rows, in the caller's transaction. Rows are dicts of Python values with the keys of the
    first row; where two rows name the same keys, the later one wins (as one update after the
    other would).

    SQLite: one prepared UPDATE run by the driver's executemany (in-process, fast).
    PostgreSQL: one ``UPDATE ... FROM unnest(<one array per column>)``: one round trip for the
    lot, where an executemany costs one statement on the server per row.
    """
    if not rows:
        return
    columns = list(rows[0])
    latest = {tuple(row[k] for k in keys): row for row in rows}
    ready = _driver_ready(conn, table, columns, list(latest.values()))
    sets = [c for c in columns if c not in keys]
    if conn.dialect.name == "postgresql":
        types = [table.c[c].type.compile(dialect=conn.dialect) for c in columns]
        arrays = ", ".join(f"%s::{t}[]" for t in types)
        assignments = ", ".join(f"{c} = v.{c}" for c in sets)
        match = " AND ".join(f"t.{k} = v.{k}" for k in keys)
        sql = (
            f"UPDATE {table.name} AS t SET {assignments} "  # noqa: S608 - the table's own columns
            f"FROM unnest({arrays}) AS v({', '.join(columns)}) WHERE {match}"
        )
        conn.exec_driver_sql(sql, tuple(list(col) for col in zip(*ready, strict=True)))
        return
    order = sets + list(keys)
    position = {c: i for i, c in enumerate(columns)}
    assignments = ", ".join(f"{c} = ?" for c in sets)
    match = " AND ".join(f"{k} = ?" for k in keys)
    conn.exec_driver_sql(
        f"UPDATE {table.name} SET {assignments} WHERE {match}",  # noqa: S608 - own columns
        [tuple(row[position[c]] for c in order) for row in ready],
    )


def allocate_ids(conn: Connection, table: Table, n: int) -> list[int]:
    """``n`` fresh primary keys of ``table`` (an autoincrement ``id``), reserved for rows this
    transaction inserts with :func:`fast_insert`.

    PostgreSQL: taken from the column's sequence, so concurrent transactions never collide.
    SQLite: above the current maximum; safe because a transaction holds the database's write
    lock from its start (BEGIN IMMEDIATE), so no one else inserts meanwhile.
    """
    if n <= 0:
        return []
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
            ),
            {"table": table.name, "n": n},
        )
        return sorted(int(i) for (i,) in rows)
    top = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(int(top) + 1, int(top) + 1 + n))
