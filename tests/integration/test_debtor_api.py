"""The debtor's HTTP: the registration service endpoint (JSON and XML) and the staff views."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fbs_debitor.bootstrap import System
from fbs_debitor.contracts.registration import (
    ClaimRegistered,
    ClaimWrittenDown,
    DebtorRef,
    RegistrationAccepted,
)
from fbs_debitor.contracts.xml import to_xml
from fbs_debitor.debtor import views
from fbs_debitor.demo import demo_key, seed_demo
from fbs_debitor.tenants.model import Role
from fbs_debitor.tenants.service import keys as tenant_keys
from fbs_debitor.tenants.service import municipalities as tenants
from fbs_debitor.web.app import create_app
from tests.factories import claim_registered

URL = "/services/debitorregistrering/v1"
T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
CPR = "0101801234"


@pytest.fixture
def client(system: System) -> TestClient:
    seed_demo(system)
    system.drain()
    return TestClient(create_app(system), raise_server_exceptions=False)


def auth(role: Role = Role.INTEGRATION) -> dict[str, str]:
    return {"Authorization": f"Bearer {demo_key(role)}"}


def registration(claim_id: str = "ext-1", **changes: Any) -> ClaimRegistered:
    """An acknowledged replacement charge of 349,00 kr."""
    fields: dict[str, Any] = {
        "occurred_at": T0,
        "patron_id": "patron-1",
        "debtor": CPR,
        "claim_kind": "compensation",
        "debtor_classification": "BIB-ERST",
        "psrm_claim_type": "BIBERST",
        "amount_ore": 34900,
        "acknowledged": True,
    }
    return claim_registered(claim_id, **{**fields, **changes})


def post_json(
    client: TestClient, message: Any, message_id: str | None = None, role: Role = Role.INTEGRATION
) -> Any:
    return client.post(
        URL,
        json={
            "message_type": message.MESSAGE_TYPE,
            "message_id": message_id or str(uuid.uuid4()),
            "payload": message.to_payload(),
        },
        headers=auth(role),
    )


def post_xml(client: TestClient, body: bytes, message_id: str | None, **headers: str) -> Any:
    all_headers = {**auth(), "Content-Type": "application/xml", **headers}
    if message_id is not None:
        all_headers["Message-Id"] = message_id
    return client.post(URL, content=body, headers=all_headers)


def test_json_registration_is_applied_synchronously(client: TestClient, system: System) -> None:
    r = post_json(client, registration())
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"
    assert r.json()["claim_id"] == "ext-1"
    assert r.json()["balance_ore"] == 34900
    down = ClaimWrittenDown(municipality="101", occurred_at=T0, claim_id="ext-1", amount_ore=900)
    r = post_json(client, down, role=Role.LIBRARY)
    assert r.json() == {**r.json(), "status": "accepted", "balance_ore": 34000}
    with system.db.connect() as conn:
        view = views.get_claim(conn, "101", "ext-1")
    assert view["balance_ore"] == 34000
    assert view["leg1_ms"] is None  # the sender's enqueue time is unknown over HTTP
    assert view["acknowledged"] is True and view["legal_basis"] == "civil"


def test_business_rejection_is_an_answer_not_an_error(client: TestClient) -> None:
    r = post_json(client, registration(debtor=DebtorRef(id_type="cpr", id="3213451234")))
    assert r.status_code == 200
    assert r.json()["status"] == "rejected"
    assert r.json()["code"] == "invalid-cpr"
    r = post_json(
        client, ClaimWrittenDown(municipality="101", occurred_at=T0, claim_id="x", amount_ore=1)
    )
    assert r.json()["code"] == "unknown-claim"


def test_over_http_nothing_is_answered_through_the_outbox(
    client: TestClient, system: System
) -> None:
    from sqlalchemy import func, select

    from fbs_debitor.messaging.store import outbox

    post_json(client, registration())
    with system.db.connect() as conn:
        debtor_answers = conn.execute(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.source == "debtor", outbox.c.message_type.like("registration.%"))
        ).scalar_one()
    assert debtor_answers == 0  # (the claim's InvoiceIssued, leg 2, does go through the outbox)


def test_duplicate_message_id_changes_nothing(client: TestClient, system: System) -> None:
    mid = str(uuid.uuid4())
    assert post_json(client, registration(), mid).json()["status"] == "accepted"
    down = ClaimWrittenDown(municipality="101", occurred_at=T0, claim_id="ext-1", amount_ore=900)
    r = post_json(client, down, mid)
    assert r.status_code == 200
    assert r.json() == {"status": "duplicate", "message_id": mid}
    with system.db.connect() as conn:
        assert views.claim_balances(conn, "101") == {"ext-1": 34900}


@pytest.mark.parametrize(
    "body",
    [
        {"message_type": "registration.ClaimRegistered.v1", "payload": {}},
        {"message_type": "nope.v1", "message_id": str(uuid.uuid4()), "payload": {}},
        {
            "message_type": RegistrationAccepted.MESSAGE_TYPE,
            "message_id": str(uuid.uuid4()),
            "payload": {},
        },
        {
            "message_type": "registration.ClaimRegistered.v1",
            "message_id": "not-a-uuid",
            "payload": registration().to_payload(),
        },
        {
            "message_type": "registration.ClaimRegistered.v1",
            "message_id": str(uuid.uuid4()),
            "payload": {**registration().to_payload(), "amount_ore": "many"},
        },
    ],
)
def test_malformed_json_requests_are_422(client: TestClient, body: dict[str, Any]) -> None:
    r = client.post(URL, json=body, headers=auth())
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"


def test_not_json_at_all_is_422_and_other_media_types_415(client: TestClient) -> None:
    r = client.post(URL, content=b"{", headers={**auth(), "Content-Type": "application/json"})
    assert r.status_code == 422
    r = client.post(URL, content=b"x", headers={**auth(), "Content-Type": "text/plain"})
    assert r.status_code == 415


def test_xml_registration(client: TestClient, system: System) -> None:
    mid = str(uuid.uuid4())
    body = to_xml(registration("xml-1"), "registration")
    r = post_xml(client, body, mid)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"
    assert r.json()["balance_ore"] == 34900
    r = post_xml(client, body, mid, **{"Content-Type": "text/xml; charset=utf-8"})
    assert r.json()["status"] == "duplicate"
    r = post_xml(client, body, str(uuid.uuid4()))
    assert r.json()["status"] == "rejected"
    assert r.json()["code"] == "claim-exists"


@pytest.mark.parametrize(
    ("mutate", "detail"),
    [
        (lambda b: b.replace(b"<amount_ore>34900", b"<amount_ore>abc"), "XSD"),
        (
            lambda b: b.replace(b"<claim_kind>", b"<kind>").replace(b"</claim_kind>", b"</kind>"),
            "XSD",
        ),
        (lambda b: b[:-30], "well-formed"),
        (
            lambda b: b.replace(b"<municipality>101", b"<municipality>1010"),
            "municipality",
        ),
    ],
)
def test_invalid_xml_is_422_with_the_reason(client: TestClient, mutate: Any, detail: str) -> None:
    body = mutate(to_xml(registration(), "registration"))
    r = post_xml(client, body, str(uuid.uuid4()))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert detail in r.json()["detail"]


def test_xml_without_message_id_or_of_an_answer_is_422(client: TestClient) -> None:
    r = post_xml(client, to_xml(registration(), "registration"), None)
    assert r.status_code == 422
    answer = RegistrationAccepted(
        municipality="101",
        occurred_at=T0,
        claim_id="x",
        accepted_message_id="m",
        accepted_type="t",
        debtor_balance_ore=0,
    )
    r = post_xml(client, to_xml(answer, "registration"), str(uuid.uuid4()))
    assert r.status_code == 422
    assert "not a registration message" in r.json()["detail"]


def test_xml_with_a_dtd_is_refused(client: TestClient) -> None:
    body = to_xml(registration(), "registration").replace(
        b"<?xml version='1.0' encoding='UTF-8'?>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    )
    body = body.replace(b"<invoice_text></invoice_text>", b"<invoice_text>&e;</invoice_text>")
    r = post_xml(client, body, str(uuid.uuid4()))
    assert r.status_code == 422
    assert "root:" not in r.text
    assert "DTD" in r.json()["detail"]


def test_the_caller_must_belong_to_the_message_municipality(
    client: TestClient, system: System
) -> None:
    with system.db.begin() as conn:
        tenants.create_municipality(
            conn,
            system.clock,
            kommunekode="461",
            name="Odense",
            agency_id="746100",
            creditor_number="81111111",
        )
        odense = tenant_keys.create_api_key(conn, system.clock, "461", Role.INTEGRATION, "t")
    r = client.post(
        URL,
        json={
            "message_type": ClaimRegistered.MESSAGE_TYPE,
            "message_id": str(uuid.uuid4()),
            "payload": registration().to_payload(),
        },
        headers={"Authorization": f"Bearer {odense}"},
    )
    assert r.status_code == 403
    assert r.json()["type"].endswith("wrong-municipality")
    assert post_json(client, registration(), role=Role.DEBTOR_STAFF).status_code == 403
    assert client.post(URL, json={}).status_code == 401


def test_staff_views(client: TestClient) -> None:
    post_json(client, registration("ext-1"))
    post_json(client, registration("ext-2", amount_ore=100))
    staff = auth(Role.DEBTOR_STAFF)
    spaced = f"{CPR[:6]} {CPR[6:]}"  # an accepted form: masked all the same
    r = client.post("/api/v1/101/debtors/lookup", json={"debtor": spaced}, headers=staff)
    assert r.status_code == 200, r.text
    ref = r.json()["debtor_ref"]
    assert re.fullmatch(r"D[0-9]+", ref)
    assert spaced not in r.text
    r = client.get(f"/api/v1/101/debtors/{ref}", headers=staff)
    assert r.status_code == 200, r.text
    assert r.json()["debtor"] == "010180-XXXX"
    assert r.json()["balance_ore"] == 35000
    assert CPR not in r.text
    assert [c["claim_id"] for c in r.json()["claims"]] == ["ext-1", "ext-2"]
    assert client.get("/api/v1/101/claims/ext-2", headers=auth(Role.OPS)).status_code == 403
    r = client.get("/api/v1/101/claims/ext-2", headers=staff)
    assert r.status_code == 200
    assert r.json()["postings"][0]["amount_ore"] == 100
    assert "leg1_ms" in r.json()
    assert client.get("/api/v1/101/claims/nope", headers=staff).status_code == 404
    lookup = "/api/v1/101/debtors/lookup"
    assert client.post(lookup, json={"debtor": "12345678901"}, headers=staff).status_code == 422
    assert client.post(lookup, json={"debtor": "2110625629"}, headers=staff).status_code == 404
    # a CPR in the URL is no debtor reference: refused, and not echoed back
    r = client.get(f"/api/v1/101/debtors/{CPR}", headers=staff)
    assert r.status_code == 422
    assert CPR not in r.text
    assert client.get("/api/v1/101/debtors/D999999", headers=staff).status_code == 404
    assert client.get(f"/api/v1/101/debtors/{ref}", headers=auth(Role.LIBRARY)).status_code == 403
    assert client.get(f"/api/v1/461/debtors/{ref}", headers=staff).status_code == 403
    assert client.get("/api/v1/101/ledger-check", headers=staff).json() == {
        "ok": True,
        "problem_count": 0,
        "problems": [],
    }


def test_openapi_documents_both_body_forms(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    body = spec["paths"][URL]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "application/xml"}
    assert "/api/v1/{kommunekode}/debtors/{debtor_ref}" in spec["paths"]
    assert not any("{debtor_id}" in path for path in spec["paths"])


def test_control_characters_in_staff_texts_are_422_never_stored(client: TestClient) -> None:
    """PostgreSQL cannot store a NUL: found by the OpenAPI fuzz test as a 500."""
    post_json(client, registration("ext-1"))
    staff = auth(Role.DEBTOR_STAFF)
    ref = client.post("/api/v1/101/debtors/lookup", json={"debtor": CPR}, headers=staff).json()[
        "debtor_ref"
    ]
    r = client.post(
        f"/api/v1/101/debtors/{ref}/payment-agreement",
        json={"until": "2026-04-01", "note": "aftale\x00"},
        headers=staff,
    )
    assert r.status_code == 422, r.text
    r = client.post(
        "/api/v1/101/claims/ext-1/write-off",
        json={"reason": "ok", "by": "Hans\x00"},
        headers=staff,
    )
    assert r.status_code == 422, r.text
    r = client.post(
        f"/api/v1/101/debtors/{ref}/payment-agreement",
        json={"until": "2026-04-01", "note": "aftalt i telefon\nmed værgen"},
        headers=staff,
    )
    assert r.status_code == 200, r.text
    claim = client.get("/api/v1/101/claims/ext-1", headers=staff).json()
    assert sum(p["amount_ore"] for p in claim["postings"]) == 34900  # nothing written off
