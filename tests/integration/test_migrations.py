"""The migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from fbs_debitor.core.db import Database
from fbs_debitor.migrate import alembic_config, current, upgrade
from fbs_debitor.schema import metadata


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = Database(str(tmp_path / "migrated.db"))
    else:
        db = Database(request.getfixturevalue("fresh_postgres_url"))
    yield db
    db.dispose()


def test_migrations_build_the_schema_of_the_models(empty_database: Database) -> None:
    upgrade(empty_database)
    head = ScriptDirectory.from_config(alembic_config(empty_database)).get_current_head()
    assert current(empty_database) == head
    with empty_database.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    upgrade(empty_database)  # running it again is harmless
    assert current(empty_database) == head


def test_the_fee_part_of_existing_postings_is_filled_by_the_old_replay(
    empty_database: Database,
) -> None:
    """0008 fills ``fee_part_ore`` of every existing posting so that no balance or component
    changes: payments took fees first, write-offs the principal first, a reversal gave back to
    the principal (the rule until then). Worked out by hand: charge 125 kr., fee 100 kr., a
    payment of 150 kr. (100 fees + 50 principal), a write-off of 50 kr. (principal), its
    reversal (+50 principal)."""
    from sqlalchemy import text

    upgrade(empty_database, "0007")
    rows = [
        ("charge", 12500),
        ("reminder_fee", 10000),
        ("coverage", -15000),
        ("write_off", -5000),
        ("reversal", 5000),
    ]
    with empty_database.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO debtor_account (id, municipality, id_type, debtor_id, created_at) "
                "VALUES (1, '101', 'cpr', '0101901234', '2026-03-02 10:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO debtor_claim (id, municipality, claim_id, account_id, claim_kind, "
                "legal_basis, debtor_classification, psrm_claim_type, patron_id, "
                "created_on, acknowledged, materials, invoice_text, status, registered_at, "
                "last_applied_sequence, coverage_sequence) VALUES (1, '101', 'a', 1, 'fee', "
                "'public', 'x', 'x', 'p', '2026-03-02', false, '[]', '', 'open', "
                "'2026-03-02 10:00:00', 1, 0)"
            )
        )
        for i, (kind, ore) in enumerate(rows, start=1):
            conn.execute(
                text(
                    "INSERT INTO debtor_posting (id, municipality, claim_pk, kind, amount_ore, "
                    "reverses, booked_at, effective_on, note) VALUES (:id, '101', 1, :kind, "
                    ":ore, :rev, '2026-03-02 10:00:00', '2026-03-02', '')"
                ),
                {"id": i, "kind": kind, "ore": ore, "rev": 4 if kind == "reversal" else None},
            )
    upgrade(empty_database)
    with empty_database.connect() as conn:
        parts = conn.execute(
            text("SELECT kind, fee_part_ore FROM debtor_posting ORDER BY id")
        ).all()
    assert [tuple(p) for p in parts] == [
        ("charge", 0),
        ("reminder_fee", 10000),
        ("coverage", -10000),
        ("write_off", 0),
        ("reversal", 0),
    ]


def test_the_old_demo_keys_are_marked_and_only_the_demo_municipality_keeps_them(
    empty_database: Database,
) -> None:
    """0013: a database seeded by an older ``serve --demo`` had the well-known keys
    ``demo-101-<role>`` in whatever municipality 101 was. After the upgrade the demo's own
    municipality ("… (demo)") is marked a demo and keeps them; in a real one they are refused."""
    import hashlib

    from sqlalchemy import text

    from fbs_debitor.core.clock import SettableClock
    from fbs_debitor.core.errors import UnauthenticatedError
    from fbs_debitor.tenants.service import keys as tenant_keys

    upgrade(empty_database, "0012")
    with empty_database.begin() as conn:
        for code, name, agency in (
            ("101", "København (demo)", "710100"),
            ("461", "Odense", "746100"),
        ):
            conn.execute(
                text(
                    "INSERT INTO tenants_municipality (kommunekode, name, agency_id, "
                    "creditor_number, debtor_vendor, created_at) VALUES (:k, :n, :a, '89123456', "
                    "'built-in', '2026-01-01 10:00:00')"
                ),
                {"k": code, "n": name, "a": agency},
            )
            for key in (f"demo-{code}-admin", f"real-{code}"):
                conn.execute(
                    text(
                        "INSERT INTO tenants_api_key (key_hash, municipality, role, label, "
                        "created_at) VALUES (:h, :k, 'admin', 'x', '2026-01-01 10:00:00')"
                    ),
                    {"h": hashlib.sha256(key.encode()).hexdigest(), "k": code},
                )
    upgrade(empty_database)
    clock = SettableClock.at_date(date(2026, 6, 1))
    with empty_database.connect() as conn:
        assert tenant_keys.is_demo(conn, "101") and not tenant_keys.is_demo(conn, "461")
        assert tenant_keys.authenticate(conn, clock, "demo-101-admin").municipality == "101"
        assert tenant_keys.authenticate(conn, clock, "real-461").key_id == tenant_keys.key_id_of(
            "real-461"
        )
        with pytest.raises(UnauthenticatedError, match="demo"):
            tenant_keys.authenticate(conn, clock, "demo-461-admin")
        with pytest.raises(UnauthenticatedError, match="demo"):
            tenant_keys.authenticate(conn, clock, "demo-101-admin", production=True)
