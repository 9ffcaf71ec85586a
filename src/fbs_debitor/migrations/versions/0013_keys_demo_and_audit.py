"""API keys get a public id, an expiry, revocation and last use; demo municipalities and demo
keys are marked; the append-only audit log (tenants_audit).

Existing keys: ``key_id`` is the first 12 hex digits of the stored hash; they get no expiry
(``key list`` shows them, an admin rotates them). The well-known demo keys
(``demo-<kommunekode>-<role>``) are marked ``demo``; a municipality whose name ends in
"(demo)" (the old demo seeding's name) is marked ``demo``. Demo keys of any other municipality
are refused from now on (decision 0017).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 03:00:00
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fbs_debitor.core.db
from fbs_debitor.tenants.store.tables import APPEND_ONLY_POSTGRESQL, APPEND_ONLY_SQLITE

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("library", "integration", "debtor-staff", "cash-register", "ops", "admin")


def upgrade() -> None:
    conn = op.get_bind()
    # a plain ADD COLUMN: SQLite's batch copy would drop the table the keys refer to
    op.add_column(
        "tenants_municipality",
        sa.Column("demo", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    with op.batch_alter_table("tenants_api_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("created_by", sa.String(length=120), nullable=True))
        for name in ("expires_at", "revoked_at", "last_used_at"):
            batch_op.add_column(
                sa.Column(name, fbs_debitor.core.db.UtcDateTime(timezone=True), nullable=True)
            )
        batch_op.add_column(sa.Column("revoked_by", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("revoked_reason", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("demo", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    conn.execute(sa.text("UPDATE tenants_api_key SET key_id = substr(key_hash, 1, 12)"))
    rows = conn.execute(sa.text("SELECT kommunekode, name FROM tenants_municipality")).all()
    for kommunekode, name in rows:
        if name.endswith("(demo)"):
            conn.execute(
                sa.text("UPDATE tenants_municipality SET demo = true WHERE kommunekode = :k"),
                {"k": kommunekode},
            )
        for role in ROLES:
            digest = hashlib.sha256(f"demo-{kommunekode}-{role}".encode()).hexdigest()
            conn.execute(
                sa.text("UPDATE tenants_api_key SET demo = true WHERE key_hash = :h"),
                {"h": digest},
            )
    with op.batch_alter_table("tenants_api_key", schema=None) as batch_op:
        batch_op.alter_column("key_id", existing_type=sa.String(length=16), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_tenants_api_key_key_id"), ["key_id"])

    op.create_table(
        "tenants_audit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("municipality", sa.String(length=3), nullable=False),
        sa.Column("at", fbs_debitor.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=200), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("outcome", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants_audit")),
    )
    op.create_index(
        "ix_tenants_audit_municipality_id", "tenants_audit", ["municipality", "id"], unique=False
    )
    statements = APPEND_ONLY_POSTGRESQL if conn.dialect.name == "postgresql" else APPEND_ONLY_SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS tenants_audit_append_only ON tenants_audit")
        op.execute("DROP FUNCTION IF EXISTS tenants_audit_append_only()")
    op.drop_index("ix_tenants_audit_municipality_id", table_name="tenants_audit")
    op.drop_table("tenants_audit")
    with op.batch_alter_table("tenants_api_key", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_tenants_api_key_key_id"), type_="unique")
        for name in (
            "demo",
            "revoked_reason",
            "revoked_by",
            "last_used_at",
            "revoked_at",
            "expires_at",
            "created_by",
            "key_id",
        ):
            batch_op.drop_column(name)
    op.drop_column("tenants_municipality", "demo")
