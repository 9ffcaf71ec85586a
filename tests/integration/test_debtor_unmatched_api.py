"""Unmatched payments over HTTP: staff list what waits and assign it; roles and odd references."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fbs_debitor.bootstrap import System
from fbs_debitor.contracts.payment import PaymentReceived
from fbs_debitor.contracts.sending import send
from fbs_debitor.core.money import Money
from fbs_debitor.library.model import FeeStatus
from fbs_debitor.tenants.model import Role
from fbs_debitor.tenants.service import keys as tenant_keys
from fbs_debitor.web.app import create_app
from tests.integration.leg34_support import (
    CPR,
    K,
    assert_reconciled,
    fee_open,
    new_fee,
)
from tests.integration.unmatched_support import (
    PAID_ON,
    row,
    unmatched_in_bank,
)


@pytest.fixture
def client(live: System) -> TestClient:
    with live.db.begin() as conn:
        for role in (Role.DEBTOR_STAFF, Role.OPS, Role.LIBRARY):
            tenant_keys.create_api_key(conn, live.clock, K, role, role.value, f"key-{role.value}")
    return TestClient(create_app(live), raise_server_exceptions=False)


def _auth(role: Role = Role.DEBTOR_STAFF) -> dict[str, str]:
    return {"Authorization": f"Bearer key-{role.value}"}


URL = f"/api/v1/{K}/payments/unmatched"


def test_http_list_and_assign(live: System, client: TestClient, tmp_path: Path) -> None:
    f, pid = new_fee(live, 12000)
    ref = unmatched_in_bank(live, tmp_path, "H1", 12000, "0101901234")
    assert client.get(URL, headers=_auth(Role.OPS)).status_code == 403  # no personal data
    listed = client.get(URL, headers=_auth())
    assert listed.status_code == 200, listed.text
    [waits] = listed.json()["payments"]
    assert (waits["payment_ref"], waits["amount_ore"]) == (ref, 12000)
    assert "0101901234" not in listed.text
    assert client.get(URL, headers=_auth(Role.LIBRARY)).status_code == 403

    body = {"payment_id": pid, "note": "forkert ID på indbetalingen"}
    ops = client.post(f"{URL}/{ref}/assign", json=body, headers=_auth(Role.OPS))
    assert ops.status_code == 403
    assert ops.headers["content-type"].startswith("application/problem+json")
    assert row(live, ref).outcome == "unmatched"

    done = client.post(f"{URL}/{ref}/assign", json=body, headers=_auth())
    assert done.status_code == 200, done.text
    live.drain()
    answer = done.json()
    assert {k: answer[k] for k in ("outcome", "covered_ore", "credit_ore", "claim_ids")} == {
        "outcome": "matched",
        "covered_ore": 12000,
        "credit_ore": 0,
        "claim_ids": [str(f)],
    }
    assert (answer["assigned_ref"], answer["created"]) == (f"assigned:{ref}", True)
    assert fee_open(live, f) == (Money(0), FeeStatus.PAID)
    assert "key:" in row(live, ref).reason  # the key that assigned it
    # the colon percent-encoded reaches the same payment: the first answer again
    again = client.post(f"{URL}/bank%3AH1/assign", json=body, headers=_auth())
    assert again.status_code == 200, again.text
    assert again.json() == answer | {"created": False}
    assert client.get(URL, headers=_auth()).json() == {"payments": []}

    other = client.post(f"{URL}/{ref}/assign", json={"debtor": CPR, "note": "x"}, headers=_auth())
    assert other.status_code == 409
    assert other.json()["type"].endswith("/payment-assigned")
    unknown = client.post(f"{URL}/bank:NOPE/assign", json=body, headers=_auth())
    assert unknown.status_code == 404
    assert unknown.json()["type"].endswith("/unknown-payment")
    no_target = client.post(f"{URL}/{ref}/assign", json={"note": "x"}, headers=_auth())
    assert no_target.status_code == 422
    no_note = client.post(f"{URL}/{ref}/assign", json={"debtor": CPR}, headers=_auth())
    assert no_note.status_code == 422
    assert_reconciled(live)


def test_http_reference_with_a_slash(live: System, client: TestClient) -> None:
    f, _ = new_fee(live, 4000)
    with live.db.begin() as conn:
        send(
            conn,
            PaymentReceived(
                municipality=K,
                occurred_at=live.clock.now(),
                payment_ref="portal:2026/03/abc",
                channel="portal",
                booked_on=PAID_ON,
                amount_ore=4000,
            ),
            source="payments",
        )
    live.drain()
    assert [w["payment_ref"] for w in client.get(URL, headers=_auth()).json()["payments"]] == [
        "portal:2026/03/abc"
    ]
    done = client.post(
        f"{URL}/portal:2026/03/abc/assign",
        json={"claim_ids": [str(f)], "note": "portalbetaling uden reference", "by": "Ole"},
        headers=_auth(),
    )
    assert done.status_code == 200, done.text
    live.drain()
    assert done.json()["claim_ids"] == [str(f)]
    assert fee_open(live, f) == (Money(0), FeeStatus.PAID)
    assert_reconciled(live)
