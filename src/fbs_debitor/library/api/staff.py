"""HTTP for library staff: patrons, fees, regulation, payment at the desk, debtor change.

Amounts in requests: ``amount`` as text in kroner ("12,50", "12.50", "1.234,50 kr.") or
``amount_ore`` as an integer, exactly one of them. Amounts in responses: ``<name>_ore`` (int) and
``<name>`` (Danish display text, "12,50 kr."). CPR numbers are masked ("DDMMYY-XXXX").
Authentication (role ``library``) and the municipality check happen where the router is mounted.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from fbs_debitor.core.db import RowId
from fbs_debitor.core.errors import ValidationError
from fbs_debitor.core.http import request_system
from fbs_debitor.core.money import Money
from fbs_debitor.core.text import MultiLine, SingleLine
from fbs_debitor.library.model import (
    BLOCK_THRESHOLD,
    Fee,
    FeeEvent,
    FeeMaterial,
    NewFee,
    Patron,
    PatronAccount,
)
from fbs_debitor.library.service import accounts, payment

router = APIRouter(prefix="/api/v1/{kommunekode}", tags=["library"])


# -- requests ------------------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AmountIn(_In):
    amount: str | None = Field(
        None, max_length=64, description='Kroner as text: "12,50" or "12.50"'
    )
    amount_ore: StrictInt | None = Field(None, description="Øre as an integer: 1250")

    def money(self) -> Money:
        """The amount given (ValidationError unless exactly one of the two forms is given)."""
        if (self.amount is None) == (self.amount_ore is None):
            raise ValidationError(
                "give the amount either as amount (kroner, text) or as amount_ore (integer)",
                code="invalid-amount",
            )
        if self.amount is not None:
            return Money.parse(self.amount)
        assert self.amount_ore is not None
        return Money(self.amount_ore)


class PatronIn(_In):
    cpr: str | None = Field(None, max_length=20, description="The patron's CPR number (a person)")
    guardian_cpr: str | None = Field(
        None, max_length=20, description="The guardian who pays for a minor"
    )
    cvr: str | None = Field(None, max_length=20, description="The company's CVR number")
    name: SingleLine = Field("", max_length=200)


class ChangeDebtorIn(PatronIn):
    """The patron's numbers after the change (one left out is removed)."""

    reason: MultiLine = Field("", max_length=500)


class MaterialIn(_In):
    record_id: SingleLine = Field(
        max_length=40, description="FAUST number of the record (FBS recordId)"
    )
    item_number: SingleLine = Field(max_length=40, description="The copy (FBS materialItemNumber)")
    material_group: SingleLine = Field("standard", max_length=60)
    title: SingleLine | None = Field(None, max_length=300)


class FeeIn(AmountIn):
    patron_id: RowId
    kind: SingleLine = Field(
        max_length=40, description="fee, compensation, administration_fee, ..."
    )
    reason_message: MultiLine = Field("", max_length=200, description="Shown to the patron")
    creation_date: date | None = Field(None, description="Default today; not in the future")
    due_date: date | None = None
    materials: list[MaterialIn] = Field(default_factory=list, max_length=100)
    acknowledged: bool = Field(False, description="Replacement charge acknowledged in writing")


class RegulationIn(AmountIn):
    reason: MultiLine = Field(
        min_length=3, max_length=500, description="Why (shown on the fee's trail and audited)"
    )


class CancelIn(_In):
    reason: MultiLine = Field(
        min_length=3, max_length=500, description="Why (shown on the fee's trail and audited)"
    )


class PayIn(_In):
    order_id: SingleLine | None = Field(None, max_length=100, description="The till's receipt")


# -- responses -----------------------------------------------------------------------------------


def _money(name: str, amount: Money | None) -> dict[str, Any]:
    if amount is None:
        return {f"{name}_ore": None, name: None}
    return {f"{name}_ore": amount.ore, name: str(amount)}


def _event_json(event: FeeEvent) -> dict[str, Any]:
    return {
        "at": event.at.isoformat(),
        "kind": event.kind.value,
        **_money("amount", event.amount),
        "text": event.text,
        "message_id": event.message_id,
        "sequence": event.sequence,
    }


def fee_json(fee: Fee, events: list[FeeEvent] | None = None) -> dict[str, Any]:
    """A fee as staff see it; with ``events``, its history too."""
    body: dict[str, Any] = {
        "id": fee.id,
        "patron_id": fee.patron_id,
        "kind": fee.kind,
        "reason_message": fee.reason_message,
        **_money("amount", fee.amount),
        **_money("open", fee.open),
        "status": fee.status.value,
        "old": fee.old,
        "moved_on": fee.moved_on,
        "creation_date": fee.creation_date,
        "due_date": fee.due_date,
        "paid_date": fee.paid_date,
        "acknowledged": fee.acknowledged,
        "payable_in_library": fee.payable_by_client,
        "debtor_state": fee.debtor_state.value,
        "debtor_reason": fee.debtor_reason,
        "debtor_note": fee.debtor_note,
        "in_collection": fee.in_collection,
        **_money("debtor_balance", fee.debtor_balance),
        "materials": [_material_json(m) for m in fee.materials],
    }
    if events is not None:
        body["events"] = [_event_json(e) for e in events]
    return body


def _material_json(m: FeeMaterial) -> dict[str, Any]:
    return {
        "record_id": m.record_id,
        "item_number": m.item_number,
        "material_group": m.material_group,
        "title": m.title,
    }


