"""The staff HTTP API of the library: patrons, fees, regulation, desk payment, debtor change."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from fbs_debitor.bootstrap import System
from fbs_debitor.contracts.registration import RegistrationRejected
from fbs_debitor.demo import demo_key, seed_demo
from fbs_debitor.tenants.model import Role
from fbs_debitor.web.app import create_app
from tests.integration.library_support import (
    CPR,
    GUARDIAN,
    answer,
    library_only,
    map_kind,
    sent,
)

API = "/api/v1/101"


@pytest.fixture
def lib(system: System) -> System:
    lib = library_only(system)
    seed_demo(lib)
    map_kind(lib, "fee")
    lib.drain()
    return lib


@pytest.fixture
def c(lib: System) -> TestClient:
    client = TestClient(create_app(lib), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {demo_key(Role.LIBRARY)}"
    return client


def post(c: TestClient, path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    r = c.post(f"{API}{path}", json=body)
    assert r.status_code == status, r.text
    return r.json()  # type: ignore[no-any-return]


def problem(c: TestClient, path: str, body: dict[str, Any], status: int) -> dict[str, Any]:
    r = c.post(f"{API}{path}", json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()  # type: ignore[no-any-return]


def test_a_patron_with_fees_as_staff_see_it(c: TestClient) -> None:
    patron = post(c, "/patrons", {"cpr": "010190-1234", "name": "Ida Hansen"}, 201)
    assert patron["id"] > 0
    assert patron["cpr"] == "010190-XXXX"
    assert patron["debtor"] == {"id_type": "cpr", "id": "010190-XXXX"}
    fee = post(c, "/fees", {"patron_id": patron["id"], "kind": "fee", "amount": "12,50"}, 201)
    assert (fee["amount_ore"], fee["amount"]) == (1250, "12,50 kr.")
    assert (fee["open_ore"], fee["status"], fee["debtor_state"]) == (1250, "open", "sent")
    assert fee["creation_date"] == "2026-03-02" and fee["old"] is False
    post(c, "/fees", {"patron_id": patron["id"], "kind": "fee", "amount_ore": 18750}, 201)
    r = c.get(f"{API}/patrons/{patron['id']}")
    assert r.status_code == 200
    body = r.json()
    assert [f["id"] for f in body["fees"]] == [fee["id"], fee["id"] + 1]
    assert (body["open_total_ore"], body["open_total"], body["blocked"]) == (
        20000,
        "200,00 kr.",
        True,
    )
    assert CPR not in r.text


def test_amounts_are_text_or_ore_and_must_be_positive(c: TestClient) -> None:
    pid = post(c, "/patrons", {"cpr": CPR}, 201)["id"]
    base = {"patron_id": pid, "kind": "fee"}
    assert post(c, "/fees", {**base, "amount": "12.50"}, 201)["amount_ore"] == 1250
    assert problem(c, "/fees", {**base, "amount": "1,5", "amount_ore": 150}, 422)["type"].endswith(
        "invalid-amount"
    )
    assert problem(c, "/fees", base, 422)["type"].endswith("invalid-amount")
    assert problem(c, "/fees", {**base, "amount": "tolv"}, 422)["type"].endswith("invalid-amount")
    assert problem(c, "/fees", {**base, "amount_ore": 0}, 422)["type"].endswith("invalid-amount")
    assert problem(c, "/fees", {**base, "amount": "-3,00"}, 422)["type"].endswith("invalid-amount")
    assert problem(c, "/fees", {**base, "amount_ore": "100"}, 422)["type"].endswith(
        "invalid-request"
    )
    assert problem(c, "/fees", {**base, "kind": "parking", "amount_ore": 100}, 422)[
        "type"
    ].endswith("unknown-claim-kind")
    future = {**base, "amount_ore": 100, "creation_date": "2026-03-03"}
    assert problem(c, "/fees", future, 422)["type"].endswith("invalid-creation-date")
    assert problem(c, "/fees", {**base, "patron_id": pid + 9, "amount_ore": 1}, 404)[
        "type"
    ].endswith("unknown-patron")
    assert problem(c, "/patrons", {"cpr": "3213901234"}, 422)["type"].endswith("invalid-cpr")


def test_regulation_and_history_over_http(c: TestClient, lib: System) -> None:
    pid = post(c, "/patrons", {"cpr": CPR}, 201)["id"]
    fid = post(c, "/fees", {"patron_id": pid, "kind": "fee", "amount": "100,00"}, 201)["id"]
    down = post(c, f"/fees/{fid}/write-down", {"amount": "25,00", "reason": "goodwill"})
    assert down["open_ore"] == 7500
    assert down["events"][-1]["kind"] == "written_down"
    assert down["events"][-1]["amount_ore"] == -2500
    assert problem(c, f"/fees/{fid}/write-up", {"amount_ore": 500}, 422)  # why is required
    up = post(c, f"/fees/{fid}/write-up", {"amount_ore": 500, "reason": "wrong amount"})
    assert up["open"] == "80,00 kr."
    below = problem(c, f"/fees/{fid}/write-down", {"amount": "80,01", "reason": "goodwill"}, 422)
    assert below["type"].endswith("write-down-below-zero")
    cancelled = post(c, f"/fees/{fid}/cancel", {"reason": "returned"})
    assert (cancelled["status"], cancelled["open_ore"]) == ("cancelled", 0)
    again = problem(c, f"/fees/{fid}/cancel", {"reason": "twice"}, 409)
    assert again["type"].endswith("fee-not-open")
    got = c.get(f"{API}/fees/{fid}").json()
    assert [e["kind"] for e in got["events"]] == [
        "created",
        "sent",
        "written_down",
        "written_up",
        "cancelled",
    ]
    assert [e["sequence"] for e in got["events"]] == [None, 1, 2, 3, 4]
    assert len(sent(lib, claim_id=fid)) == 4
    assert c.get(f"{API}/fees/{fid + 99}").status_code == 404


def test_desk_payment_of_an_old_fee_only(c: TestClient) -> None:
    pid = post(c, "/patrons", {"cpr": CPR}, 201)["id"]
    old = post(
        c,
        "/fees",
        {"patron_id": pid, "kind": "fee", "amount": "20", "creation_date": "2025-12-31"},
        201,
    )
    assert old["old"] is True and old["debtor_state"] == "not_sent"
    assert old["payable_in_library"] is True
    new = post(c, "/fees", {"patron_id": pid, "kind": "fee", "amount": "20"}, 201)
    paid = post(c, f"/fees/{old['id']}/pay", {"order_id": "till-1"})
    assert (paid["status"], paid["paid_date"]) == ("paid", "2026-03-02")
    refused = problem(c, f"/fees/{new['id']}/pay", {}, 409)
    assert refused["type"].endswith("fee-in-debtor")
    assert "debtor system" in refused["detail"]


def test_held_and_rejected_fees_show_why(c: TestClient, lib: System) -> None:
    pid = post(c, "/patrons", {"cpr": CPR}, 201)["id"]
    held = post(c, "/fees", {"patron_id": pid, "kind": "compensation", "amount": "300"}, 201)
    assert held["debtor_state"] == "held"
    assert "not mapped in the sortiment of municipality 101" in held["debtor_reason"]
    fee = post(c, "/fees", {"patron_id": pid, "kind": "fee", "amount": "30"}, 201)
    [registration] = sent(lib)
    answer(
        lib,
        RegistrationRejected(
            municipality="101",
            occurred_at=lib.clock.now(),
            claim_id=str(fee["id"]),
            rejected_message_id=registration.message_id,
            rejected_type=registration.type,
            code="unknown-debtor",
            reason="the CPR number is not known",
        ),
    )
    got = c.get(f"{API}/fees/{fee['id']}").json()
    assert (got["debtor_state"], got["debtor_reason"]) == (
        "rejected",
        "the CPR number is not known",
    )
    account = post(c, f"/patrons/{pid}/change-debtor", {"cpr": CPR, "guardian_cpr": GUARDIAN})
    assert account["guardian_cpr"] == "020265-XXXX"
    assert account["debtor"]["id"] == "020265-XXXX"
    assert {f["id"]: f["debtor_state"] for f in account["fees"]} == {
        held["id"]: "held",
        fee["id"]: "sent",
    }
    assert sent(lib)[-1].payload["debtor"] == {"id_type": "cpr", "id": GUARDIAN}


def test_only_library_staff_of_the_municipality(lib: System) -> None:
    c = TestClient(create_app(lib), raise_server_exceptions=False)
    c.headers["Authorization"] = f"Bearer {demo_key(Role.DEBTOR_STAFF)}"
    assert c.post(f"{API}/patrons", json={"cpr": CPR}).status_code == 403
    c.headers["Authorization"] = f"Bearer {demo_key(Role.LIBRARY)}"
    assert c.post("/api/v1/461/patrons", json={"cpr": CPR}).status_code == 403
