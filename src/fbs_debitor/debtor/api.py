"""HTTP of the debtor system.

``integration_router``: ``POST /services/debitorregistrering/v1``, where another library system
registers and regulates claims synchronously (DebitorRegistreringAfsend over HTTP). The body is
either JSON ``{"message_type": ..., "message_id": "<uuid>", "payload": {...}}`` or the contract's
XML form (``Content-Type: application/xml`` or ``text/xml``) with the message id in the
``Message-Id`` header, checked against the published registration XSD. The answer is JSON:
``accepted`` (with the claim's balance), ``rejected`` (code and reason; HTTP 200, it is an
answer) or ``duplicate`` (the message id was applied before; nothing changed). A malformed
request is a 422 problem.

``staff_router`` (``/api/v1/{kommunekode}``): a debtor's account and one claim (CPR masked),
the ledger guard; the debtor rules (``GET/PUT /debtor-rules``), the letters (list and PDF), a
payment agreement and the deceased flag of a debtor, write-off by hand, and the refund of a
debtor's credit (``POST /debtors/{debtor_id}/refunds``; not for the ``ops`` role).

Authentication and roles are applied where the routers are mounted (``web.app.MOUNTS``); the
service endpoint has no kommunekode in its path, so it compares the payload's municipality with
the caller's (``request.state.principal``, set by the web layer).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Annotated, Any, Protocol, cast

import pydantic
import xmlschema
from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from lxml import etree
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

from fbs_debitor.contracts.registration import ANSWERS, REGISTRATION_MESSAGES, ClaimMessage
from fbs_debitor.contracts.xml import from_xml, xsd
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.db import Database
from fbs_debitor.core.errors import ConflictError, ForbiddenError, ValidationError
from fbs_debitor.core.text import MultiLine, SingleLine
from fbs_debitor.debtor import service
from fbs_debitor.debtor.agreements import account_for, mark_deceased, set_payment_agreement
from fbs_debitor.debtor.credit import available_credit, refund
from fbs_debitor.debtor.letters_store import letter_pdf, list_letters
from fbs_debitor.debtor.model import Outcome, describe_contract_error
from fbs_debitor.debtor.rules_store import get_rules, put_rules, rules_document
from fbs_debitor.debtor.writeoff import write_off_by_hand

integration_router = APIRouter(tags=["debtor integration"])
staff_router = APIRouter(prefix="/api/v1/{kommunekode}", tags=["debtor"])

XML_MEDIA_TYPES = frozenset({"application/xml", "text/xml"})
_REGISTRATION_BY_TYPE: dict[str, type[ClaimMessage]] = {
    m.MESSAGE_TYPE: m for m in REGISTRATION_MESSAGES
}
_REGISTRATION_BY_NAME: dict[str, type[ClaimMessage]] = {
    m.__name__: m for m in REGISTRATION_MESSAGES
}


class _System(Protocol):
    """What the routes need of the wired system (``bootstrap.System``, not importable here)."""

    @property
    def db(self) -> Database: ...

    @property
    def clock(self) -> Clock: ...


def _system(request: Request) -> _System:
    return cast(_System, request.app.state.system)


@cache
def registration_schema() -> xmlschema.XMLSchema:
    """The registration XSD (the one we publish), built once."""
    return xmlschema.XMLSchema(xsd(REGISTRATION_MESSAGES + ANSWERS, "registration"))


class RegistrationRequest(pydantic.BaseModel):
    """The JSON form of a registration request."""

    model_config = pydantic.ConfigDict(extra="forbid")

    message_type: str = pydantic.Field(description="e.g. registration.ClaimRegistered.v1")
    message_id: str = pydantic.Field(description="UUID; a repeated id changes nothing")
    payload: dict[str, Any] = pydantic.Field(description="the contract's JSON form")


def _invalid(detail: str, code: str = "invalid-request") -> ValidationError:
    return ValidationError(detail, code=code)


def _message_id(value: str | None) -> str:
    if not value:
        raise _invalid("the message id is missing (JSON message_id or header Message-Id)")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise _invalid(f"the message id must be a UUID, got {value[:40]!r}") from None


def _contract(read: Callable[[], object]) -> ClaimMessage:
    """Run ``read`` (which builds a registration contract), turning its errors into a 422."""
    try:
        return cast(ClaimMessage, read())
    except pydantic.ValidationError as error:
        raise _invalid(describe_contract_error(error), "invalid-message") from None
    except ValueError as error:  # from_xml: not well-formed or an unknown message
        raise _invalid(str(error), "invalid-message") from None


def read_json_request(body: bytes) -> tuple[ClaimMessage, str]:
    """(message, message id) from a JSON request body; ValidationError (422) when malformed."""
    try:
        request = RegistrationRequest.model_validate(json.loads(body or b"null"))
    except (ValueError, pydantic.ValidationError) as error:
        detail = (
            describe_contract_error(error)
            if isinstance(error, pydantic.ValidationError)
            else f"the body is not JSON: {error}"
        )
        raise _invalid(detail) from None
    model = _REGISTRATION_BY_TYPE.get(request.message_type)
    if model is None:
        raise _invalid(
            f"unknown message type {request.message_type[:120]!r}; expected one of "
            + ", ".join(sorted(_REGISTRATION_BY_TYPE)),
            "unknown-message-type",
        )
    message = _contract(lambda: model.from_payload(request.payload))
    return message, _message_id(request.message_id)


def read_xml_request(body: bytes, message_id: str | None) -> tuple[ClaimMessage, str]:
    """(message, message id) from the contract's XML form, valid against the registration XSD."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as error:
        raise _invalid(f"not well-formed XML: {error}", "invalid-xml") from None
    if root.getroottree().docinfo.doctype:
        raise _invalid("a document type declaration (DTD) is not accepted", "invalid-xml")
    schema_error = next(iter(registration_schema().iter_errors(root)), None)
    if schema_error is not None:
        raise _invalid(
            f"not valid against the registration XSD: {schema_error.reason} "
            f"(at {schema_error.path})",
            "invalid-xml",
        )
    name = etree.QName(root).localname
    model = _REGISTRATION_BY_NAME.get(name)
    if model is None:
        raise _invalid(f"{name} is not a registration message", "unknown-message-type")
    message = _contract(lambda: from_xml(body, dict(_REGISTRATION_BY_NAME)))
    return message, _message_id(message_id)


