"""debtor_reminder: a reminder letter carries at most 250 kr in fees (CHECK 0 <= fee <= 25000)

The cap of gebyrloven § 2 is per letter (decision 0012). Reminders made before that decision
could carry a fee per claim (three library fees on one letter: 750 kr); the upgrade refuses to
run while such rows exist, naming them, instead of hiding them behind an unchecked constraint.

SQLite cannot add a CHECK to a table: it is rebuilt (the batch "move and copy"), with its rows
and ids. ``debtor_posting.reminder_id`` refers to it and foreign keys are on, so the rows are
copied aside first and copied back after the new table is made, with the foreign-key check
deferred to the commit: at commit every posting finds its reminder again. (Alembic's batch mode
drops the old table and renames the copy into place, which leaves the deferred check failing.)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fbs_debitor.core.db
from fbs_debitor.core.money import Money

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "fee_total_ore >= 0 AND fee_total_ore <= 25000"
NAME = "ck_debtor_reminder_fee_cap"
COPY_BACK = (
    "INSERT INTO debtor_reminder (id, municipality, invoice_id, step_number, reminder_date, "
    "fee_total_ore, announces_collection, created_at) SELECT id, municipality, invoice_id, "
    "step_number, reminder_date, fee_total_ore, announces_collection, created_at "
    "FROM _debtor_reminder_0008"
)


def _refuse_letters_beyond_the_cap() -> None:
    rows = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT municipality, invoice_id, step_number, fee_total_ore FROM debtor_reminder "
                "WHERE fee_total_ore < 0 OR fee_total_ore > 25000 ORDER BY id"
            )
        )
        .all()
    )
    if rows:
        named = "; ".join(
            f"{m}/invoice {invoice} reminder {step}: {Money(ore=int(fee))}"
            for m, invoice, step, fee in rows[:20]
        )
        raise RuntimeError(
            f"migration 0008: {len(rows)} reminder(s) charged more than the 250 kr one reminder "
            f"letter may carry (gebyrloven § 2, decision 0012): {named}. Correct their fees "
            f"before upgrading."
        )


def _rebuild_on_sqlite(check: bool) -> None:
    op.execute(
        "PRAGMA defer_foreign_keys=ON"
    )  # until the commit, inside the migration's transaction
    op.execute("CREATE TABLE _debtor_reminder_0008 AS SELECT * FROM debtor_reminder")
    op.drop_table("debtor_reminder")
    op.create_table(
        "debtor_reminder",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("municipality", sa.String(length=3), nullable=False),
        sa.Column(
            "invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("step_number", sa.Integer(), nullable=False),
        sa.Column("reminder_date", sa.Date(), nullable=False),
        sa.Column("fee_total_ore", sa.BigInteger(), nullable=False),
        sa.Column("announces_collection", sa.Boolean(), nullable=False),
        sa.Column("created_at", fbs_debitor.core.db.UtcDateTime(timezone=True), nullable=False),
        *([sa.CheckConstraint(CHECK, name=op.f(NAME))] if check else []),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["debtor_invoice.id"],
            name=op.f("fk_debtor_reminder_invoice_id_debtor_invoice"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_debtor_reminder")),
        sa.UniqueConstraint(
            "invoice_id", "step_number", name=op.f("uq_debtor_reminder_invoice_id_step_number")
        ),
    )
    op.execute(COPY_BACK)
    op.drop_table("_debtor_reminder_0008")


def upgrade() -> None:
    _refuse_letters_beyond_the_cap()
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_on_sqlite(check=True)
    else:
        op.create_check_constraint(op.f(NAME), "debtor_reminder", CHECK)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_on_sqlite(check=False)
    else:
        op.drop_constraint(op.f(NAME), "debtor_reminder", type_="check")
