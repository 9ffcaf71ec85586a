"""Migration 0003 upgrades a database that already holds claims and postings (leg 1 in
production) on both databases: on SQLite it adds the foreign-key columns of debtor_claim and
debtor_posting with ALTER TABLE, since a batch "move and copy" would have to DROP debtor_claim,
which its postings' foreign keys refuse."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from fbs_debitor.core.db import Database
from fbs_debitor.debtor.store.tables import claims, postings
from fbs_debitor.migrate import upgrade


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = Database(str(tmp_path / "leg1.db"))
    else:
        db = Database(request.getfixturevalue("fresh_postgres_url"))
    yield db
    db.dispose()


def test_0003_upgrades_a_database_with_claims(empty_database: Database) -> None:
    db = empty_database
    upgrade(db, "0002")
    with db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO debtor_account (municipality, id_type, debtor_id, created_at) "
                "VALUES ('101', 'cpr', '0101801234', '2026-03-02 08:00:00+00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO debtor_claim (municipality, claim_id, account_id, claim_kind, "
                "legal_basis, debtor_classification, psrm_claim_type, patron_id, created_on, "
                "acknowledged, materials, invoice_text, status, registered_at) VALUES ('101', "
                "'fee-1', (SELECT id FROM debtor_account), 'fee', 'public', 'BIB', 'BIB', 'p', "
                "'2026-03-02', false, '[]', '', 'open', '2026-03-02 08:00:00+00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO debtor_posting (municipality, claim_pk, kind, amount_ore, booked_at, "
                "effective_on, note) VALUES ('101', (SELECT id FROM debtor_claim), 'charge', "
                "12500, '2026-03-02 08:00:00+00', '2026-03-02', '')"
            )
        )
    upgrade(db)
    with db.connect() as conn:
        claim = conn.execute(select(claims.c.invoice_id, claims.c.coverage_sequence)).one()
        posting = conn.execute(select(postings.c.amount_ore, postings.c.reminder_id)).one()
    assert tuple(claim) == (None, 0)
    assert tuple(posting) == (12500, None)
