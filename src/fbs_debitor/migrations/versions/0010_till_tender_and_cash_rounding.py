"""the till's tender and the cash rounding line (decision 0014)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "payments_register_payment",
        sa.Column("tender", sa.String(length=10), nullable=False, server_default="card"),
    )
    op.add_column(
        "payments_register_payment", sa.Column("cash_ore", sa.BigInteger(), nullable=True)
    )
    op.add_column(
        "payments_register_payment",
        sa.Column("rounding_ore", sa.BigInteger(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("payments_register_payment") as batch:
        batch.drop_column("rounding_ore")
        batch.drop_column("cash_ore")
        batch.drop_column("tender")
