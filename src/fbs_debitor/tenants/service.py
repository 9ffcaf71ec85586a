"""Use cases of the tenants context: one transaction each."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update

from fbs_debitor.contracts.registration import ClaimKind
from fbs_debitor.contracts.sending import send
from fbs_debitor.contracts.tenants import MunicipalityConfigured, SortimentMapped
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnauthenticatedError,
    ValidationError,
)
from fbs_debitor.core.fik import validate_creditor_number
from fbs_debitor.core.ids import mask_cprs_in_text
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
    audit_log,
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


# -- API keys -----------------------------------------------------------------------------------

KEY_LIFETIME = timedelta(days=365)
"""A new key's default lifetime; a key used by a system is rotated before it runs out."""
LAST_USED_GRANULARITY = timedelta(minutes=1)
"""``last_used_at`` is written at most this often per key, so reads do not become writes."""
ROTATION_GRACE = timedelta(hours=24)
"""How long a rotated key keeps working beside its successor, so its users can switch."""


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_of(key: str) -> str:
    """The public handle of a key's secret."""
    return _hash(key)[:12]


def demo_key_text(kommunekode: str, role: Role) -> str:
    """The well-known key of a demo municipality's role (valid only in a demo municipality)."""
    return f"demo-{kommunekode}-{role.value}"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """What an API key is, without its secret: ``key_id`` names it in lists and commands."""

    key_id: str
    municipality: str
    role: Role
    label: str
    created_at: datetime
    created_by: str | None
    expires_at: datetime | None
    revoked_at: datetime | None
    revoked_reason: str | None
    last_used_at: datetime | None
    demo: bool

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def as_dict(self, now: datetime) -> dict[str, object]:
        return {
            "key_id": self.key_id,
            "role": self.role.value,
            "label": self.label,
            "state": self.state(now),
            "created_at": self.created_at,
            "created_by": self.created_by,
            "expires_at": self.expires_at,
            "revoked_at": self.revoked_at,
            "revoked_reason": self.revoked_reason,
            "last_used_at": self.last_used_at,
            "demo": self.demo,
        }


def _key_of(row: object) -> ApiKey:
    r = row._mapping  # type: ignore[attr-defined]
    return ApiKey(
        key_id=r["key_id"],
        municipality=r["municipality"],
        role=Role(r["role"]),
        label=r["label"],
        created_at=r["created_at"],
        created_by=r["created_by"],
        expires_at=r["expires_at"],
        revoked_at=r["revoked_at"],
        revoked_reason=r["revoked_reason"],
        last_used_at=r["last_used_at"],
        demo=bool(r["demo"]),
    )


def create_api_key(
    conn: Connection,
    clock: Clock,
    kommunekode: str,
    role: Role,
    label: str,
    key: str | None = None,
    *,
    expires_at: datetime | None = None,
    created_by: str | None = None,
) -> str:
    """Make an API key for one municipality and one role; returns the key (shown once).

    ``expires_at`` defaults to a year from now. ``key`` (a chosen secret) is for tests and the
    well-known demo keys: a demo key can only be made for a demo municipality."""
    municipality = get_municipality(conn, kommunekode)
    demo = key is not None and key == demo_key_text(kommunekode, role)
    if demo and not _is_demo(conn, kommunekode):
        raise ForbiddenError(
            f"demo keys exist only in a demo municipality; {municipality.kommunekode} is real",
            code="not-a-demo",
        )
    if not label.strip() or len(label) > 100:
        raise ValidationError("a key's label must be 1 to 100 characters", code="invalid-label")
    key = key or f"fbsd_{kommunekode}_{secrets.token_urlsafe(24)}"
    digest = _hash(key)
    now = clock.now()
    if expires_at is None and not demo:
        expires_at = now + KEY_LIFETIME
    if expires_at is not None and expires_at <= now:
        raise ValidationError("a key's expiry must lie in the future", code="invalid-expiry")
    conn.execute(
        insert(api_keys).values(
            key_hash=digest,
            key_id=key_id_of(key),
            municipality=kommunekode,
            role=role.value,
            label=label.strip(),
            created_at=now,
            created_by=created_by,
            expires_at=expires_at,
            demo=demo,
        )
    )
    return key


def _is_demo(conn: Connection, kommunekode: str) -> bool:
    row = conn.execute(
        select(municipalities.c.demo).where(municipalities.c.kommunekode == kommunekode)
    ).first()
    return bool(row and row.demo)


def mark_demo(conn: Connection, kommunekode: str) -> None:
    """Mark a municipality as made for a demo (only ``seed_demo`` does this, on creation)."""
    conn.execute(
        update(municipalities).where(municipalities.c.kommunekode == kommunekode).values(demo=True)
    )


def is_demo(conn: Connection, kommunekode: str) -> bool:
    """Whether the municipality was made by the demo (and may hold demo keys)."""
    return _is_demo(conn, kommunekode)


def authenticate(conn: Connection, clock: Clock, key: str, *, production: bool = False) -> ApiKey:
    """The key behind a bearer token; UnauthenticatedError if unknown, revoked or expired, or a
    demo key outside a demo municipality (or in production)."""
    if len(key) > 200:
        raise UnauthenticatedError("unknown API key", code="unknown-api-key")
    row = conn.execute(
        select(api_keys, municipalities.c.demo.label("municipality_demo"))
        .join(municipalities, municipalities.c.kommunekode == api_keys.c.municipality)
        .where(api_keys.c.key_hash == _hash(key))
    ).first()
    if row is None:
        raise UnauthenticatedError("unknown API key", code="unknown-api-key")
    api_key = _key_of(row)
    if api_key.demo and (production or not row.municipality_demo):
        raise UnauthenticatedError(
            "demo keys are valid only in a demo database, never in production",
            code="demo-key-refused",
        )
    match api_key.state(clock.now()):
        case "revoked":
            raise UnauthenticatedError("this API key was revoked", code="revoked-api-key")
        case "expired":
            raise UnauthenticatedError("this API key has expired", code="expired-api-key")
    return api_key


