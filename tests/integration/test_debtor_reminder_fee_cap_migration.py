"""Migration 0012 puts the cap of one reminder letter (0 to 250 kr) on ``debtor_reminder`` as a
CHECK, on both databases, in a database that already holds reminders with fee postings that
refer to them (on SQLite the table is rebuilt under those foreign keys), and refuses to run over
a reminder that charged more than the cap, naming it. Downgrade takes the CHECK off again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from fbs_debitor.core.db import Database
from fbs_debitor.migrate import alembic_config, upgrade

ROWS = [
    "INSERT INTO debtor_account (municipality, id_type, debtor_id, created_at) "
    "VALUES ('101', 'cpr', '0101801234', '2026-03-02 08:00:00+00')",
    "INSERT INTO debtor_invoice (municipality, account_id, payment_id, creditor_number, "
    "issue_date, due_date, last_timely_payment_date, issued_total_ore, created_at) VALUES ('101', "
    "(SELECT id FROM debtor_account), '000000000000018', '89123456', '2026-03-02', '2026-03-16', "
    "'2026-03-16', 12500, '2026-03-02 08:00:00+00')",
    "INSERT INTO debtor_claim (municipality, claim_id, account_id, claim_kind, legal_basis, "
    "debtor_classification, psrm_claim_type, patron_id, created_on, acknowledged, materials, "
    "invoice_text, status, registered_at, invoice_id) VALUES ('101', 'fee-1', "
    "(SELECT id FROM debtor_account), 'fee', 'public', 'BIB', 'BIB', 'p', '2026-03-02', false, "
    "'[]', '', 'open', '2026-03-02 08:00:00+00', (SELECT id FROM debtor_invoice))",
]


def reminder(step: int, fee_ore: int) -> list[str]:
    """A reminder of the invoice with this step and fee, and its fee posting."""
    return [
        "INSERT INTO debtor_reminder (municipality, invoice_id, step_number, reminder_date, "
        "fee_total_ore, announces_collection, created_at) VALUES ('101', (SELECT id FROM "
        f"debtor_invoice), {step}, '2026-04-19', {fee_ore}, false, '2026-04-19 08:00:00+00')",
        "INSERT INTO debtor_posting (municipality, claim_pk, kind, amount_ore, booked_at, "
        f"effective_on, note, reminder_id) VALUES ('101', (SELECT id FROM debtor_claim), "
        f"'reminder_fee', {fee_ore}, '2026-04-19 08:00:00+00', '2026-04-19', '', "
        f"(SELECT id FROM debtor_reminder WHERE step_number = {step}))",
    ]


@pytest.fixture(params=["sqlite", "postgresql"])
def at_0007(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database at migration 0007 with an account, an invoice and a claim."""
    if request.param == "sqlite":
        db = Database(str(tmp_path / "reminders.db"))
    else:
        db = Database(request.getfixturevalue("fresh_postgres_url"))
    upgrade(db, "0007")
    with db.begin() as conn:
        for sql in ROWS:
            conn.execute(text(sql))
    yield db
    db.dispose()


def test_0012_keeps_reminders_and_their_postings_and_adds_the_cap(at_0007: Database) -> None:
    db = at_0007
    with db.begin() as conn:
        for sql in reminder(1, 10000) + reminder(2, 25000):
            conn.execute(text(sql))
    upgrade(db)
    with db.connect() as conn:
        kept = conn.execute(
            text(
                "SELECT r.step_number, r.fee_total_ore, p.amount_ore FROM debtor_reminder r "
                "JOIN debtor_posting p ON p.reminder_id = r.id ORDER BY r.step_number"
            )
        ).all()
    assert [tuple(r) for r in kept] == [(1, 10000, 10000), (2, 25000, 25000)]
    for bad in (25001, -1):
        with pytest.raises(IntegrityError), db.begin() as conn:
            conn.execute(text(f"UPDATE debtor_reminder SET fee_total_ore = {bad}"))
    with pytest.raises(IntegrityError), db.begin() as conn:
        conn.execute(text(reminder(3, 30000)[0]))
    # the foreign key from the postings still holds: a reminder with a posting cannot go
    with pytest.raises(IntegrityError), db.begin() as conn:
        conn.execute(text("DELETE FROM debtor_reminder WHERE step_number = 1"))

    command.downgrade(alembic_config(db), "0011")
    with db.begin() as conn:
        conn.execute(text("UPDATE debtor_reminder SET fee_total_ore = 30000 WHERE step_number = 2"))
        conn.execute(text("UPDATE debtor_reminder SET fee_total_ore = 25000 WHERE step_number = 2"))
    upgrade(db)


def test_0012_refuses_a_reminder_beyond_the_cap_and_names_it(at_0007: Database) -> None:
    db = at_0007
    with db.begin() as conn:
        for sql in reminder(1, 75000):  # three 250 kr fees on one letter, before decision 0012
            conn.execute(text(sql))
    with pytest.raises(RuntimeError, match="250 kr") as refused:
        upgrade(db)
    assert "101/invoice 1 reminder 1: 750,00 kr." in str(refused.value)
    with db.connect() as conn:
        assert conn.execute(text("SELECT fee_total_ore FROM debtor_reminder")).scalar() == 75000
