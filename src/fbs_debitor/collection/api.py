"""HTTP of state collection (``/api/v1/{kommunekode}/collection``), for debtor clerks.

``GET /collection`` (claims by state, settled, the list for a person), ``GET
/collection/claims?state=`` (the claims handed over), ``GET /collection/runs`` (the hand-over
runs), ``GET /collection/eligibility?date=`` (a dry run: what a run on the date would do, with a
count per reason), ``POST /collection/claims/{claim_id}/resubmit`` (a person fixed a claim PSRM
returned: the next run submits it again; audited with the reason).

Mounted in ``web.app.MOUNTS`` for the role ``debtor-staff``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import pydantic
from fastapi import APIRouter, Path, Query, Request

from fbs_debitor.collection.model.actions import State
from fbs_debitor.collection.service import overview
from fbs_debitor.collection.service.handover import evaluate_claims, release
from fbs_debitor.collection.service.wiring import wiring_of
from fbs_debitor.core.http import request_system

router = APIRouter(prefix="/api/v1/{kommunekode}/collection", tags=["collection"])

ClaimId = Annotated[str, Path(min_length=1, max_length=40)]


@router.get("")
def get_status(kommunekode: str, request: Request) -> dict[str, Any]:
    """Claims handed over by state, PSRM's settled total (øre) and the claims waiting for a
    person (returned by PSRM with its reason; unacknowledged replacement charges)."""
    with request_system(request).db.connect() as conn:
        return overview.status(conn, kommunekode)


@router.get("/claims")
def get_claims(
    kommunekode: str,
    request: Request,
    state: State | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> dict[str, Any]:
    """The claims handed over (of one ``state``, or all), the latest first."""
    with request_system(request).db.connect() as conn:
        return {
            "claims": overview.claim_list(
                conn, kommunekode, state=state, limit=limit, offset=offset
            )
        }


@router.get("/runs")
def get_runs(
    kommunekode: str, request: Request, limit: Annotated[int, Query(ge=1, le=366)] = 20
) -> dict[str, Any]:
    """The latest hand-over runs: date, evaluated, eligible, handed over, a count per reason."""
    with request_system(request).db.connect() as conn:
        return {"runs": overview.run_list(conn, kommunekode, limit=limit)}


@router.get("/eligibility")
def get_eligibility(
    kommunekode: str,
    request: Request,
    day: Annotated[date | None, Query(alias="date")] = None,
) -> dict[str, Any]:
    """What a hand-over run on ``date`` (default today) would do, without doing it."""
    system = request_system(request)
    wiring = wiring_of(request)
    on = day or system.clock.today()
    with system.db.connect() as conn:
        ev = evaluate_claims(conn, kommunekode, on, wiring.facts)
    return {
        "date": on.isoformat(),
        "evaluated": ev.evaluated,
        "eligible": len(ev.eligible),
        "eligible_claims": [f.claim_id for f in ev.eligible[:1000]],
        "not_eligible": dict(sorted(ev.not_eligible.items())),
    }


class ResubmitRequest(pydantic.BaseModel):
    """What the person fixed (kept on the claim and in the audit log)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    reason: str = pydantic.Field(min_length=1, max_length=500)


@router.post(
    "/claims/{claim_id}/resubmit",
    responses={
        404: {"description": "Collection never held the claim"},
        409: {"description": "The claim is not returned by PSRM"},
    },
)
def post_resubmit(
    kommunekode: str, claim_id: ClaimId, body: ResubmitRequest, request: Request
) -> dict[str, Any]:
    """Release a claim PSRM returned for the next hand-over run (it goes again if it is still
    eligible then)."""
    system = request_system(request)
    with system.db.begin() as conn:
        release(conn, system.clock, kommunekode, claim_id, reason=body.reason.strip())
    return {"claim_id": claim_id, "state": State.RELEASED.value}
