"""API keys: one municipality and one role each; made, listed, revoked, rotated and checked
(expiry, revocation, demo keys only in a demo municipality), last use recorded."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update

from fbs_debitor.core.clock import Clock
from fbs_debitor.core.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnauthenticatedError,
    ValidationError,
)
from fbs_debitor.tenants.model import (
    Role,
)
from fbs_debitor.tenants.service.municipalities import get_municipality
from fbs_debitor.tenants.store.tables import (
    api_keys,
    municipalities,
)

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
    if demo and not is_demo(conn, kommunekode):
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


def mark_demo(conn: Connection, kommunekode: str) -> None:
    """Mark a municipality as made for a demo (only ``seed_demo`` does this, on creation)."""
    conn.execute(
        update(municipalities).where(municipalities.c.kommunekode == kommunekode).values(demo=True)
    )


def is_demo(conn: Connection, kommunekode: str) -> bool:
    """Whether the municipality was made by the demo (and may hold demo keys)."""
    row = conn.execute(
        select(municipalities.c.demo).where(municipalities.c.kommunekode == kommunekode)
    ).first()
    return bool(row and row.demo)


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
    if not needs_touch(clock, api_key):
        return
    conn.execute(
        update(api_keys).where(api_keys.c.key_id == api_key.key_id).values(last_used_at=clock.now())
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
