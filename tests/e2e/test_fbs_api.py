"""The FBS fee API over HTTP, as the library web sites call it; every FeeV2 answer is checked
against the FBS adapter spec (``fbs_spec.assert_valid_feev2_list``)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from fbs_debitor.bootstrap import System
from fbs_debitor.core.money import Money
from fbs_debitor.demo import DEMO_AGENCY, demo_key, seed_demo
from fbs_debitor.library.api.fbs import FeeV2, fees_v2_json, to_fee_v2
from fbs_debitor.library.model import FeeMaterial
from fbs_debitor.library.service import accounts
from fbs_debitor.tenants.model import Role
from fbs_debitor.web.app import create_app
from tests.e2e.fbs_spec import FEES_PATH, assert_valid_feev2_list, spec
from tests.integration.library_support import (
    K,
    fee,
    library_only,
    map_kind,
    new_fee,
    new_patron,
)
from tests.oracles import load_json

OLD = date(2025, 9, 15)
BASE = f"/external/{DEMO_AGENCY}/patron"


@pytest.fixture
def lib(system: System) -> System:
    lib = library_only(system)
    seed_demo(lib)
    for kind in ("fee", "compensation"):
        map_kind(lib, kind)
    lib.drain()
    return lib


def client(lib: System, role: Role = Role.LIBRARY) -> TestClient:
    c = TestClient(create_app(lib), raise_server_exceptions=False)
    c.headers["Authorization"] = f"Bearer {demo_key(role)}"
    return c


def fees_v2(c: TestClient, patron_id: int, paid: bool, nonpayable: bool) -> list[dict]:  # type: ignore[type-arg]
    r = c.get(
        f"{BASE}/{patron_id}/fees/v2",
        params={"includepaid": str(paid).lower(), "includenonpayable": str(nonpayable).lower()},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert_valid_feev2_list(body, required=False)
    return body  # type: ignore[no-any-return]


def test_fees_v2_lists_what_is_left_to_pay_and_filters_like_fbs(lib: System) -> None:
    p = new_patron(lib)
    materials = (FeeMaterial("48724566", "5237124059"), FeeMaterial("52518563", "5119382558"))
    old = new_fee(lib, p.id, "12,50", creation_date=OLD, materials=materials)
    paid = new_fee(lib, p.id, "20,00", creation_date=OLD, due_date=date(2025, 10, 15))
    cancelled = new_fee(lib, p.id, "30,00", creation_date=OLD)
    new = new_fee(lib, p.id, "70,00", kind="compensation", materials=())
    with lib.db.begin() as conn:
        accounts.cancel_fee(conn, lib.clock, K, cancelled.id)
        accounts.write_down(conn, lib.clock, K, new.id, Money.parse("0,01"))
    c = client(lib)
    assert (
        c.post(
            f"{BASE}/{p.id}/payment/v2", json={"orderId": "o-1", "feeIds": [paid.id]}
        ).status_code
        == 200
    )

    assert [f["feeId"] for f in fees_v2(c, p.id, False, False)] == [old.id]
    assert [f["feeId"] for f in fees_v2(c, p.id, False, True)] == [old.id, new.id]
    # a paid (or cancelled) fee is listed with includepaid whatever includenonpayable says:
    # "non-payable" is an open fee the library may not take payment for (it lives in debtor)
    assert [f["feeId"] for f in fees_v2(c, p.id, True, False)] == [old.id, paid.id, cancelled.id]
    everything = {f["feeId"]: f for f in fees_v2(c, p.id, True, True)}
    assert list(everything) == [old.id, paid.id, cancelled.id, new.id]
    assert everything[old.id] == {
        "feeId": old.id,
        "type": "fee",
        "reasonMessage": "Gebyr for overskredet lånetid",
        "amount": 12.5,
        "payableByClient": True,
        "creationDate": "2025-09-15",
        "dueDate": None,
        "paidDate": None,
        "materials": [
            {
                "recordId": "48724566",
                "materialGroup": {"name": "standard"},
                "materialItemNumber": "5237124059",
            },
            {
                "recordId": "52518563",
                "materialGroup": {"name": "standard"},
                "materialItemNumber": "5119382558",
            },
        ],
    }
    assert everything[paid.id]["amount"] == 0
    assert everything[paid.id]["paidDate"] == "2026-03-02"
    assert everything[paid.id]["dueDate"] == "2025-10-15"
    assert everything[cancelled.id]["paidDate"] is None  # present as null, as FBS sends it
    assert everything[new.id]["payableByClient"] is False
    assert everything[new.id]["type"] == "compensation"
    assert everything[new.id]["materials"] == []
    raw = c.get(f"{BASE}/{p.id}/fees/v2?includepaid=true&includenonpayable=true").text
    assert_valid_feev2_list(json.loads(raw), required=False)
    assert '"amount":69.99' in raw and '"amount":12.50' in raw  # numbers, never strings


def test_amounts_are_exact_json_numbers_written_from_ore() -> None:
    for ore in (1, 10, 99, 1250, 7000, 26506, 123456789012):
        m = Money(ore)
        text = fees_v2_json(
            [
                FeeV2(
                    fee_id=1,
                    type="fee",
                    reason_message="x",
                    amount=m,
                    payable_by_client=True,
                    creation_date=date(2026, 1, 1),
                )
            ]
        )
        parsed = json.loads(text, parse_float=Decimal)
        assert Money.from_decimal(parsed[0]["amount"]) == m
        assert_valid_feev2_list(json.loads(text), required=False)


def test_payment_v2_pays_old_fees_once_per_order(lib: System) -> None:
    p = new_patron(lib)
    a = new_fee(lib, p.id, "10,00", creation_date=OLD)
    b = new_fee(lib, p.id, "15,00", creation_date=OLD)
    new = new_fee(lib, p.id, "20,00")
    c = client(lib)
    url = f"{BASE}/{p.id}/payment/v2"
    first = c.post(url, json={"orderId": "dibs-1", "feeIds": [a.id, new.id]})
    assert first.status_code == 200, first.text
    [paid, refused] = first.json()
    assert paid["feeId"] == a.id and paid["paymentStatus"] == "paymentRegistered"
    assert paid["confirmationId"]
    assert refused == {"feeId": new.id, "paymentStatus": "paymentNotAllowedByClient"}
    again = c.post(url, json={"orderId": "dibs-1", "feeIds": [a.id, new.id]})
    assert again.json() == first.json()
    other = c.post(url, json={"orderId": "dibs-2", "feeIds": [a.id, b.id]}).json()
    assert [o["paymentStatus"] for o in other] == [
        "paymentRegisteredByDifferentOrderId",
        "paymentRegistered",
    ]
    assert "confirmationId" not in other[0]
    assert fee(lib, new.id).open == Money(2000)
    assert fees_v2(c, p.id, False, True) == [
        f for f in fees_v2(c, p.id, True, True) if f["feeId"] == new.id
    ]


def test_bad_requests_are_problems(lib: System) -> None:
    p = new_patron(lib)
    a = new_fee(lib, p.id, creation_date=OLD)
    c = client(lib)
    r = c.get(f"/external/999999/patron/{p.id}/fees/v2")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = c.get(f"{BASE}/{p.id + 1000}/fees/v2")
    assert r.status_code == 404 and r.json()["type"].endswith("unknown-patron")
    assert c.get(f"{BASE}/abc/fees/v2").status_code == 422
    r = c.post(f"{BASE}/{p.id}/payment/v2", json={"orderId": "o", "feeIds": [a.id + 1000]})
    assert r.status_code == 404 and r.json()["type"].endswith("unknown-fee")
    assert (
        c.post(f"{BASE}/{p.id}/payment/v2", json={"orderId": "o", "feeIds": []}).status_code == 422
    )
    assert fee(lib, a.id).open == Money(10000)


def test_only_library_and_integration_keys_of_the_agency_may_call(lib: System) -> None:
    p = new_patron(lib)
    url = f"{BASE}/{p.id}/fees/v2"
    assert client(lib, Role.INTEGRATION).get(url).status_code == 200
    assert client(lib, Role.DEBTOR_STAFF).get(url).status_code == 403
    anonymous = TestClient(create_app(lib), raise_server_exceptions=False)
    assert anonymous.get(url).status_code == 401


def test_the_routes_and_amount_type_match_the_spec(lib: System) -> None:
    openapi = create_app(lib).openapi()
    assert "/external/{agencyid}/patron/{patronid}/fees/v2" in openapi["paths"]
    assert FEES_PATH in spec()["paths"]
    fee_schema = openapi["components"]["schemas"]["FeeV2"]
    assert fee_schema["properties"]["amount"]["type"] == "number"
    assert set(fee_schema["properties"]) == set(spec()["definitions"]["FeeV2"]["properties"])


def test_the_spec_helper_catches_what_the_spec_forbids() -> None:
    good = to_fee_v2_dict()
    assert_valid_feev2_list([good])
    assert (good["dueDate"], good["paidDate"]) == (None, None)  # null, as real FBS answers
    for broken in (
        {**good, "amount": "12.50"},
        {**good, "feeId": "1"},
        {**good, "amount_ore": 1250},
        {k: v for k, v in good.items() if k != "payableByClient"},
    ):
        with pytest.raises(AssertionError):
            assert_valid_feev2_list([broken])


def to_fee_v2_dict() -> dict:  # type: ignore[type-arg]
    from fbs_debitor.library.model import DebtorState, Fee, FeeStatus

    f = Fee(
        id=7,
        municipality=K,
        patron_id=1,
        kind="fee",
        reason_message="Gebyr",
        amount=Money(1250),
        open=Money(1250),
        status=FeeStatus.OPEN,
        old=True,
        moved_on=None,
        creation_date=OLD,
        due_date=None,
        paid_date=None,
        acknowledged=False,
        debtor_state=DebtorState.NOT_SENT,
        debtor_reason=None,
        debtor_note=None,
        debtor_balance=None,
        last_sequence=0,
        registration_message_id=None,
    )
    return json.loads(fees_v2_json([to_fee_v2(f)]))[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("fixture", "count", "total", "payable"),
    [
        ("fbs/fees-v2-response.sample.json", 6, Money.parse("265,06"), Money.parse("265,06")),
        ("fbs/ding2-FeesResponse.json", 7, Money.parse("635,50"), Money.parse("395,50")),
    ],
)
def test_fbs_sample_answers_read_through_our_model(
    fixture: str, count: int, total: Money, payable: Money
) -> None:
    fees = [FeeV2.model_validate(item) for item in load_json(fixture)]
    assert len(fees) == count
    assert all(f.paid_date is None for f in fees)
    assert Money.sum(f.amount for f in fees) == total
    assert Money.sum(f.amount for f in fees if f.payable_by_client) == payable
    # and the amounts agree with Money.from_json_number on the raw numbers
    raw = load_json(fixture)
    assert Money.sum(Money.from_json_number(item["amount"]) for item in raw) == total