def _patron_json(patron: Patron) -> dict[str, Any]:
    debtor = patron.debtor
    return {
        "id": patron.id,
        "name": patron.name,
        "cpr": patron.cpr.masked if patron.cpr else None,
        "guardian_cpr": patron.guardian_cpr.masked if patron.guardian_cpr else None,
        "cvr": patron.cvr.value if patron.cvr else None,
        "debtor": {
            "id_type": debtor.id_type,
            "id": f"{debtor.id[:6]}-XXXX" if debtor.id_type == "cpr" else debtor.id,
        },
    }


def account_json(account: PatronAccount) -> dict[str, Any]:
    """The patron with its fees, open total and block."""
    return {
        **_patron_json(account.patron),
        "fees": [fee_json(f) for f in account.fees],
        **_money("open_total", account.open_total),
        "blocked": account.blocked,
        **_money("block_threshold", BLOCK_THRESHOLD),
    }


# -- routes --------------------------------------------------------------------------------------


@router.post("/patrons", status_code=201)
def post_patron(kommunekode: str, body: PatronIn, request: Request) -> dict[str, Any]:
    """Create a patron: a person (cpr), a minor with a paying guardian, or a company (cvr)."""
    system = request_system(request)
    with system.db.begin() as conn:
        patron = accounts.create_patron(
            conn,
            system.clock,
            kommunekode,
            cpr=body.cpr,
            guardian_cpr=body.guardian_cpr,
            cvr=body.cvr,
            name=body.name,
        )
    return account_json(PatronAccount(patron))


@router.get("/patrons/{patron_id}")
def get_patron(kommunekode: str, patron_id: RowId, request: Request) -> dict[str, Any]:
    """The patron with its fees, the open total and whether it is blocked."""
    with request_system(request).db.connect() as conn:
        return account_json(accounts.patron_account(conn, kommunekode, patron_id))


@router.post("/patrons/{patron_id}/change-debtor")
def post_change_debtor(
    kommunekode: str, patron_id: RowId, body: ChangeDebtorIn, request: Request
) -> dict[str, Any]:
    """Replace the patron's numbers; debtor is told, a rejected registration is sent again."""
    system = request_system(request)
    with system.db.begin() as conn:
        account = accounts.change_debtor(
            conn,
            system.clock,
            kommunekode,
            patron_id,
            cpr=body.cpr,
            guardian_cpr=body.guardian_cpr,
            cvr=body.cvr,
            reason=body.reason,
        )
    return account_json(account)


@router.post("/fees", status_code=201)
def post_fee(kommunekode: str, body: FeeIn, request: Request) -> dict[str, Any]:
    """Create a fee; a new one goes to debtor (or is held until its kind is mapped)."""
    system = request_system(request)
    new = NewFee(
        patron_id=body.patron_id,
        kind=body.kind,
        amount=body.money(),
        reason_message=body.reason_message,
        creation_date=body.creation_date,
        due_date=body.due_date,
        materials=tuple(
            FeeMaterial(m.record_id, m.item_number, m.material_group, m.title)
            for m in body.materials
        ),
        acknowledged=body.acknowledged,
    )
    with system.db.begin() as conn:
        return fee_json(accounts.create_fee(conn, system.clock, kommunekode, new))


@router.get("/fees/{fee_id}")
def get_fee(kommunekode: str, fee_id: RowId, request: Request) -> dict[str, Any]:
    """The fee with its history and where it stands with debtor."""
    with request_system(request).db.connect() as conn:
        fee = accounts.get_fee(conn, kommunekode, fee_id)
        return fee_json(fee, accounts.fee_history(conn, kommunekode, fee_id))


@router.post("/fees/{fee_id}/write-down")
def post_write_down(
    kommunekode: str, fee_id: RowId, body: RegulationIn, request: Request
) -> dict[str, Any]:
    """Lower what is left to pay (to 0 at the lowest)."""
    system = request_system(request)
    with system.db.begin() as conn:
        fee = accounts.write_down(
            conn, system.clock, kommunekode, fee_id, body.money(), body.reason
        )
        return fee_json(fee, accounts.fee_history(conn, kommunekode, fee_id))


@router.post("/fees/{fee_id}/write-up")
def post_write_up(
    kommunekode: str, fee_id: RowId, body: RegulationIn, request: Request
) -> dict[str, Any]:
    """Raise what is left to pay."""
    system = request_system(request)
    with system.db.begin() as conn:
        fee = accounts.write_up(conn, system.clock, kommunekode, fee_id, body.money(), body.reason)
        return fee_json(fee, accounts.fee_history(conn, kommunekode, fee_id))


@router.post("/fees/{fee_id}/cancel")
def post_cancel(
    kommunekode: str, fee_id: RowId, body: CancelIn, request: Request
) -> dict[str, Any]:
    """Cancel the whole fee."""
    system = request_system(request)
    with system.db.begin() as conn:
        fee = accounts.cancel_fee(conn, system.clock, kommunekode, fee_id, body.reason)
        return fee_json(fee, accounts.fee_history(conn, kommunekode, fee_id))


@router.post("/fees/{fee_id}/pay")
def post_pay(kommunekode: str, fee_id: RowId, body: PayIn, request: Request) -> dict[str, Any]:
    """Register payment in full at the desk: old fees only (a new one: 409 fee-in-debtor)."""
    system = request_system(request)
    with system.db.begin() as conn:
        fee = payment.pay_fee(conn, system.clock, kommunekode, fee_id, body.order_id)
        return fee_json(fee, accounts.fee_history(conn, kommunekode, fee_id))
