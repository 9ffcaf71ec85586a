"""HTTP for municipal administrators: set-up, cutoff date, sortiment mapping."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from fbs_debitor.core.http import request_system
from fbs_debitor.core.text import SingleLine
from fbs_debitor.tenants import service

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
