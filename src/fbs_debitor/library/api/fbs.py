"""The FBS-compatible external fee API, as the national library web sites and app call it.

``GET /external/{agencyid}/patron/{patronid}/fees/v2?includepaid=&includenonpayable=`` answers
``FeeV2[]`` (the FBS adapter spec, ``FeeV2`` / ``FeeMaterialV2`` / ``MaterialGroup``):

* ``amount`` is what is left to pay, a JSON **number** in kroner ("12.50"), written from the
  integer øre by :meth:`Money.to_json_str`; no float is ever involved (the body is written by
  :func:`fees_v2_json`, not by a JSON encoder that would go through float);
* ``payableByClient`` is true only for old open fees (created before the cutoff, not moved to
  debtor); a fee handed over to state collection says so in ``reasonMessage`` (pay
  Gældsstyrelsen, ``model.IN_COLLECTION_TEXT``), and is never payable here; ``paidDate`` is set only for a fee paid in full and ``dueDate`` only when known, both
  ``null`` otherwise (present, as FBS answers);
* without ``includepaid`` only open fees are listed; without ``includenonpayable`` no open fee that
  the library may not take payment for (a paid fee is governed by ``includepaid`` alone).

``POST /external/{agencyid}/patron/{patronid}/payment/v2`` with ``{"orderId": "...", "feeIds":
[...]}`` registers full payment of old fees and answers, as FBS's ``PaymentConfirmation[]``, one
object per fee: ``{"feeId": 1, "paymentStatus": "paymentRegistered", "confirmationId": "7"}``;
``paymentStatus`` is ``paymentRegistered`` (paid now, or before by the same order: idempotent),
``paymentRegisteredByDifferentOrderId`` or ``paymentNotAllowedByClient`` (a new fee: nothing
changes); ``confirmationId`` only with ``paymentRegistered``.

``agencyid`` (6 digits) names the municipality through the library's copy of its set-up; an
unknown agency or patron is 404. These routes answer an API key (roles library, integration); the
same API as the library web sites call it with a patron's token, with the words ``agencyid`` and
``patronid`` literally in the path, is :mod:`fbs_debitor.library.api.patron_fees`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel
from sqlalchemy import Connection

from fbs_debitor.core.db import RowId
from fbs_debitor.core.http import request_system
from fbs_debitor.core.money import Money
from fbs_debitor.core.text import SingleLine
from fbs_debitor.library.model import Fee, FeeStatus, PaymentConfirmation
from fbs_debitor.library.service import accounts, payment

router = APIRouter(prefix="/external/{agencyid}", tags=["fbs"])


def _money_from_json(value: Any) -> Money:
    """A FeeV2 amount: a JSON number of kroner (12, 12.5, 2.56), through its decimal text."""
    if isinstance(value, Money):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("amount must be a number of kroner")
    return Money.from_json_number(value)


FbsAmount = Annotated[
    Money,
    PlainValidator(_money_from_json),
    PlainSerializer(Money.to_json_str, return_type=str, when_used="json"),
    WithJsonSchema({"type": "number", "format": "double"}),
]
"""Kroner as a JSON number in FBS documents; Money inside."""


class _Fbs(BaseModel):
    """FBS documents: camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, frozen=True
    )


class MaterialGroup(_Fbs):
    name: str
    description: str | None = None


class FeeMaterialV2(_Fbs):
    record_id: str
    material_group: MaterialGroup
    material_item_number: str
    periodical: dict[str, Any] | None = None


class FeeV2(_Fbs):
    """One fee as FBS lists it. ``paid_date`` may be null in documents from the field."""

    fee_id: RowId
    type: str
    reason_message: str
    amount: FbsAmount
    payable_by_client: bool
    creation_date: date
    due_date: date | None = None
    paid_date: date | None = None
    materials: list[FeeMaterialV2] = Field(default_factory=list)


class PaymentOrderV2(_Fbs):
    order_id: SingleLine = Field(min_length=1, max_length=100)
    fee_ids: list[RowId] = Field(min_length=1, max_length=1000)


class PaymentConfirmationV2(_Fbs):
    fee_id: RowId
    payment_status: str
    confirmation_id: str | None = None


