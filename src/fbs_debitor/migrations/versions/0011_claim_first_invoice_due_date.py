"""debtor_claim.first_invoice_due_date: limitation runs from the claim's own due date

Limitation (forældelsesloven § 3) counts from the claim's own due date: the library's
(``debtor_claim.due_date``), else the due date of the claim's first invoice. A change of debtor
takes a claim off its invoice and puts it on a new one with a later due date; this column keeps
the first invoice's due date from then on (decision 0015).

No backfill: a claim on its first invoice reads that invoice's due date. A claim moved before
this migration is on a later invoice (or none) and the first one is not recorded anywhere the
migration could read it reliably; such a claim without a due date from the library counts from
the invoice it is on (docs/operations.md, limitation).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("debtor_claim") as batch:
        batch.add_column(sa.Column("first_invoice_due_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("debtor_claim") as batch:
        batch.drop_column("first_invoice_due_date")
