"""HTTP of the debtor system for other library systems.

``router``: ``POST /services/debitorregistrering/v1``, where another library system
registers and regulates claims synchronously (DebitorRegistreringAfsend over HTTP). The body is
either JSON ``{"message_type": ..., "message_id": "<uuid>", "payload": {...}}`` or the contract's
XML form (``Content-Type: application/xml`` or ``text/xml``) with the message id in the
``Message-Id`` header, checked against the published registration XSD. The answer is JSON:
``accepted`` (with the claim's balance), ``rejected`` (code and reason; HTTP 200, it is an
answer) or ``duplicate`` (the message id was applied before; nothing changed). A malformed
request is a 422 problem.

The endpoint has no kommunekode in its path, so it compares the payload's municipality with the
caller's (``request.state.principal``, set by the web layer).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any, cast

import pydantic
import xmlschema
from fastapi import APIRouter, Depends, Request
from lxml import etree
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

from fbs_debitor.contracts.registration import ANSWERS, REGISTRATION_MESSAGES, ClaimMessage
from fbs_debitor.contracts.xml import from_xml, xsd
from fbs_debitor.core.errors import ConflictError, ForbiddenError, ValidationError
from fbs_debitor.core.http import request_system
from fbs_debitor.debtor.model.claims import Outcome, describe_contract_error
from fbs_debitor.debtor.service import intake

router = APIRouter(tags=["debtor integration"])


XML_MEDIA_TYPES = frozenset({"application/xml", "text/xml"})


_REGISTRATION_BY_TYPE: dict[str, type[ClaimMessage]] = {
    m.MESSAGE_TYPE: m for m in REGISTRATION_MESSAGES
}


_REGISTRATION_BY_NAME: dict[str, type[ClaimMessage]] = {
    m.__name__: m for m in REGISTRATION_MESSAGES
}


@cache
def registration_schema() -> xmlschema.XMLSchema:
    """The registration XSD (the one we publish), built once."""
    return xmlschema.XMLSchema(xsd(REGISTRATION_MESSAGES + ANSWERS, "registration"))


class RegistrationRequest(pydantic.BaseModel):
    """The JSON form of a registration request."""

    model_config = pydantic.ConfigDict(extra="forbid")

    message_type: str = pydantic.Field(
        max_length=200, description="e.g. registration.ClaimRegistered.v1"
    )
    message_id: str = pydantic.Field(
        max_length=100, description="UUID; a repeated id changes nothing"
    )
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
    except RecursionError:
        raise _invalid("the body is not JSON we read: it is nested too deeply") from None
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


@router.post("/services/debitorregistrering/v1", openapi_extra=_REQUEST_BODY)
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
    system = request_system(request)
    try:
        with system.db.begin() as conn:
            outcome = intake.receive_registration(
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