def _authorize(request: Request, municipality: str) -> None:
    """Refuse unless the caller's key belongs to the message's municipality."""
    who = getattr(request.state, "principal", None)
    if who is None or getattr(who, "municipality", None) != municipality:
        raise ForbiddenError(
            "this API key belongs to another municipality than the message",
            code="wrong-municipality",
        )


def _answer(outcome: Outcome | None, message_id: str) -> dict[str, Any]:
    if outcome is None:
        return {"status": "duplicate", "message_id": message_id}
    if outcome.accepted:
        return {
            "status": "accepted",
            "message_id": message_id,
            "claim_id": outcome.claim_id,
            "balance_ore": outcome.balance_ore,
        }
    return {
        "status": "rejected",
        "message_id": message_id,
        "claim_id": outcome.claim_id,
        "code": outcome.code,
        "reason": outcome.reason,
    }


async def _raw_body(request: Request) -> bytes:
    return await request.body()


_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": RegistrationRequest.model_json_schema()},
            "application/xml": {
                "schema": {
                    "type": "string",
                    "description": "One registration message in its XML form (the published "
                    "registration XSD); the message id in the Message-Id header",
                }
            },
        },
    }
}


@integration_router.post("/services/debitorregistrering/v1", openapi_extra=_REQUEST_BODY)
def post_registration(
    request: Request,
    body: bytes = Depends(_raw_body),
) -> dict[str, Any]:
    """Register or regulate a claim synchronously; answers accepted, rejected or duplicate."""
    media_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if media_type.lower() in XML_MEDIA_TYPES:
        message, message_id = read_xml_request(body, request.headers.get("message-id"))
    elif media_type.lower() == "application/json":
        message, message_id = read_json_request(body)
    else:
        raise HTTPException(415, "send application/json, application/xml or text/xml")
    _authorize(request, message.municipality)
    system = _system(request)
    try:
        with system.db.begin() as conn:
            outcome = service.receive_registration(
                conn, system.clock, message, message_id=message_id
            )
    except IntegrityError:
        # a concurrent request with the same message id or for the same new claim won the race
        raise ConflictError(
            "a concurrent request for the same message or claim was applied first; "
            "send it again to get its answer",
            code="concurrent-request",
        ) from None
    return _answer(outcome, message_id)


