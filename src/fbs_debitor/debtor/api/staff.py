"""HTTP of the debtor system for its staff.

``router`` (``/api/v1/{kommunekode}``): a debtor's account and one claim (CPR masked),
the ledger guard, the held claims (``GET /held-claims``: a minor's claims waiting for a guardian); the debtor rules (``GET/PUT /debtor-rules``), the letters (list and PDF), a
payment agreement and the deceased flag of a debtor, write-off by hand, and the refund of a
debtor's credit (``POST /debtors/{debtor_ref}/refunds``). A debtor is found by number with
``POST /debtors/lookup`` (the number in the body, never in a URL) and named by its opaque
``debtor_ref`` after that; ``POST /debtors/{debtor_ref}/cpr`` reads the full number for a reason
(audited).

Authentication and roles are applied where the routers are mounted (``web.app.MOUNTS``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import pydantic
from fastapi import APIRouter, Body, Path, Query, Request, Response
from sqlalchemy.exc import IntegrityError

from fbs_debitor.core.errors import ConflictError, ValidationError
from fbs_debitor.core.http import request_system
from fbs_debitor.core.money import MAX_AMOUNT_ORE, Money
from fbs_debitor.core.text import MultiLine, SingleLine
from fbs_debitor.debtor import guard, views
from fbs_debitor.debtor.adapters.address.configured import configured_lookup
from fbs_debitor.debtor.model.allocation import Component
from fbs_debitor.debtor.service.agreements import account_for, mark_deceased, set_payment_agreement
from fbs_debitor.debtor.service.credit import available_credit, refund
from fbs_debitor.debtor.service.holds import list_held_claims
from fbs_debitor.debtor.service.letters import letter_pdf
from fbs_debitor.debtor.service.rules import get_rules, put_rules, rules_document
from fbs_debitor.debtor.service.writeoff import write_off_by_hand
from fbs_debitor.debtor.views import list_letters

router = APIRouter(prefix="/api/v1/{kommunekode}", tags=["debtor"])


DebtorRef = Annotated[
    str,
    Path(
        pattern=r"^D[0-9]{1,18}$",
        description="The debtor's opaque reference (``debtor_ref``), never a CPR number",
    ),
]


class LookupRequest(pydantic.BaseModel):
    """A debtor looked up by number: in the body, never in a URL (a CPR is personal data)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    debtor: SingleLine = pydantic.Field(
        min_length=8, max_length=20, description="CPR (10 digits, any accepted form) or CVR (8)"
    )


class RevealRequest(pydantic.BaseModel):
    """Why the full CPR number is needed (recorded in the audit log with who asked)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    reason: SingleLine = pydantic.Field(min_length=3, max_length=500)


@router.post("/debtors/lookup")
def lookup_debtor(kommunekode: str, body: LookupRequest, request: Request) -> dict[str, Any]:
    """A debtor's account found by CPR or CVR number (sent in the body): claims, balances,
    postings, events, invoices (payment ID, code line, due date, SRB, amount due), reminders,
    letters, payment agreement, and ``debtor_ref``, the reference later calls use. The CPR is
    masked."""
    system = request_system(request)
    with system.db.connect() as conn:
        return views.account_view(conn, kommunekode, body.debtor, system.clock.today())


@router.get("/debtors/{debtor_ref}")
def get_debtor(kommunekode: str, debtor_ref: DebtorRef, request: Request) -> dict[str, Any]:
    """A debtor's account by its reference (see ``POST /debtors/lookup``). The CPR is masked."""
    system = request_system(request)
    with system.db.connect() as conn:
        number = views.number_of_ref(conn, kommunekode, debtor_ref)
        return views.account_view(conn, kommunekode, number, system.clock.today())


@router.post("/debtors/{debtor_ref}/cpr")
def reveal_cpr(
    kommunekode: str, debtor_ref: DebtorRef, body: RevealRequest, request: Request
) -> dict[str, Any]:
    """The full CPR (or CVR) number of a debtor, for a reason; every such read is in the audit
    log (who, when, which debtor, why). ``Cache-Control: no-store``."""
    with request_system(request).db.connect() as conn:
        number = views.number_of_ref(conn, kommunekode, debtor_ref)
    return {"debtor_ref": debtor_ref, "number": number, "reason": body.reason}


ClaimId = Annotated[str, Path(min_length=1, max_length=100, description="The library's id")]
"""A claim id in a path: the library's fee id (at most 100 characters, as debtor stores it)."""


