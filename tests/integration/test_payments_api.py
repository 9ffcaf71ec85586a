"""The payments HTTP: the till (payable invoices, payments with a receipt as idempotency key) and
bank files in / bank entries out, with the roles that may call them."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from fbs_debitor.bootstrap import System
from fbs_debitor.demo import demo_key, seed_demo
from fbs_debitor.tenants.model import Role
from fbs_debitor.web.app import create_app
from tests.integration.payments_support import (
    CAMT,
    COMPANY,
    PERSON,
    PERSON_MASKED,
    SINGLE,
    UNDER,
    K,
    counts,
    issue,
    payments_only,
    sent,
    upload,
)

B = f"/api/v1/{K}"


@pytest.fixture
def pay(system: System) -> System:
    seed_demo(system)
    pay = payments_only(system)
    pay.drain()
    return pay


@pytest.fixture
def client(pay: System) -> TestClient:
    return TestClient(create_app(pay), raise_server_exceptions=False)


def auth(role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {demo_key(role)}"}


TILL = auth(Role.CASH_REGISTER)
STAFF = auth(Role.DEBTOR_STAFF)


def test_the_till_finds_a_persons_invoice_by_cpr_and_payment_id(
    pay: System, client: TestClient
) -> None:
    issue(pay, "1", SINGLE, 12500, claim_ids=["c1", "c2"])
    issue(pay, "2", UNDER, 9000, debtor="010180-XXXX")  # the same birth date, someone else?
    without = client.post(f"{B}/payable", json={"debtor": PERSON}, headers=TILL)
    assert without.status_code == 422
    assert without.json()["type"].endswith("payment-id-required")
    found = client.post(f"{B}/payable", json={"debtor": PERSON, "payment_id": SINGLE}, headers=TILL)
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["debtor"] == PERSON_MASKED
    assert [i["invoice_id"] for i in body["invoices"]] == ["1"]
    assert body["invoices"][0]["claim_ids"] == ["c1", "c2"]
    assert (body["total_due_ore"], body["total_due"]) == (12500, "125,00 kr.")


def test_the_till_lists_a_companys_invoices(pay: System, client: TestClient) -> None:
    issue(pay, "1", SINGLE, 12500, debtor=COMPANY)
    issue(pay, "2", UNDER, 9000, debtor=COMPANY)
    found = client.post(f"{B}/payable", json={"debtor": COMPANY}, headers=TILL)
    assert [i["invoice_id"] for i in found.json()["invoices"]] == ["1", "2"]
    assert found.json()["total_due_ore"] == 21500


def _pay(client: TestClient, receipt: str, **body: Any) -> Any:
    return client.post(
        f"{B}/payments",
        json={"debtor": PERSON, **body},
        headers={**TILL, "Idempotency-Key": receipt},
    )


def test_a_payment_at_the_till_is_sent_once_per_receipt(pay: System, client: TestClient) -> None:
    issue(pay, "1", SINGLE, 12500, claim_ids=["c1", "c2"])
    first = _pay(client, "R-1", payment_ids=[SINGLE])
    assert first.status_code == 201, first.text
    answer = first.json()
    assert (answer["amount_ore"], answer["invoice_ids"], answer["claim_ids"]) == (
        12500,
        ["1"],
        ["c1", "c2"],
    )
    assert answer["payment_ref"] == "register:R-1" and answer["replayed"] is False
    before = counts(pay)
    again = _pay(client, "R-1", payment_ids=[SINGLE])
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert {**again.json(), "replayed": False} == answer
    assert counts(pay) == before
    [message] = sent(pay, "PaymentReceived")
    p = message.payload
    assert message.leg == "leg3"
    assert (p["channel"], p["payment_ref"], p["amount_ore"]) == (
        "cash-register",
        "register:R-1",
        12500,
    )
    assert p["debtor"] == {"id_type": "cpr", "id": PERSON}
    assert (p["payment_id"], p["invoice_id"], p["claim_ids"]) == (SINGLE, "1", ["c1", "c2"])
    other = _pay(client, "R-1", invoice_ids=["1"], amount="50,00")
    assert other.status_code == 409
    assert other.json()["type"].endswith("receipt-reused")


def test_the_till_pays_chosen_claims_with_an_amount(pay: System, client: TestClient) -> None:
    issue(pay, "1", SINGLE, 12500, claim_ids=["c1", "c2"])
    no_amount = _pay(client, "R-2", invoice_ids=["1"], claim_ids=["c2"])
    assert no_amount.status_code == 422
    stray = _pay(client, "R-2", invoice_ids=["1"], claim_ids=["c9"], amount="10,00")
    assert stray.status_code == 422
    ok = client.post(
        f"{B}/payments",
        json={
            "debtor": PERSON,
            "receipt": "R-2",
            "invoice_ids": ["1"],
            "claim_ids": ["c2"],
            "amount": "45,50",
        },
        headers=TILL,
    )
    assert ok.status_code == 201, ok.text
    assert (ok.json()["amount_ore"], ok.json()["claim_ids"]) == (4550, ["c2"])


def test_the_till_refuses_what_it_may_not_pay(pay: System, client: TestClient) -> None:
    issue(pay, "1", SINGLE, 12500, debtor="020290-XXXX")
    other = _pay(client, "R-3", invoice_ids=["1"])
    assert other.status_code == 422 and other.json()["type"].endswith("invoice-of-another-debtor")
    assert _pay(client, "R-3", invoice_ids=["404"]).status_code == 404
    assert _pay(client, "R-3").status_code == 422  # no invoice chosen
    no_receipt = client.post(
        f"{B}/payments", json={"debtor": PERSON, "invoice_ids": ["1"]}, headers=TILL
    )
    assert no_receipt.json()["type"].endswith("receipt-required")
    staff = client.post(f"{B}/payments", json={"debtor": PERSON}, headers=STAFF)
    assert staff.status_code == 403
    assert sent(pay, "PaymentReceived") == []


def test_a_bank_file_uploaded_as_the_body_is_imported(pay: System, client: TestClient) -> None:
    issue(pay, "1", SINGLE, 12500)
    body = (CAMT / "dk-single-fik.xml").read_bytes()
    headers = {**STAFF, "Content-Type": "application/xml"}
    dry = upload(client, B, body, headers, {"dry_run": "true"})
    assert dry["state"] == "done", dry
    assert (dry["result"]["matched"], dry["result"]["dry_run"], dry["dry_run"]) == (1, True, True)
    assert sent(pay, "PaymentReceived") == []
    done = upload(client, B, body, headers, {"filename": "nets.xml"})
    assert (done["state"], done["filename"], done["error"]) == ("done", "nets.xml", None)
    summary = done["result"]
    assert (summary["file"], summary["entries"], summary["matched"], summary["total_ore"]) == (
        "nets.xml",
        1,
        1,
        12500,
    )
    assert summary["errors"] == []
    assert done["payments_read"] == 1
    again = upload(client, B, body, headers)["result"]
    assert (again["duplicate"], again["matched"]) == (1, 0)
    listed = client.get(f"{B}/bank-entries", params={"state": "matched"}, headers=STAFF).json()
    assert [e["key"] for e in listed["entries"]] == ["DB2026030200001"]
    assert listed["entries"][0]["amount_ore"] == 12500
    assert len(sent(pay, "PaymentReceived")) == 1


def test_a_bad_bank_file_is_refused_whole(pay: System, client: TestClient) -> None:
    wrong = (CAMT / "invalid" / "dk-no-statement.xml").read_bytes()
    headers = {**auth(Role.INTEGRATION), "Content-Type": "application/xml"}
    refused = upload(client, B, wrong, headers)  # its head is camt: the schema check is the job's
    assert refused["state"] == "failed" and refused["result"] is None
    assert refused["error"]["code"] == "bank-file-invalid"
    assert "not valid against" in refused["error"]["detail"]
    not_xml = client.post(f"{B}/bank-files", content=b"hello", headers=headers)
    assert not_xml.status_code == 422
    assert not_xml.json()["type"].endswith("bank-file-not-xml")
    assert client.post(f"{B}/bank-files", content=b"", headers=headers).status_code == 422
    multipart = client.post(
        f"{B}/bank-files", files={"file": ("a.xml", wrong)}, headers=auth(Role.INTEGRATION)
    )
    assert multipart.status_code == 422
    assert client.post(f"{B}/bank-files", content=wrong, headers={**TILL}).status_code == 403
    assert counts(pay)["files"] == 0
    other = client.get(f"{B}/bank-files/1", headers=TILL)
    assert other.status_code == 403
    assert client.get(f"{B}/bank-files/999", headers=STAFF).status_code == 404
    listed = client.get(f"{B}/bank-entries", params={"state": "nonsense"}, headers=STAFF)
    assert listed.status_code == 422