def to_fee_v2(fee: Fee) -> FeeV2:
    """The FBS view of a fee: ``amount`` is what is left to pay."""
    return FeeV2(
        fee_id=fee.id,
        type=fee.kind,
        reason_message=fee.fbs_reason_message,
        amount=fee.open,
        payable_by_client=fee.payable_by_client,
        creation_date=fee.creation_date,
        due_date=fee.due_date,
        paid_date=fee.paid_date if fee.status is FeeStatus.PAID else None,
        materials=[
            FeeMaterialV2(
                record_id=m.record_id,
                material_group=MaterialGroup(name=m.material_group),
                material_item_number=m.item_number,
            )
            for m in fee.materials
        ],
    )


def _json(value: Any) -> str:
    """JSON text of JSON-ready data in which Money stands for a number: its exact decimal text."""
    if isinstance(value, Money):
        return value.to_json_str()
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


_ALWAYS_PRESENT = ("dueDate", "paidDate")
"""Written as ``null`` when unknown, as FBS itself answers (its samples carry ``"paidDate": null``
for every unpaid fee), so a client reading them finds the key either way."""


def fees_v2_json(fees: Sequence[FeeV2]) -> str:
    """The ``FeeV2[]`` body: ``dueDate`` and ``paidDate`` always present (``null`` when unknown),
    other absent values left out, and ``amount`` a JSON number written from the øre (pydantic
    would write Decimal as a string or go through float)."""
    docs = []
    for fee in fees:
        full = fee.model_dump(mode="json", by_alias=True)
        doc = fee.model_dump(mode="json", by_alias=True, exclude_none=True)
        doc = {
            key: (doc.get(key) if key in _ALWAYS_PRESENT else doc[key])
            for key in full
            if key in doc or key in _ALWAYS_PRESENT
        }
        doc["amount"] = fee.amount
        docs.append(doc)
    return _json(docs)


@router.get(
    "/patron/{patronid}/fees/v2",
    response_model=list[FeeV2],
    response_model_exclude_none=True,
    summary="The patron's fees with all available information (FBS getFeesV2)",
)
def get_fees_v2(
    agencyid: str,
    patronid: RowId,
    request: Request,
    includepaid: bool = False,
    includenonpayable: bool = False,
) -> Response:
    """FeeV2[]: open fees only unless ``includepaid``; open fees the library may not take payment
    for only with ``includenonpayable``."""
    with request_system(request).db.connect() as conn:
        municipality = accounts.municipality_of_agency(conn, agencyid)
        return fees_v2_response(conn, municipality, patronid, includepaid, includenonpayable)


def fees_v2_response(
    conn: Connection, municipality: str, patron_id: int, include_paid: bool, nonpayable: bool
) -> Response:
    """The ``FeeV2[]`` answer of getFeesV2 for one patron (both forms of the route)."""
    fees = accounts.fbs_fees(
        conn, municipality, patron_id, include_paid=include_paid, include_nonpayable=nonpayable
    )
    body = fees_v2_json([to_fee_v2(f) for f in fees])
    return Response(content=body, media_type="application/json")


@router.post(
    "/patron/{patronid}/payment/v2",
    response_model=list[PaymentConfirmationV2],
    response_model_exclude_none=True,
    summary="Register full payment of old fees (FBS payFeesV2)",
)
def post_payment_v2(
    agencyid: str, patronid: RowId, order: PaymentOrderV2, request: Request
) -> list[PaymentConfirmationV2]:
    """One confirmation per fee; idempotent per ``orderId``."""
    system = request_system(request)
    with system.db.begin() as conn:
        municipality = accounts.municipality_of_agency(conn, agencyid)
        answers = payment.pay_fees(
            conn, system.clock, municipality, patronid, order.order_id, order.fee_ids
        )
    return confirmations_v2(answers)


def confirmations_v2(answers: Sequence[PaymentConfirmation]) -> list[PaymentConfirmationV2]:
    """The ``PaymentConfirmation[]`` answer of payFeesV2 (both forms of the route)."""
    return [
        PaymentConfirmationV2(
            fee_id=a.fee_id, payment_status=a.status.value, confirmation_id=a.confirmation_id
        )
        for a in answers
    ]