@router.get("/claims/{claim_id}")
def get_claim(kommunekode: str, claim_id: ClaimId, request: Request) -> dict[str, Any]:
    """One claim (the library's id): debtor (masked), postings, balance, leg-1 delay."""
    with request_system(request).db.connect() as conn:
        return views.get_claim(conn, kommunekode, claim_id)


@router.get("/ledger-check")
def get_ledger_check(
    kommunekode: str, request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 1000
) -> dict[str, Any]:
    """The ledger guard for this municipality: the claims that disagree with their postings (the
    first ``limit`` of them; ``problem_count`` counts them all)."""
    with request_system(request).db.connect() as conn:
        problems = guard.check_ledger(conn, kommunekode)
    return {"ok": not problems, "problem_count": len(problems), "problems": problems[:limit]}


# -- invoicing and dunning (leg 2) ------------------------------------------------------------------

_MAX_ID = 2**63 - 1
"""The largest BIGINT: ids and amounts beyond it are refused (422) before they reach the database."""


@router.get("/held-claims")
def get_held_claims(
    kommunekode: str,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=_MAX_ID)] = 0,
) -> dict[str, Any]:
    """Claims debtor holds and does not invoice, oldest first, with the reason ("guardian
    required": the debtor is under 18); the debtor masked."""
    with request_system(request).db.connect() as conn:
        return {"claims": list_held_claims(conn, kommunekode, limit=limit, offset=offset)}


@router.get("/debtor-rules")
def get_debtor_rules(kommunekode: str, request: Request) -> dict[str, Any]:
    """The municipality's debtor rules (the defaults if none were set)."""
    with request_system(request).db.connect() as conn:
        return rules_document(get_rules(conn, kommunekode))


@router.put("/debtor-rules")
def put_debtor_rules(
    kommunekode: str,
    request: Request,
    body: dict[str, Any] = Body(  # noqa: B008 - FastAPI's way to declare a body
        ...,
        description="The whole DebtorRules document (fields left out take their defaults) and "
        "``reason``: why the rules change (audited)",
    ),
) -> dict[str, Any]:
    """Replace the municipality's debtor rules. Settings beyond the legal limits (gebyrloven § 2,
    renteloven § 9 b) are refused with 422 and the limit in words; a change without a reason
    is refused."""
    document = dict(body)
    reason = document.pop("reason", None)
    if not isinstance(reason, str) or len(reason.strip()) < 3 or len(reason) > 500:
        raise ValidationError(
            "say why the rules change: a reason of 3 to 500 characters", code="reason-required"
        )
    system = request_system(request)
    with system.db.begin() as conn:
        return rules_document(put_rules(conn, system.clock, kommunekode, document))


@router.get("/letters")
def get_letters(
    kommunekode: str,
    request: Request,
    status: Annotated[str | None, Query(pattern="^(pending|delivered)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=_MAX_ID)] = 0,
) -> dict[str, Any]:
    """The letters (invoices and reminders) of the municipality, newest first; debtor masked."""
    with request_system(request).db.connect() as conn:
        found = list_letters(conn, kommunekode, status=status, limit=limit, offset=offset)
    return {"letters": found}


@router.get(
    "/letters/{letter_id}.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The letter as PDF"}},
)
def get_letter_pdf(
    kommunekode: str, letter_id: Annotated[int, Path(ge=1, le=_MAX_ID)], request: Request
) -> Response:
    """One letter rendered as PDF now, with its FIK payment slip, addressed as the register has
    the debtor now (without an address, the window says why)."""
    system = request_system(request)
    lookup = configured_lookup(system.settings, system.clock)
    with system.db.connect() as conn:
        pdf = letter_pdf(conn, kommunekode, letter_id, lookup)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{kommunekode}-{letter_id}.pdf"'},
    )


class PaymentAgreementRequest(pydantic.BaseModel):
    """A payment agreement: no reminders for the account until (and including) ``until``."""

    model_config = pydantic.ConfigDict(extra="forbid")

    until: date
    note: MultiLine = pydantic.Field(default="", max_length=2000)


@router.post("/debtors/{debtor_ref}/payment-agreement")
def post_payment_agreement(
    kommunekode: str, debtor_ref: DebtorRef, body: PaymentAgreementRequest, request: Request
) -> dict[str, Any]:
    """Record a payment agreement for the debtor (the newest replaces any earlier one)."""
    system = request_system(request)
    with system.db.begin() as conn:
        debtor_id = views.number_of_ref(conn, kommunekode, debtor_ref)
        return set_payment_agreement(
            conn, system.clock, kommunekode, debtor_id, until=body.until, note=body.note
        )


