"""HTTP of debtor's unmatched payments (``/api/v1/{kommunekode}/payments/unmatched``).

``GET /payments/unmatched``: the payments no claim was found for, waiting for a person (payer
text and reasons with CPR numbers masked). ``POST /payments/unmatched/{payment_ref}/assign``:
a person applies one of them to a debtor, an invoice's payment ID or chosen claims
(:func:`fbs_debitor.debtor.service.unmatched.assign`); the same assignment again answers the first
result. The reference contains a colon (``bank:<key>``) and may contain a slash, so the route
takes the rest of the path up to ``/assign``.

Mounted in ``web.app.MOUNTS`` for the role ``debtor-staff`` (assigning moves money; it is
audited with who and the note).
"""

from __future__ import annotations

from typing import Annotated, Any

import pydantic
from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.exc import IntegrityError

from fbs_debitor.core.errors import ConflictError
from fbs_debitor.core.http import request_system
from fbs_debitor.debtor.service.unmatched import assign, list_unmatched

router = APIRouter(prefix="/api/v1/{kommunekode}", tags=["debtor"])


@router.get("/payments/unmatched")
def get_unmatched(
    kommunekode: str,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> dict[str, Any]:
    """The payments no claim was found for (no usable reference, or a payment ID of no
    invoice), oldest first: reference, channel, booking date, amount, payment ID, payer text and
    reason (CPR numbers masked), and ``debtor`` (masked) when the account was known."""
    with request_system(request).db.connect() as conn:
        return {"payments": list_unmatched(conn, kommunekode, limit=limit, offset=offset)}


class AssignRequest(pydantic.BaseModel):
    """Exactly one of ``debtor``, ``payment_id``, ``claim_ids``; why (``note``) and who
    (``by``, default: the API key's role)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    debtor: str | None = pydantic.Field(
        default=None, max_length=20, description="CPR (10 digits) or CVR (8 digits)"
    )
    payment_id: str | None = pydantic.Field(
        default=None, max_length=16, description="the FIK payment ID of an invoice"
    )
    claim_ids: list[Annotated[str, pydantic.Field(min_length=1, max_length=40)]] = pydantic.Field(
        default_factory=list, max_length=100, description="one debtor's claims"
    )
    note: str = pydantic.Field(min_length=1, max_length=500)
    by: str | None = pydantic.Field(default=None, min_length=1, max_length=100)


@router.post(
    "/payments/unmatched/{payment_ref:path}/assign",
    responses={
        404: {"description": "Unknown payment, debtor without account, payment ID or claim"},
        409: {"description": "Reversed, assigned to something else, or not unmatched"},
    },
)
def post_assign(
    kommunekode: str,
    payment_ref: Annotated[str, Path(min_length=1, max_length=120)],
    body: AssignRequest,
    request: Request,
) -> dict[str, Any]:
    """Apply an unmatched payment to a debtor's open claims, an invoice (its payment ID) or
    chosen claims; what is left over is credit on the debtor account. Answers the outcome
    (``matched`` / ``partly_matched``), ``covered_ore``, ``credit_ore``, the claims paid and
    the new payment's reference ``assigned_ref``; the same assignment again answers the first
    result (``created`` false)."""
    actor = str(getattr(getattr(request.state, "principal", None), "actor", "api"))
    system = request_system(request)
    try:
        with system.db.begin() as conn:
            done = assign(
                conn,
                system.clock,
                kommunekode,
                payment_ref,
                debtor=body.debtor,
                payment_id=body.payment_id,
                claim_ids=body.claim_ids,
                by=body.by or actor,
                note=body.note,
            )
    except IntegrityError:
        # a concurrent assignment of the same payment was applied first
        raise ConflictError(
            "a concurrent assignment of the same payment was applied first; send it again",
            code="concurrent-request",
        ) from None
    return done.as_dict()
