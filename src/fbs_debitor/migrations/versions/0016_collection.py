"""collection: claims handed to PSRM, actions, receipts, notifications, cursors, runs

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 05:36:48.337931
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fbs_debitor.core.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "collection_action",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("municipality", sa.String(length=3), nullable=False),
        sa.Column("claim_id", sa.String(length=40), nullable=False),
        sa.Column("aktion_id", sa.String(length=36), nullable=False),
        sa.Column("aktion", sa.String(length=14), nullable=False),
        sa.Column("aarsagskode", sa.String(length=4), nullable=True),
        sa.Column("amount_ore", sa.BigInteger(), nullable=False),
        sa.Column("virkningsdato", sa.Date(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("cause", sa.String(length=60), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", fbs_debitor.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", fbs_debitor.core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("answer_code", sa.String(length=40), nullable=True),
        sa.Column("answer_text", sa.Text(), nullable=True),
        sa.Column("created_at", fbs_debitor.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_action")),
        sa.UniqueConstraint("aktion_id", name=op.f("uq_collection_action_aktion_id")),
    )
    with op.batch_alter_table("collection_action", schema=None) as batch_op:
        batch_op.create_index(
            "ix_collection_action_claim", ["municipality", "claim_id"], unique=False
        )
        batch_op.create_index(
            "ix_collection_action_status", ["municipality", "status"], unique=False
        )

    op.create_table(
        "collection_claim",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("municipality", sa.String(length=3), nullable=False),
        sa.Column("claim_id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("psrm_claim_type", sa.String(length=40), nullable=False),
        sa.Column("psrm_claim_id", sa.String(length=40), nullable=True),
        sa.Column("handed_over_on", sa.Date(), nullable=False),
        sa.Column("handed_over_ore", sa.BigInteger(), nullable=False),
        sa.Column("return_code", sa.String(length=40), nullable=True),
        sa.Column("return_reason", sa.Text(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("action_sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", fbs_debitor.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", fbs_debitor.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_claim")),
        sa.UniqueConstraint(
            "municipality", "claim_id", name=op.f("uq_collection_claim_municipality_claim_id")
        ),
    )
    with op.batch_alter_table("collection_claim", schema=None) as batch_op:
        batch_op.create_index("ix_collection_claim_state", ["municipality", "state"], unique=False)

    op.create_table(
        "collection_cursor",
        sa.Column("municipality", sa.String(length=3), nullable=False),
        sa.Column("feed", sa.String(length=13), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("updated_at", fbs_debitor.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("municipality", "feed", name=op.f("pk_collection_cursor")),
    )
    op.create_table(
        "collection_notification",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("municipality", sa.String(length=3), nullable=False),
        sa.Column("underretning_id", sa.String(length=60), nullable=False),
        sa.Column("type", sa.String(length=12), nullable=False),
        sa.Column("claim_id", sa.String(length=40), nullable=False),
        sa.Column("psrm_claim_id", sa.String(length=40), nullable=False),
        sa.Column("amount_ore", sa.BigInteger(), nullable=False),
        sa.Column("betalingsdato", sa.Date(), nullable=False),
        sa.Column("afregningsdato", sa.Date(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", fbs_debitor.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_notification")),
        sa.UniqueConstraint(
            "municipality",
            "underretning_id",
            name=op.f("uq_collection_notification_municipality_underretning_id"),
        ),
    )
    with op.batch_alter_table("collection_notification", schema=None) as batch_op:
        batch_op.create_index(
            "ix_collection_notification_claim", ["municipality", "claim_id"], unique=False
        )

    op.create_table(
        "collection_receipt",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("municipality", sa.String(length=3), nullable=False),
        sa.Column("kvittering_id", sa.String(length=60), nullable=False),
        sa.Column("aktion_id", sa.String(length=36), nullable=False),
        sa.Column("claim_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("decided_at", fbs_debitor.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("received_at", fbs_debitor.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_receipt")),
        sa.UniqueConstraint(
            "municipality",
            "kvittering_id",
            name=op.f("uq_collection_receipt_municipality_kvittering_id"),
        ),
    )
    op.create_table(
        "collection_run",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("municipality", sa.String(length=3), nullable=False),
        sa.Column("run_on", sa.Date(), nullable=False),
        sa.Column("evaluated", sa.BigInteger(), nullable=False),
        sa.Column("eligible", sa.BigInteger(), nullable=False),
        sa.Column("handed_over", sa.BigInteger(), nullable=False),
        sa.Column("not_eligible", sa.Text(), nullable=False),
        sa.Column("waiting", sa.Text(), nullable=False),
        sa.Column("at", fbs_debitor.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_run")),
    )
    with op.batch_alter_table("collection_run", schema=None) as batch_op:
        batch_op.create_index("ix_collection_run", ["municipality", "run_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("collection_run", schema=None) as batch_op:
        batch_op.drop_index("ix_collection_run")

    op.drop_table("collection_run")
    op.drop_table("collection_receipt")
    with op.batch_alter_table("collection_notification", schema=None) as batch_op:
        batch_op.drop_index("ix_collection_notification_claim")

    op.drop_table("collection_notification")
    op.drop_table("collection_cursor")
    with op.batch_alter_table("collection_claim", schema=None) as batch_op:
        batch_op.drop_index("ix_collection_claim_state")

    op.drop_table("collection_claim")
    with op.batch_alter_table("collection_action", schema=None) as batch_op:
        batch_op.drop_index("ix_collection_action_status")
        batch_op.drop_index("ix_collection_action_claim")

    op.drop_table("collection_action")
