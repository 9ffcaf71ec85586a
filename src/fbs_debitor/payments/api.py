"""HTTP for the payment channels (thin: the work is in ``bank``, ``register`` and ``service``).

* ``register_router`` (role ``cash-register``): the till looks up payable invoices and pays them,
  by card (exact) or in cash (rounded to 50 øre; decision 0014), and reads its day's payments;
* ``bank_router`` (roles ``debtor-staff``, ``integration``): bank files in (uploaded, then
  imported by a background job whose state is polled), bank entries out.

Amounts in requests: ``amount`` as text in kroner ("12,50") or ``amount_ore`` as an integer, at
most one of them. Amounts in responses: ``<name>_ore`` (int) and ``<name>`` (Danish display text).
Authentication and the municipality check happen where the routers are mounted.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from fbs_debitor.core.db import RowId
from fbs_debitor.core.errors import ValidationError
from fbs_debitor.core.http import request_system
from fbs_debitor.core.money import Money
from fbs_debitor.payments.model import Tender, cash_rounded, clean_text
from fbs_debitor.payments.service import bank, invoices, register, uploads

register_router = APIRouter(prefix="/api/v1/{kommunekode}", tags=["cash register"])
bank_router = APIRouter(prefix="/api/v1/{kommunekode}", tags=["bank"])


class PaymentIn(BaseModel):
    """A payment at the till (KOMBIT: ForetagIndbetaling)."""

    model_config = ConfigDict(extra="forbid")

    receipt: str | None = Field(
        None, max_length=100, description="Receipt number; or the Idempotency-Key header"
    )
    debtor: str = Field(max_length=20, description="The payer's CPR or CVR number")
    invoice_ids: list[Annotated[str, Field(max_length=40)]] = Field(
        default_factory=list, max_length=100, description="Invoices chosen"
    )
    payment_ids: list[Annotated[str, Field(max_length=40)]] = Field(
        default_factory=list,
        max_length=100,
        description="Invoices chosen by the FIK payment ID on the slip",
    )
    claim_ids: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list,
        max_length=1000,
        description="Some of the chosen invoices' claims (empty: all)",
    )
    amount: str | None = Field(
        None,
        max_length=64,
        description='Kroner as text: "12,50"; what the payment settles; default: all due',
    )
    amount_ore: StrictInt | None = Field(None, description="Øre as an integer: 1250")
    tender: Tender = Field(
        Tender.CARD,
        description="card (to the øre; the default) or cash (the amount rounded to 50 øre is "
        "taken, the difference is the till's rounding line)",
    )

    def money(self) -> Money | None:
        if self.amount is not None and self.amount_ore is not None:
            raise ValidationError(
                "give the amount as amount (kroner, text) or as amount_ore (integer), not both",
                code="invalid-amount",
            )
        if self.amount is not None:
            return Money.parse(self.amount)
        if self.amount_ore is not None:
            return Money(self.amount_ore)
        return None


def _receipt(body: PaymentIn, header: str | None) -> str:
    if body.receipt and header and body.receipt != header:
        raise ValidationError(
            "the receipt field and the Idempotency-Key header differ", code="invalid-receipt"
        )
    receipt = body.receipt or header
    if not receipt:
        raise ValidationError(
            "a receipt number is required: the receipt field or the Idempotency-Key header",
            code="receipt-required",
        )
    return receipt


# -- cash register -------------------------------------------------------------------------------


class PayableQuery(BaseModel):
    """Who pays: the number in the body, never in a URL (a CPR is personal data)."""

    model_config = ConfigDict(extra="forbid")

    debtor: str = Field(min_length=8, max_length=20, description="CPR or CVR number of the payer")
    payment_id: str | None = Field(
        None, max_length=20, description="FIK payment ID from the slip (required for a CPR)"
    )


@register_router.post("/payable")
def find_payable(kommunekode: str, body: PayableQuery, request: Request) -> dict[str, Any]:
    """The debtor's payable invoices (from the channels' copy), oldest due date first, with the
    sum due to the øre (card) and rounded to 50 øre (cash). A look-up: it changes nothing."""
    system = request_system(request)
    with system.db.connect() as conn:
        payable = invoices.payable_for_debtor(
            conn, system.clock, kommunekode, body.debtor, body.payment_id
        )
    total = Money(sum(i["amount_due_ore"] for i in payable))
    cash = cash_rounded(total)
    return {
        "debtor": invoices.masked_debtor(body.debtor)[0],
        "invoices": payable,
        "total_due_ore": total.ore,
        "total_due": str(total),
        "total_due_cash_ore": cash.ore,
        "total_due_cash": str(cash),
    }


@register_router.post("/payments", status_code=201)
def post_payment(
    kommunekode: str,
    body: PaymentIn,
    request: Request,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    """Pay chosen invoices at the till, by card (exact) or in cash (rounded to 50 øre, the
    difference on the till's rounding line); the same receipt again answers the same payment."""
    system = request_system(request)
    payment = register.RegisterPayment(
        receipt=_receipt(body, idempotency_key),
        debtor=body.debtor,
        invoice_ids=tuple(body.invoice_ids),
        payment_ids=tuple(body.payment_ids),
        claim_ids=tuple(body.claim_ids),
        amount=body.money(),
        tender=body.tender,
    )
    with system.db.begin() as conn:
        answer = register.pay_at_register(conn, system.clock, kommunekode, payment)
    if answer["replayed"]:
        response.headers["Idempotent-Replayed"] = "true"
    return answer


@register_router.get("/register-payments")
def get_register_day(
    kommunekode: str,
    request: Request,
    on: Annotated[date | None, Query(description="The booking day; default today")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    offset: Annotated[int, Query(ge=0, lt=2**63)] = 0,
) -> dict[str, Any]:
    """The till's payments of a day (``limit`` of them from ``offset``; ``payment_count``
    counts them all) with the day's totals settled, taken in cash and rounded (the rounding
    lines, for the municipality's rounding account)."""
    system = request_system(request)
    with system.db.connect() as conn:
        return register.day_report(
            conn, kommunekode, on or system.clock.today(), limit=limit, offset=offset
        )


# -- bank files ----------------------------------------------------------------------------------


@bank_router.post("/bank-files", status_code=202)
async def post_bank_file(
    kommunekode: str,
    request: Request,
    dry_run: Annotated[bool, Query(description="Check and match only; change nothing")] = False,
    filename: Annotated[str | None, Query(max_length=255)] = None,
) -> JSONResponse:
    """Upload a camt.054 / camt.053 file as the raw request body (``application/xml``) to be
    imported by a background job. The body is written to disk as it arrives; a file whose head is
    not a supported camt message (or has a DOCTYPE) is refused at once (422). Answers 202 with the
    job and its address (``Location``), to poll with ``GET /bank-files/{job_id}`` until its state
    is ``done`` (the import summary) or ``failed`` (why the file was refused: nothing imported)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/"):
        raise ValidationError(
            "send the file as the raw request body (Content-Type: application/xml), not as "
            "multipart form data",
            code="raw-body-required",
        )
    system = request_system(request)
    name = clean_text(filename, "filename", 255) if filename else "upload.xml"
    bank.check_kommunekode(kommunekode)
    path = uploads.new_spool_path(system.settings)
    try:
        size = 0
        with path.open("wb") as spool:
            async for block in request.stream():
                size += len(block)
                spool.write(block)
        if size == 0:
            raise ValidationError("the request body is empty: send the bank file", code="empty")
        await run_in_threadpool(uploads.check_head, path)
        job_id = await run_in_threadpool(
            uploads.queue_job,
            system.db,
            system.clock,
            kommunekode,
            path,
            filename=name,
            dry_run=dry_run,
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    view = await run_in_threadpool(uploads.job_view, system.db, kommunekode, job_id)
    location = f"/api/v1/{kommunekode}/bank-files/{job_id}"
    return JSONResponse(
        view,
        status_code=202,
        headers={"Location": location, "Retry-After": "1"},
        background=BackgroundTask(
            uploads.start_job, system.db, system.clock, system.settings, job_id
        ),
    )


@bank_router.get("/bank-files/{job_id}")
def get_bank_file_job(kommunekode: str, job_id: RowId, request: Request) -> dict[str, Any]:
    """An uploaded bank file's import job: ``state`` queued, importing (``payments_read`` so
    far), done (``result``: the import summary) or failed (``error``: ``code`` and ``detail``;
    nothing was imported)."""
    system = request_system(request)
    return uploads.job_view(system.db, kommunekode, job_id)


@bank_router.get("/bank-entries")
def get_bank_entries(
    kommunekode: str,
    request: Request,
    state: Annotated[
        str | None,
        Query(max_length=20, description="matched, partly_matched, unmatched, reversed, error"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after_id: Annotated[int, Query(ge=0, lt=2**63, description="Page on after this entry id")] = 0,
) -> dict[str, Any]:
    """The bank entries, in import order; ``state=unmatched`` and ``state=error`` are the money
    waiting for a person."""
    with request_system(request).db.connect() as conn:
        entries = invoices.list_bank_entries(
            conn, kommunekode, state=state, limit=limit, after_id=after_id
        )
    return {
        "entries": entries,
        "next_after_id": entries[-1]["id"] if len(entries) == limit else None,
    }
