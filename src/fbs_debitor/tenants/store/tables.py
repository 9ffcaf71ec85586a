"""Tables of the tenants context."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, ForeignKey, String, Table

from fbs_debitor.core.db import UtcDateTime, metadata

municipalities = Table(
    "tenants_municipality",
    metadata,
    Column("kommunekode", String(3), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("agency_id", String(6), nullable=False, unique=True),
    Column("creditor_number", String(8), nullable=False),
    Column("debtor_vendor", String(20), nullable=False),
    Column("cutoff_date", Date, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

api_keys = Table(
    "tenants_api_key",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column(
        "municipality",
        String(3),
        ForeignKey("tenants_municipality.kommunekode"),
        nullable=False,
        index=True,
    ),
    Column("role", String(20), nullable=False),
    Column("label", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

sortiment = Table(
    "tenants_sortiment",
    metadata,
    Column(
        "municipality", String(3), ForeignKey("tenants_municipality.kommunekode"), primary_key=True
    ),
    Column("claim_kind", String(40), primary_key=True),
    Column("debtor_classification", String(40), nullable=False),
    Column("psrm_claim_type", String(40), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)


# Where each municipality's staff log in (OpenID Connect), and which of the provider's groups
# give which role. The client secret is a credential: it is never listed or logged.
staff_identity_providers = Table(
    "tenants_staff_idp",
    metadata,
    Column(
        "municipality", String(3), ForeignKey("tenants_municipality.kommunekode"), primary_key=True
    ),
    Column("issuer", String(300), nullable=False),
    Column("client_id", String(200), nullable=False),
    Column("client_secret", String(500), nullable=False),
    Column("groups_claim", String(100), nullable=False),
    Column("scopes", String(300), nullable=False),
    Column("development", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

group_roles = Table(
    "tenants_group_role",
    metadata,
    Column(
        "municipality", String(3), ForeignKey("tenants_municipality.kommunekode"), primary_key=True
    ),
    Column("idp_group", String(200), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
