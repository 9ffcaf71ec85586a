"""Hypothesis-made malformed camt files: never a crash, never a partial apply. A broken file is
refused whole (ValidationError, nothing stored, nothing sent); a file that is still valid is
imported completely. PostgreSQL."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.db import Database
from fbs_debitor.core.errors import DomainError
from fbs_debitor.messaging.store import outbox
from fbs_debitor.payments.service.bank import import_bank_file
from fbs_debitor.payments.store.tables import bank_entries

FIXTURE = (Path(__file__).resolve().parents[1] / "fixtures" / "camt" / "dk-batch.xml").read_bytes()
CLOCK = SettableClock.at_date(date(2026, 3, 2))


@st.composite
def mangled(draw: st.DrawFn) -> bytes:
    data = FIXTURE
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        where = draw(st.integers(min_value=0, max_value=len(data)))
        match draw(st.sampled_from(["truncate", "delete", "insert", "replace"])):
            case "truncate":
                data = data[:where]
            case "delete":
                data = data[:where] + data[where + draw(st.integers(1, 40)) :]
            case "insert":
                data = data[:where] + draw(st.binary(min_size=1, max_size=20)) + data[where:]
            case _:
                token = draw(st.sampled_from([b"125.00", b"DKK", b"CRDT", b"BOOK", b"2026-03-02"]))
                repl = draw(st.sampled_from([b"-1", b"EUR", b"DBIT", b"PDNG", b"2026-02-30", b"x"]))
                data = data.replace(token, repl, 1)
    return data


def counts(db: Database) -> tuple[int, int]:
    with db.connect() as conn:
        return (
            int(conn.execute(select(func.count()).select_from(bank_entries)).scalar_one()),
            int(conn.execute(select(func.count()).select_from(outbox)).scalar_one()),
        )


def test_malformed_bank_files_are_refused_whole_or_imported_whole(
    postgres_database: Database,
) -> None:
    db = postgres_database
    seen = {"refused": 0, "imported": 0}

    @given(document=mangled())
    @settings(
        max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def run(document: bytes) -> None:
        before = counts(db)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "mangled.xml"
            path.write_bytes(document)
            try:
                summary = import_bank_file(db, CLOCK, "101", path)
            except DomainError:
                seen["refused"] += 1
                assert counts(db) == before  # refused whole: nothing stored, nothing sent
                return
        seen["imported"] += 1
        data = summary.to_json()
        states = ("matched", "partly_matched", "unmatched", "duplicate", "reversed", "error")
        assert sum(int(data[s]) for s in states) == int(data["payments"])

    run()
    assert seen["refused"] > 0
