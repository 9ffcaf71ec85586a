"""core.fastsql against what SQLAlchemy's own insert and update store: the same values read
back (dates, aware timestamps, booleans, None, big amounts), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import insert, select

from fbs_debitor.core.db import Database
from fbs_debitor.core.fastsql import among, insert_dicts, update_rows
from fbs_debitor.debtor.store.tables import payments
from fbs_debitor.messaging.store import inbox_sequence

AT = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)


def _payment(ref: str, **changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "municipality": "101",
        "payment_ref": ref,
        "channel": "bank",
        "booked_on": date(2026, 3, 2),
        "amount_ore": 12_345_678_901,
        "payment_id": None,
        "account_id": None,
        "outcome": "unmatched",
        "covered_ore": 0,
        "credit_ore": 12_345_678_901,
        "reason": "no usable payment reference – æøå",
        "message_id": "m-" + ref,
        "received_at": AT,
        "reversed": False,
    }
    row.update(changes)
    return row


def _read(db: Database) -> dict[str, tuple[object, ...]]:
    with db.connect() as conn:
        rows = conn.execute(select(payments).order_by(payments.c.payment_ref))
        return {r.payment_ref: tuple(r)[1:] for r in rows}  # without the generated id


def test_insert_dicts_stores_what_sqlalchemy_stores(database: Database) -> None:
    copenhagen = timezone(timedelta(hours=1))
    fast = [
        _payment("bank:1"),
        _payment("bank:2", received_at=AT.astimezone(copenhagen), reversed=True),
        _payment("bank:3", payment_id="000000000000018", booked_on=date(2025, 12, 31)),
    ]
    with database.begin() as conn:
        insert_dicts(conn, payments, fast)
    fast_rows = _read(database)
    with database.begin() as conn:
        conn.execute(payments.delete())
        conn.execute(insert(payments), fast)
    assert _read(database) == fast_rows
    assert fast_rows["bank:2"][12] == AT  # 10:30:15+01:00 is stored as 09:30:15 UTC
    assert fast_rows["bank:2"][13] is True
    assert fast_rows["bank:1"][4] == 12_345_678_901


def test_update_rows_sets_by_key_and_the_later_row_wins(database: Database) -> None:
    with database.begin() as conn:
        insert_dicts(
            conn,
            inbox_sequence,
            [
                {"consumer": "library", "ordering_key": "101:1", "last_sequence": 1},
                {"consumer": "library", "ordering_key": "101:2", "last_sequence": 1},
                {"consumer": "payments", "ordering_key": "101:1", "last_sequence": 7},
            ],
        )
        update_rows(
            conn,
            inbox_sequence,
            ["consumer", "ordering_key"],
            [
                {"consumer": "library", "ordering_key": "101:1", "last_sequence": 2},
                {"consumer": "library", "ordering_key": "101:1", "last_sequence": 3},
                {"consumer": "library", "ordering_key": "101:9", "last_sequence": 5},  # no row
            ],
        )
        insert_dicts(conn, payments, [_payment("bank:1"), _payment("bank:2")])
        update_rows(
            conn,
            payments,
            ["municipality", "payment_ref"],
            [
                {
                    "municipality": "101",
                    "payment_ref": "bank:2",
                    "received_at": AT + timedelta(days=1),
                    "reversed": True,
                    "payment_id": "000000000000018",
                }
            ],
        )
    with database.connect() as conn:
        cursors = {
            (c, k): s
            for c, k, s in conn.execute(
                select(
                    inbox_sequence.c.consumer,
                    inbox_sequence.c.ordering_key,
                    inbox_sequence.c.last_sequence,
                )
            )
        }
    assert cursors == {
        ("library", "101:1"): 3,
        ("library", "101:2"): 1,
        ("payments", "101:1"): 7,
    }
    rows = _read(database)
    assert rows["bank:2"][12] == AT + timedelta(days=1)
    assert rows["bank:2"][13] is True
    assert rows["bank:2"][5] == "000000000000018"
    assert rows["bank:1"][12] == AT and rows["bank:1"][13] is False


def test_nothing_to_write_is_no_statement(database: Database) -> None:
    with database.begin() as conn:
        insert_dicts(conn, payments, [])
        update_rows(conn, payments, ["municipality", "payment_ref"], [])
    assert _read(database) == {}


def test_among_finds_the_rows_of_many_keys_with_one_parameter(database: Database) -> None:
    refs = [f"bank:{i}" for i in range(1, 1201)]
    with database.begin() as conn:
        insert_dicts(conn, payments, [_payment(ref) for ref in refs])
    wanted = [*refs[::7], "bank:none", 'o\'clock "quoted" æøå']
    with database.connect() as conn:
        found = {
            r
            for (r,) in conn.execute(
                select(payments.c.payment_ref).where(among(conn, payments.c.payment_ref, wanted))
            )
        }
        ids = [
            i
            for (i,) in conn.execute(
                select(payments.c.id).where(among(conn, payments.c.id, [1, 2, 1200, 99999]))
            )
        ]
        nothing = conn.execute(select(payments.c.id).where(among(conn, payments.c.id, []))).all()
    assert found == set(refs[::7])
    assert sorted(ids) == [1, 2, 1200]
    assert nothing == []