@staff_router.get("/debtors/{debtor_id}")
def get_debtor(kommunekode: str, debtor_id: str, request: Request) -> dict[str, Any]:
    """A debtor's account (CPR 10 digits or CVR 8): claims, balances, postings, events,
    invoices (payment ID, code line, due date, SRB, amount due), reminders, letters, payment
    agreement. The CPR is masked."""
    system = _system(request)
    with system.db.connect() as conn:
        return service.account_view(conn, kommunekode, debtor_id, system.clock.today())


@staff_router.get("/claims/{claim_id}")
def get_claim(kommunekode: str, claim_id: str, request: Request) -> dict[str, Any]:
    """One claim (the library's id): debtor (masked), postings, balance, leg-1 delay."""
    with _system(request).db.connect() as conn:
        return service.get_claim(conn, kommunekode, claim_id)


@staff_router.get("/ledger-check")
def get_ledger_check(kommunekode: str, request: Request) -> dict[str, Any]:
    """The ledger guard for this municipality: every claim that disagrees with its postings."""
    with _system(request).db.connect() as conn:
        problems = service.check_ledger(conn, kommunekode)
    return {"ok": not problems, "problems": problems}


# -- invoicing and dunning (leg 2) ------------------------------------------------------------------

_MAX_ID = 2**63 - 1
"""The largest BIGINT: ids and amounts beyond it are refused (422) before they reach the database."""


@staff_router.get("/debtor-rules")
def get_debtor_rules(kommunekode: str, request: Request) -> dict[str, Any]:
    """The municipality's debtor rules (the defaults if none were set)."""
    with _system(request).db.connect() as conn:
        return rules_document(get_rules(conn, kommunekode))


@staff_router.put("/debtor-rules")
def put_debtor_rules(
    kommunekode: str,
    request: Request,
    body: dict[str, Any] = Body(  # noqa: B008 - FastAPI's way to declare a body
        ..., description="The whole DebtorRules document; fields left out take their defaults"
    ),
) -> dict[str, Any]:
    """Replace the municipality's debtor rules. Settings beyond the legal limits (gebyrloven § 2,
    renteloven § 9 b) are refused with 422 and the limit in words."""
    system = _system(request)
    with system.db.begin() as conn:
        return rules_document(put_rules(conn, system.clock, kommunekode, body))


@staff_router.get("/letters")
def get_letters(
    kommunekode: str,
    request: Request,
    status: Annotated[str | None, Query(pattern="^(pending|delivered)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=_MAX_ID)] = 0,
) -> dict[str, Any]:
    """The letters (invoices and reminders) of the municipality, newest first; debtor masked."""
    with _system(request).db.connect() as conn:
        found = list_letters(conn, kommunekode, status=status, limit=limit, offset=offset)
    return {"letters": found}


@staff_router.get(
    "/letters/{letter_id}.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The letter as PDF"}},
)
def get_letter_pdf(
    kommunekode: str, letter_id: Annotated[int, Path(ge=1, le=_MAX_ID)], request: Request
) -> Response:
    """One letter rendered as PDF now, with its FIK payment slip."""
    with _system(request).db.connect() as conn:
        pdf = letter_pdf(conn, kommunekode, letter_id)
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


