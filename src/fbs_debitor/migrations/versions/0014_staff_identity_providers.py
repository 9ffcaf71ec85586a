"""tenants_staff_idp, tenants_group_role: where each municipality's staff log in (OpenID Connect)
and which of the identity provider's groups give which role

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fbs_debitor.core.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenants_staff_idp",
        sa.Column("municipality", sa.String(length=3), nullable=False),
        sa.Column("issuer", sa.String(length=300), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("client_secret", sa.String(length=500), nullable=False),
        sa.Column("groups_claim", sa.String(length=100), nullable=False),
        sa.Column("scopes", sa.String(length=300), nullable=False),
        sa.Column("development", sa.Boolean(), nullable=False),
        sa.Column("updated_at", fbs_debitor.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["municipality"], ["tenants_municipality.kommunekode"]),
        sa.PrimaryKeyConstraint("municipality"),
    )
    op.create_table(
        "tenants_group_role",
        sa.Column("municipality", sa.String(length=3), nullable=False),
        sa.Column("idp_group", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("updated_at", fbs_debitor.core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["municipality"], ["tenants_municipality.kommunekode"]),
        sa.PrimaryKeyConstraint("municipality", "idp_group"),
    )


def downgrade() -> None:
    op.drop_table("tenants_group_role")
    op.drop_table("tenants_staff_idp")