class DeceasedRequest(pydantic.BaseModel):
    """The date of death (default: today)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    on: date | None = None
    reason: SingleLine = pydantic.Field(
        min_length=3, max_length=500, description="How the death is known (e.g. CPR register)"
    )


@router.post("/debtors/{debtor_ref}/deceased")
def post_deceased(
    kommunekode: str, debtor_ref: DebtorRef, request: Request, body: DeceasedRequest
) -> dict[str, Any]:
    """Flag the debtor as deceased: the next dunning run writes the account's claims off."""
    system = request_system(request)
    with system.db.begin() as conn:
        debtor_id = views.number_of_ref(conn, kommunekode, debtor_ref)
        return mark_deceased(conn, system.clock, kommunekode, debtor_id, on=body.on)


class WriteOffRequest(pydantic.BaseModel):
    """A write-off by hand: the amount (default: all that is left of the claim, or of the
    component), why and who, and optionally only one component: ``fees`` waives reminder fees
    and interest alone (the library's amount stays), ``principal`` only the library's amount."""

    model_config = pydantic.ConfigDict(extra="forbid")

    amount_ore: int | None = pydantic.Field(default=None, gt=0, le=MAX_AMOUNT_ORE)
    reason: MultiLine = pydantic.Field(min_length=1, max_length=500)
    by: SingleLine = pydantic.Field(min_length=1, max_length=100)
    component: Component | None = None


@router.post("/claims/{claim_id}/write-off")
def post_write_off(
    kommunekode: str, claim_id: ClaimId, body: WriteOffRequest, request: Request
) -> dict[str, Any]:
    """Write (part of) a claim off by hand; ClaimWrittenOff (and ClaimClosed at zero) go to the
    library through the outbox."""
    system = request_system(request)
    with system.db.begin() as conn:
        return write_off_by_hand(
            conn,
            system.clock,
            kommunekode,
            claim_id,
            amount=None if body.amount_ore is None else Money(ore=body.amount_ore),
            reason=body.reason,
            by=body.by,
            component=body.component,
        )


# -- credit ---------------------------------------------------------------------------------------


class RefundRequest(pydantic.BaseModel):
    """A refund of the debtor's credit: the amount (default: all of it), the caller's reference
    (idempotency key: the same reference again returns the first refund) and who asks."""

    model_config = pydantic.ConfigDict(extra="forbid")

    amount_ore: int | None = pydantic.Field(default=None, gt=0, le=MAX_AMOUNT_ORE)
    reference: SingleLine = pydantic.Field(min_length=1, max_length=120)
    reason: SingleLine = pydantic.Field(min_length=3, max_length=500)
    by: SingleLine | None = pydantic.Field(default=None, min_length=1, max_length=100)


@router.post(
    "/debtors/{debtor_ref}/refunds",
    status_code=201,
    responses={
        200: {"description": "The reference was used before: the first refund, unchanged"},
        409: {"description": "No credit, the amount exceeds it, or the reference is taken"},
    },
)
def post_refund(
    kommunekode: str,
    debtor_ref: DebtorRef,
    body: RefundRequest,
    request: Request,
    response: Response,
) -> dict[str, Any]:
    """Refund (part of) the debtor account's credit (overpayments not used for claims); the
    payout to the citizen's NemKonto is the municipality's own. 201 with the refund; 200 with the
    first refund if the reference was used before."""
    actor = str(getattr(getattr(request.state, "principal", None), "actor", "api"))
    system = request_system(request)
    try:
        with system.db.begin() as conn:
            account_id = account_for(
                conn, kommunekode, views.number_of_ref(conn, kommunekode, debtor_ref)
            )
            made, created = refund(
                conn,
                system.clock,
                kommunekode,
                account_id,
                None if body.amount_ore is None else Money(ore=body.amount_ore),
                body.reference,
                body.by or actor,
            )
            left = available_credit(conn, kommunekode, account_id)
    except IntegrityError:
        # a concurrent request with the same reference for another account won the race
        raise ConflictError(
            "a concurrent refund with the same reference was made first; send it again",
            code="concurrent-request",
        ) from None
    if not created:
        response.status_code = 200
    return {"refund": made, "created": created, "credit_ore": left}
