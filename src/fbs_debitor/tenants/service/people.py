"""People logging in: each municipality's staff identity provider and its group -> role map
(the OpenID Connect relying party itself lives in ``fbs_debitor.web.auth``)."""

from __future__ import annotations

import re

from sqlalchemy import Connection, delete, insert, select, update

from fbs_debitor.core.clock import Clock
from fbs_debitor.core.errors import (
    ValidationError,
)
from fbs_debitor.tenants.model import (
    ROLE_PRECEDENCE,
    Role,
    StaffIdentityProvider,
)
from fbs_debitor.tenants.service.municipalities import get_municipality
from fbs_debitor.tenants.store.tables import (
    group_roles,
    staff_identity_providers,
)

_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")


def set_staff_identity_provider(
    conn: Connection,
    clock: Clock,
    kommunekode: str,
    *,
    issuer: str,
    client_id: str,
    client_secret: str,
    groups_claim: str = "groups",
    scopes: str = "openid profile",
    development: bool = False,
    production: bool = False,
) -> StaffIdentityProvider:
    """Set (or replace) where the municipality's staff log in. ``production``: the environment
    is production, which refuses a development provider and any issuer not on https."""
    get_municipality(conn, kommunekode)
    issuer = issuer.strip().rstrip("/")
    if not _URL.match(issuer):
        raise ValidationError(f"issuer must be an http(s) URL, got {issuer!r}", code="invalid-idp")
    if production and (development or not issuer.startswith("https://")):
        raise ValidationError(
            "production takes only an identity provider on https, never the development one",
            code="development-idp-in-production",
        )
    for label, value, longest in (
        ("client id", client_id, 200),
        ("groups claim", groups_claim, 100),
        ("scopes", scopes, 300),
    ):
        if not value.strip() or len(value) > longest or "\n" in value:
            raise ValidationError(f"{label} must be 1 to {longest} characters", code="invalid-idp")
    if "openid" not in scopes.split():
        raise ValidationError("scopes must include openid", code="invalid-idp")
    values = {
        "issuer": issuer,
        "client_id": client_id.strip(),
        "client_secret": client_secret,
        "groups_claim": groups_claim.strip(),
        "scopes": " ".join(scopes.split()),
        "development": development,
        "updated_at": clock.now(),
    }
    where = staff_identity_providers.c.municipality == kommunekode
    if conn.execute(select(staff_identity_providers.c.municipality).where(where)).first():
        conn.execute(update(staff_identity_providers).where(where).values(**values))
    else:
        conn.execute(insert(staff_identity_providers).values(municipality=kommunekode, **values))
    found = find_staff_identity_provider(conn, kommunekode)
    assert found is not None
    return found


def find_staff_identity_provider(
    conn: Connection, kommunekode: str
) -> StaffIdentityProvider | None:
    row = conn.execute(
        select(staff_identity_providers).where(
            staff_identity_providers.c.municipality == kommunekode
        )
    ).first()
    if row is None:
        return None
    return StaffIdentityProvider(
        municipality=row.municipality,
        issuer=row.issuer,
        client_id=row.client_id,
        client_secret=row.client_secret,
        groups_claim=row.groups_claim,
        scopes=row.scopes,
        development=bool(row.development),
    )


def map_group(
    conn: Connection, clock: Clock, kommunekode: str, group: str, role: Role | str
) -> tuple[str, Role]:
    """Members of the identity provider's ``group`` log in to ``kommunekode`` with ``role``."""
    get_municipality(conn, kommunekode)
    group = group.strip()
    if not group or len(group) > 200:
        raise ValidationError("a group name must be 1 to 200 characters", code="invalid-group")
    try:
        role = Role(role)
    except ValueError as exc:
        raise ValidationError(
            f"unknown role {role!r}; roles are " + ", ".join(r.value for r in Role),
            code="unknown-role",
        ) from exc
    where = (group_roles.c.municipality == kommunekode) & (group_roles.c.idp_group == group)
    if conn.execute(select(group_roles.c.role).where(where)).first():
        conn.execute(
            update(group_roles).where(where).values(role=role.value, updated_at=clock.now())
        )
    else:
        conn.execute(
            insert(group_roles).values(
                municipality=kommunekode, idp_group=group, role=role.value, updated_at=clock.now()
            )
        )
    return group, role


def unmap_group(conn: Connection, kommunekode: str, group: str) -> bool:
    """Stop ``group`` giving a role; False if it gave none."""
    result = conn.execute(
        delete(group_roles).where(
            (group_roles.c.municipality == kommunekode) & (group_roles.c.idp_group == group)
        )
    )
    return bool(result.rowcount)


def list_group_roles(conn: Connection, kommunekode: str) -> dict[str, Role]:
    rows = conn.execute(
        select(group_roles.c.idp_group, group_roles.c.role)
        .where(group_roles.c.municipality == kommunekode)
        .order_by(group_roles.c.idp_group)
    )
    return {r.idp_group: Role(r.role) for r in rows}


def role_for_groups(conn: Connection, kommunekode: str, groups: list[str]) -> Role | None:
    """The role a person with ``groups`` has in ``kommunekode`` (None: no group gives one);
    several roles: the first in ROLE_PRECEDENCE."""
    mapping = list_group_roles(conn, kommunekode)
    roles = {mapping[g] for g in groups if g in mapping}
    return next((r for r in ROLE_PRECEDENCE if r in roles), None)
