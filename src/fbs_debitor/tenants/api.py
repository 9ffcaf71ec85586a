"""HTTP for municipal administrators: set-up, cutoff date, sortiment mapping."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from fbs_debitor.core.http import request_system
from fbs_debitor.core.text import SingleLine
from fbs_debitor.tenants.model import Role
from fbs_debitor.tenants.service import audit as tenant_audit
from fbs_debitor.tenants.service import keys as tenant_keys
from fbs_debitor.tenants.service import municipalities as service

admin_router = APIRouter(prefix="/api/v1/{kommunekode}", tags=["set-up"])


class CutoffIn(BaseModel):
    cutoff_date: date | None = Field(description="Go-live date; null: not live yet")


class MappingIn(BaseModel):
    debtor_classification: SingleLine = Field(min_length=1, max_length=40)
    psrm_claim_type: SingleLine = Field(min_length=1, max_length=40)


@admin_router.get("/municipality")
def get_municipality(kommunekode: str, request: Request) -> dict[str, Any]:
    """The municipality's set-up."""
    system = request_system(request)
    with system.db.connect() as conn:
        m = service.get_municipality(conn, kommunekode)
    return {
        "kommunekode": m.kommunekode,
        "name": m.name,
        "agency_id": m.agency_id,
        "creditor_number": m.creditor_number,
        "debtor_vendor": m.debtor_vendor.value,
        "cutoff_date": m.cutoff_date,
    }


@admin_router.put("/cutoff")
def put_cutoff(kommunekode: str, body: CutoffIn, request: Request) -> dict[str, Any]:
    """Set the go-live (cutoff) date."""
    system = request_system(request)
    with system.db.begin() as conn:
        m = service.set_cutoff_date(conn, system.clock, kommunekode, body.cutoff_date)
    return {"kommunekode": m.kommunekode, "cutoff_date": m.cutoff_date}


@admin_router.get("/sortiment")
def get_sortiment(kommunekode: str, request: Request) -> list[dict[str, str | None]]:
    """Every library claim kind and how this municipality maps it (null: unmapped)."""
    system = request_system(request)
    with system.db.connect() as conn:
        return service.list_sortiment(conn, kommunekode)


@admin_router.put("/sortiment/{claim_kind}")
def put_sortiment(
    kommunekode: str, claim_kind: str, body: MappingIn, request: Request
) -> dict[str, str]:
    """Map a claim kind; held claims of that kind go to debtor at once."""
    system = request_system(request)
    with system.db.begin() as conn:
        return service.map_claim_kind(
            conn,
            system.clock,
            kommunekode,
            claim_kind,
            debtor_classification=body.debtor_classification,
            psrm_claim_type=body.psrm_claim_type,
        )


# -- keys and the audit log (municipal admin) -----------------------------------------------------

KeyId = Annotated[str, PathParam(min_length=12, max_length=16, pattern=r"^[0-9a-f]+$")]


class KeyIn(BaseModel):
    role: Role
    label: SingleLine = Field(min_length=1, max_length=100, description="Who or what uses it")
    expires_at: datetime | None = Field(None, description="Default: a year from now")


class RevokeIn(BaseModel):
    reason: SingleLine = Field(min_length=3, max_length=200)


class RotateIn(BaseModel):
    reason: SingleLine = Field(min_length=3, max_length=200)
    grace_hours: int = Field(24, ge=0, le=24 * 30, description="How long the old key still works")


def _actor(request: Request) -> str:
    who = getattr(request.state, "principal", None)
    return str(getattr(who, "actor", "unknown"))


@admin_router.get("/keys")
def list_keys(kommunekode: str, request: Request) -> dict[str, Any]:
    """The municipality's API keys (never their secrets): role, label, state, expiry, last use."""
    system = request_system(request)
    with system.db.connect() as conn:
        keys = tenant_keys.list_api_keys(conn, kommunekode)
    now = system.clock.now()
    return {"keys": [k.as_dict(now) for k in keys]}


@admin_router.post("/keys", status_code=201)
def create_key(kommunekode: str, body: KeyIn, request: Request) -> dict[str, Any]:
    """A new key; the secret is in this answer only."""
    system = request_system(request)
    with system.db.begin() as conn:
        key = tenant_keys.create_api_key(
            conn,
            system.clock,
            kommunekode,
            body.role,
            body.label,
            expires_at=body.expires_at,
            created_by=_actor(request),
        )
        record = tenant_keys.get_api_key(conn, kommunekode, tenant_keys.key_id_of(key))
    return {"key": key, **record.as_dict(system.clock.now())}


@admin_router.post("/keys/{key_id}/revoke")
def revoke_key(kommunekode: str, key_id: KeyId, body: RevokeIn, request: Request) -> dict[str, Any]:
    """Revoke a key at once."""
    system = request_system(request)
    with system.db.begin() as conn:
        record = tenant_keys.revoke_api_key(
            conn, system.clock, kommunekode, key_id, by=_actor(request), reason=body.reason
        )
    return record.as_dict(system.clock.now())


@admin_router.post("/keys/{key_id}/rotate")
def rotate_key(kommunekode: str, key_id: KeyId, body: RotateIn, request: Request) -> dict[str, Any]:
    """A successor key (its secret in this answer only); the old one ends after the grace."""
    system = request_system(request)
    with system.db.begin() as conn:
        key, record = tenant_keys.rotate_api_key(
            conn,
            system.clock,
            kommunekode,
            key_id,
            by=_actor(request),
            grace=timedelta(hours=body.grace_hours),
        )
    return {"key": key, "replaces": key_id, **record.as_dict(system.clock.now())}


@admin_router.get("/audit")
def get_audit(
    kommunekode: str,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> dict[str, Any]:
    """The audit log, newest first; ``next`` pages back."""
    with request_system(request).db.connect() as conn:
        entries = tenant_audit.list_audit(conn, kommunekode, limit=limit, before=before)
    return {"entries": entries, "next": entries[-1]["id"] if len(entries) == limit else None}
