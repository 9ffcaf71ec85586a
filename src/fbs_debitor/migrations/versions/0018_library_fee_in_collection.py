"""library_fee.in_collection: the fee is with the state debt collector (Gældsstyrelsen)

Set by ``coverage.ClaimCollectionChanged`` from debtor; while it is true the FBS fee API tells
the citizen to pay Gældsstyrelsen instead of the municipality. Decision 0022.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 10:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a plain ADD COLUMN with a default: no rebuild of a table others reference (as 0008)
    op.add_column(
        "library_fee",
        sa.Column("in_collection", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("library_fee", "in_collection")