def touch_api_key(conn: Connection, clock: Clock, api_key: ApiKey) -> None:
    """Record that a key was used now (at most once per ``LAST_USED_GRANULARITY``)."""
    now = clock.now()
    if api_key.last_used_at is not None and now - api_key.last_used_at < LAST_USED_GRANULARITY:
        return
    conn.execute(
        update(api_keys).where(api_keys.c.key_id == api_key.key_id).values(last_used_at=now)
    )


def needs_touch(clock: Clock, api_key: ApiKey) -> bool:
    return (
        api_key.last_used_at is None or clock.now() - api_key.last_used_at >= LAST_USED_GRANULARITY
    )


def list_api_keys(
    conn: Connection, kommunekode: str, *, include_inactive: bool = True
) -> list[ApiKey]:
    get_municipality(conn, kommunekode)
    keys = [
        _key_of(r)
        for r in conn.execute(
            select(api_keys)
            .where(api_keys.c.municipality == kommunekode)
            .order_by(api_keys.c.created_at, api_keys.c.key_id)
        )
    ]
    return keys if include_inactive else [k for k in keys if k.revoked_at is None]


def get_api_key(conn: Connection, kommunekode: str, key_id: str) -> ApiKey:
    row = conn.execute(
        select(api_keys).where(
            (api_keys.c.municipality == kommunekode) & (api_keys.c.key_id == key_id)
        )
    ).first()
    if row is None:
        raise NotFoundError(f"no API key {key_id} in municipality {kommunekode}", code="no-key")
    return _key_of(row)


def revoke_api_key(
    conn: Connection, clock: Clock, kommunekode: str, key_id: str, *, by: str, reason: str
) -> ApiKey:
    """Revoke a key at once (it answers 401 from now on); revoking twice changes nothing."""
    api_key = get_api_key(conn, kommunekode, key_id)
    if not reason.strip():
        raise ValidationError("say why the key is revoked", code="reason-required")
    if api_key.revoked_at is None:
        conn.execute(
            update(api_keys)
            .where(api_keys.c.key_id == key_id)
            .values(revoked_at=clock.now(), revoked_by=by[:120], revoked_reason=reason[:200])
        )
    return get_api_key(conn, kommunekode, key_id)


def rotate_api_key(
    conn: Connection,
    clock: Clock,
    kommunekode: str,
    key_id: str,
    *,
    by: str,
    grace: timedelta = ROTATION_GRACE,
) -> tuple[str, ApiKey]:
    """A new key with the old one's role and label; the old one expires after ``grace`` (so
    its users can switch). Returns the new key (shown once) and the new key's record."""
    old = get_api_key(conn, kommunekode, key_id)
    now = clock.now()
    if old.state(now) != "active":
        raise ConflictError(f"key {key_id} is {old.state(now)}; make a new one", code="inactive")
    if old.demo:
        raise ConflictError("demo keys are well known and are not rotated", code="demo-key")
    new = create_api_key(conn, clock, kommunekode, old.role, old.label, created_by=by)
    ends = now + grace
    if old.expires_at is None or old.expires_at > ends:
        conn.execute(update(api_keys).where(api_keys.c.key_id == key_id).values(expires_at=ends))
    return new, get_api_key(conn, kommunekode, key_id_of(new))


# -- audit log ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log: who (``actor``, ``role``) did what (``action`` on ``target``)
    when (``at``), why (``reason``, as given) and how it ended (``outcome``, the HTTP status)."""

    municipality: str
    actor: str
    role: str
    action: str
    target: str | None
    reason: str | None
    outcome: int


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _clean(text: str | None, length: int) -> str | None:
    """Masked, without control characters (a NUL cannot be stored), cut to ``length``."""
    if text is None:
        return None
    return mask_cprs_in_text(_CONTROL.sub("?", text))[:length] or None


def record_audit(conn: Connection, clock: Clock, entry: AuditEntry) -> None:
    """Append one entry (the table refuses UPDATE and DELETE). CPR numbers are masked, control
    characters replaced."""
    conn.execute(
        insert(audit_log).values(
            municipality=entry.municipality,
            at=clock.now(),
            actor=_clean(entry.actor, 120) or "unknown",
            role=entry.role[:20],
            action=_clean(entry.action, 200) or "unknown",
            target=_clean(entry.target, 300),
            reason=_clean(entry.reason, 500),
            outcome=entry.outcome,
        )
    )


def list_audit(
    conn: Connection, kommunekode: str, *, limit: int = 100, before: int | None = None
) -> list[dict[str, object]]:
    """The municipality's audit log, newest first; ``before`` (an entry id) pages back."""
    get_municipality(conn, kommunekode)
    where = audit_log.c.municipality == kommunekode
    if before is not None:
        where &= audit_log.c.id < before
    rows = conn.execute(
        select(audit_log).where(where).order_by(audit_log.c.id.desc()).limit(limit)
    ).all()
    return [
        {
            "id": r.id,
            "at": r.at,
            "actor": r.actor,
            "role": r.role,
            "action": r.action,
            "target": r.target,
            "reason": r.reason,
            "outcome": r.outcome,
        }
        for r in rows
    ]


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
