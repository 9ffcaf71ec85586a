"""payments_bank_upload: a bank file uploaded over HTTP is imported by a background job

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fbs_debitor.core.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payments_bank_upload",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("municipality", sa.String(length=3), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("spool_path", sa.Text(), nullable=False),
        sa.Column("node", sa.String(length=255), nullable=False),
        sa.Column("payments", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(length=60), nullable=True),
        sa.Column("error_detail", sa.Text(), nullable=True),
        sa.Column("created_at", fbs_debitor.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("started_at", fbs_debitor.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", fbs_debitor.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", fbs_debitor.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_bank_upload")),
    )
    with op.batch_alter_table("payments_bank_upload", schema=None) as batch_op:
        batch_op.create_index("ix_payments_bank_upload_state", ["state", "node"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payments_bank_upload", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_bank_upload_state")
    op.drop_table("payments_bank_upload")
