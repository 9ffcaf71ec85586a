"""outbox: index of the rows waiting for an earlier message of their ordering key

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 20:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_outbox_deferred",
        "outbox",
        ["ordering_key"],
        unique=False,
        postgresql_where=sa.text("status = 'pending' AND deferrals > 0"),
        sqlite_where=sa.text("status = 'pending' AND deferrals > 0"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_deferred", table_name="outbox")
