"""Tables of the tenants context."""

from __future__ import annotations

from sqlalchemy import (
    DDL,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    event,
    false,
)

from fbs_debitor.core.db import ID_TYPE, UtcDateTime, metadata

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
    # made by `serve --demo` / `fbs-debitor demo`: only a demo municipality has demo keys
    Column("demo", Boolean, nullable=False, server_default=false()),
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
    # the public handle of a key (list, revoke, rotate): the first 12 hex digits of its hash
    Column("key_id", String(16), nullable=False, unique=True),
    Column("created_by", String(120), nullable=True),
    Column("expires_at", UtcDateTime, nullable=True),  # None: never (only demo keys)
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("revoked_by", String(120), nullable=True),
    Column("revoked_reason", String(200), nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),  # updated at most once a minute
    Column("demo", Boolean, nullable=False, server_default=false()),
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


# Who did what: every staff action through the API and every read of a full CPR. Append-only:
# the database refuses UPDATE and DELETE (triggers below, and in migration 0013).
audit_log = Table(
    "tenants_audit",
    metadata,
    Column("id", ID_TYPE, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(120), nullable=False),  # key:<key_id> <label> | person:<subject>
    Column("role", String(20), nullable=False),
    Column("action", String(200), nullable=False),  # "POST /api/v1/{kommunekode}/fees/{fee_id}/pay"
    Column("target", String(300), nullable=True),  # the path parameters, CPRs masked
    Column("reason", String(500), nullable=True),  # the why the caller gave
    Column("outcome", Integer, nullable=False),  # the HTTP status answered
    Index("ix_tenants_audit_municipality_id", "municipality", "id"),
)

APPEND_ONLY_SQLITE = [
    "CREATE TRIGGER tenants_audit_no_update BEFORE UPDATE ON tenants_audit "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER tenants_audit_no_delete BEFORE DELETE ON tenants_audit "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
]
APPEND_ONLY_POSTGRESQL = [
    "CREATE OR REPLACE FUNCTION tenants_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$",
    "CREATE TRIGGER tenants_audit_append_only BEFORE UPDATE OR DELETE ON tenants_audit "
    "FOR EACH ROW EXECUTE FUNCTION tenants_audit_append_only()",
]
for _dialect, _statements in (
    ("sqlite", APPEND_ONLY_SQLITE),
    ("postgresql", APPEND_ONLY_POSTGRESQL),
):
    for _statement in _statements:
        _ddl = DDL(_statement).execute_if(dialect=_dialect)  # type: ignore[no-untyped-call]
        event.listen(audit_log, "after_create", _ddl)

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
