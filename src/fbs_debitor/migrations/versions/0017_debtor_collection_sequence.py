"""debtor_claim.collection_sequence: debtor numbers its reports to collection per claim

A claim handed over to PSRM that changes in debtor (the library regulates it, a payment
arrives locally, staff write it off, a local payment is reversed) is reported to the collection
context with ``collection.HandedOverClaimChanged``, ordered per claim on the key
``collection-report:<municipality>:<claim_id>``; this is the last sequence used (0: none sent).
Decision 0022.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a plain ADD COLUMN with a default: SQLite cannot rebuild debtor_claim (which other tables
    # reference) while foreign keys are on (as 0008)
    op.add_column(
        "debtor_claim",
        sa.Column("collection_sequence", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("debtor_claim", "collection_sequence")