@staff_router.post("/debtors/{debtor_id}/payment-agreement")
def post_payment_agreement(
    kommunekode: str, debtor_id: str, body: PaymentAgreementRequest, request: Request
) -> dict[str, Any]:
    """Record a payment agreement for the debtor (the newest replaces any earlier one)."""
    system = _system(request)
    with system.db.begin() as conn:
        return set_payment_agreement(
            conn, system.clock, kommunekode, debtor_id, until=body.until, note=body.note
        )


class DeceasedRequest(pydantic.BaseModel):
    """The date of death (default: today)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    on: date | None = None


@staff_router.post("/debtors/{debtor_id}/deceased")
def post_deceased(
    kommunekode: str, debtor_id: str, request: Request, body: DeceasedRequest | None = None
) -> dict[str, Any]:
    """Flag the debtor as deceased: the next dunning run writes the account's claims off."""
    system = _system(request)
    with system.db.begin() as conn:
        return mark_deceased(
            conn, system.clock, kommunekode, debtor_id, on=None if body is None else body.on
        )


class WriteOffRequest(pydantic.BaseModel):
    """A write-off by hand: the amount (default: the whole balance), why and who."""

    model_config = pydantic.ConfigDict(extra="forbid")

    amount_ore: int | None = pydantic.Field(default=None, gt=0, le=_MAX_ID)
    reason: MultiLine = pydantic.Field(min_length=1, max_length=500)
    by: SingleLine = pydantic.Field(min_length=1, max_length=100)


@staff_router.post("/claims/{claim_id}/write-off")
def post_write_off(
    kommunekode: str, claim_id: str, body: WriteOffRequest, request: Request
) -> dict[str, Any]:
    """Write (part of) a claim off by hand; ClaimWrittenOff (and ClaimClosed at zero) go to the
    library through the outbox."""
    system = _system(request)
    with system.db.begin() as conn:
        return write_off_by_hand(
            conn,
            system.clock,
            kommunekode,
            claim_id,
            amount_ore=body.amount_ore,
            reason=body.reason,
            by=body.by,
        )


# -- credit ---------------------------------------------------------------------------------------

REFUND_ROLES = frozenset({"debtor-staff", "admin"})
"""Who may refund credit: it pays money out, so not ``ops``, whom the staff routes admit too."""


class RefundRequest(pydantic.BaseModel):
    """A refund of the debtor's credit: the amount (default: all of it), the caller's reference
    (idempotency key: the same reference again returns the first refund) and who asks."""

    model_config = pydantic.ConfigDict(extra="forbid")

    amount_ore: int | None = pydantic.Field(default=None, gt=0, le=_MAX_ID)
    reference: SingleLine = pydantic.Field(min_length=1, max_length=120)
    by: SingleLine | None = pydantic.Field(default=None, min_length=1, max_length=100)


@staff_router.post(
    "/debtors/{debtor_id}/refunds",
    status_code=201,
    responses={
        200: {"description": "The reference was used before: the first refund, unchanged"},
        409: {"description": "No credit, the amount exceeds it, or the reference is taken"},
    },
)
def post_refund(
    kommunekode: str, debtor_id: str, body: RefundRequest, request: Request, response: Response
) -> dict[str, Any]:
    """Refund (part of) the debtor account's credit (overpayments not used for claims); the
    payout to the citizen's NemKonto is the municipality's own. 201 with the refund; 200 with the
    first refund if the reference was used before."""
    who = getattr(request.state, "principal", None)
    role = str(getattr(who, "role", ""))
    if role not in REFUND_ROLES:
        raise ForbiddenError(
            "refunds are for the roles debtor-staff and admin", code="refund-not-allowed"
        )
    system = _system(request)
    try:
        with system.db.begin() as conn:
            account_id = account_for(conn, kommunekode, debtor_id)
            made, created = refund(
                conn,
                system.clock,
                kommunekode,
                account_id,
                body.amount_ore,
                body.reference,
                body.by or f"api key ({role})",
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
