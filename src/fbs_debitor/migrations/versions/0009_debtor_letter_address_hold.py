"""debtor_letter: why a pending letter waits for its address, and when it is tried again

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fbs_debitor.core.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("debtor_letter", sa.Column("hold_reason", sa.Text(), nullable=True))
    op.add_column(
        "debtor_letter",
        sa.Column("next_attempt_at", fbs_debitor.core.db.UtcDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("debtor_letter") as batch_op:
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("hold_reason")
