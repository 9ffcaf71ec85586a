"""Use cases of the tenants context: one transaction each."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date

from sqlalchemy import Connection, delete, insert, select, update

from fbs_debitor.contracts.registration import ClaimKind
from fbs_debitor.contracts.sending import send
from fbs_debitor.contracts.tenants import MunicipalityConfigured, SortimentMapped
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.errors import (
    ConflictError,
    NotFoundError,
    UnauthenticatedError,
    ValidationError,
)
from fbs_debitor.core.fik import validate_creditor_number
from fbs_debitor.tenants.model import (
    ROLE_PRECEDENCE,
    DebtorVendor,
    Municipality,
    Role,
    StaffIdentityProvider,
    check_agency_id,
    check_kommunekode,
)
from fbs_debitor.tenants.store.tables import (
    api_keys,
    group_roles,
    municipalities,
    sortiment,
    staff_identity_providers,
)

SOURCE = "tenants"


def _to_model(row: object) -> Municipality:
    r = row._mapping  # type: ignore[attr-defined]
    return Municipality(
        kommunekode=r["kommunekode"],
        name=r["name"],
        agency_id=r["agency_id"],
        creditor_number=r["creditor_number"],
        debtor_vendor=DebtorVendor(r["debtor_vendor"]),
        cutoff_date=r["cutoff_date"],
    )


def create_municipality(
    conn: Connection,
    clock: Clock,
    *,
    kommunekode: str,
    name: str,
    agency_id: str,
    creditor_number: str,
    debtor_vendor: DebtorVendor = DebtorVendor.BUILT_IN,
    cutoff_date: date | None = None,
) -> Municipality:
    check_kommunekode(kommunekode)
    check_agency_id(agency_id)
    validate_creditor_number(creditor_number)
    if conn.execute(
        select(municipalities.c.kommunekode).where(municipalities.c.kommunekode == kommunekode)
    ).first():
        raise ConflictError(f"municipality {kommunekode} exists already", code="exists")
    conn.execute(
        insert(municipalities).values(
            kommunekode=kommunekode,
            name=name,
            agency_id=agency_id,
            creditor_number=creditor_number,
            debtor_vendor=debtor_vendor.value,
            cutoff_date=cutoff_date,
            created_at=clock.now(),
        )
    )
    municipality = get_municipality(conn, kommunekode)
    _announce(conn, clock, municipality)
    return municipality


def _announce(conn: Connection, clock: Clock, m: Municipality) -> None:
    """Tell the other contexts the municipality's set-up (they keep a copy)."""
    send(
        conn,
        MunicipalityConfigured(
            municipality=m.kommunekode,
            occurred_at=clock.now(),
            name=m.name,
            agency_id=m.agency_id,
            creditor_number=m.creditor_number,
            debtor_vendor=m.debtor_vendor.value,
            cutoff_date=m.cutoff_date,
        ),
        source=SOURCE,
    )


def get_municipality(conn: Connection, kommunekode: str) -> Municipality:
    row = conn.execute(
        select(municipalities).where(municipalities.c.kommunekode == kommunekode)
    ).first()
    if row is None:
        raise NotFoundError(f"no municipality {kommunekode}", code="unknown-municipality")
    return _to_model(row)


def find_municipality(conn: Connection, kommunekode: str) -> Municipality | None:
    row = conn.execute(
        select(municipalities).where(municipalities.c.kommunekode == kommunekode)
    ).first()
    return None if row is None else _to_model(row)


def by_agency(conn: Connection, agency_id: str) -> Municipality:
    row = conn.execute(
        select(municipalities).where(municipalities.c.agency_id == agency_id)
    ).first()
    if row is None:
        raise NotFoundError(f"no library agency {agency_id}", code="unknown-agency")
    return _to_model(row)


def list_municipalities(conn: Connection) -> list[Municipality]:
    return [
        _to_model(r)
        for r in conn.execute(select(municipalities).order_by(municipalities.c.kommunekode))
    ]


def set_cutoff_date(
    conn: Connection, clock: Clock, kommunekode: str, cutoff: date | None
) -> Municipality:
    """Set the go-live date; fees created before it stay old (in the library only)."""
    get_municipality(conn, kommunekode)
    conn.execute(
        update(municipalities)
        .where(municipalities.c.kommunekode == kommunekode)
        .values(cutoff_date=cutoff)
    )
    municipality = get_municipality(conn, kommunekode)
    _announce(conn, clock, municipality)
    return municipality


def map_claim_kind(
    conn: Connection,
    clock: Clock,
    kommunekode: str,
    claim_kind: str,
    *,
    debtor_classification: str,
    psrm_claim_type: str,
) -> dict[str, str]:
    """Map one library claim kind to the municipality's debtor classification and PSRM type.

    Claims of a kind that was unmapped are held in the library and go to debtor once this
    mapping reaches it.
    """
    get_municipality(conn, kommunekode)
    try:
        kind = ClaimKind(claim_kind)
    except ValueError as exc:
        raise ValidationError(
            f"unknown claim kind {claim_kind!r}; the sortiment has "
            + ", ".join(k.value for k in ClaimKind),
            code="unknown-claim-kind",
        ) from exc
    for label, value in (
        ("debtor classification", debtor_classification),
        ("PSRM claim type", psrm_claim_type),
    ):
        if not value.strip() or len(value) > 40:
            raise ValidationError(f"{label} must be 1 to 40 characters", code="invalid-mapping")
    where = (sortiment.c.municipality == kommunekode) & (sortiment.c.claim_kind == kind.value)
    values = {
        "debtor_classification": debtor_classification.strip(),
        "psrm_claim_type": psrm_claim_type.strip(),
        "updated_at": clock.now(),
    }
    if conn.execute(select(sortiment.c.claim_kind).where(where)).first():
        conn.execute(update(sortiment).where(where).values(**values))
    else:
        conn.execute(
            insert(sortiment).values(municipality=kommunekode, claim_kind=kind.value, **values)
        )
    send(
        conn,
        SortimentMapped(
            municipality=kommunekode,
            occurred_at=clock.now(),
            claim_kind=kind.value,
            debtor_classification=values["debtor_classification"],  # type: ignore[arg-type]
            psrm_claim_type=values["psrm_claim_type"],  # type: ignore[arg-type]
        ),
        source=SOURCE,
    )
    return {
        "claim_kind": kind.value,
        "debtor_classification": str(values["debtor_classification"]),
        "psrm_claim_type": str(values["psrm_claim_type"]),
    }


def list_sortiment(conn: Connection, kommunekode: str) -> list[dict[str, str | None]]:
    """Every claim kind of the sortiment with its mapping (None where unmapped)."""
    mapped = {
        r.claim_kind: r
        for r in conn.execute(select(sortiment).where(sortiment.c.municipality == kommunekode))
    }
    out: list[dict[str, str | None]] = []
    for kind in ClaimKind:
        row = mapped.get(kind.value)
        out.append(
            {
                "claim_kind": kind.value,
                "description": kind.danish,
                "legal_basis": kind.legal_basis.value,
                "debtor_classification": row.debtor_classification if row else None,
                "psrm_claim_type": row.psrm_claim_type if row else None,
            }
        )
    return out


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    conn: Connection, clock: Clock, kommunekode: str, role: Role, label: str, key: str | None = None
) -> str:
    """Make an API key for one municipality and one role; returns the key (shown once)."""
    get_municipality(conn, kommunekode)
    key = key or f"fbsd_{kommunekode}_{secrets.token_urlsafe(24)}"
    conn.execute(
        insert(api_keys).values(
            key_hash=_hash(key),
            municipality=kommunekode,
            role=role.value,
            label=label,
            created_at=clock.now(),
        )
    )
    return key


def authenticate(conn: Connection, key: str) -> tuple[str, Role]:
    """The (municipality, role) of an API key; UnauthenticatedError if unknown."""
    row = conn.execute(
        select(api_keys.c.municipality, api_keys.c.role).where(api_keys.c.key_hash == _hash(key))
    ).first()
    if row is None:
        raise UnauthenticatedError("unknown API key", code="unknown-api-key")
    return row.municipality, Role(row.role)


# -- People logging in: each municipality's staff identity provider and its group -> role map --
# (the OpenID Connect relying party itself lives in fbs_debitor.web.auth)

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
