"""Amounts a person types that no fee can have (40 digits, beyond a 64-bit integer) get a clear
problem, never a 500. Two limits (decision 0030): one library fee (created, after a write-up, or
registered by another library system) is at most ``core.money.MAX_FEE_ORE`` (100.000 kr.); any
other amount (a write-down, a payment, a refund) at most ``MAX_AMOUNT_ORE`` (10 milliarder kr.)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from fbs_debitor.bootstrap import System
from fbs_debitor.demo import demo_key, seed_demo
from fbs_debitor.tenants.model import Role
from fbs_debitor.web.app import create_app

API = "/api/v1/101"
LIMIT_ORE = 10**12  # 10.000.000.000,00 kr., written out here, not read from the engine
FEE_LIMIT_ORE = 100_000_00  # 100.000,00 kr.
TOO_LARGE_FEE: list[dict[str, Any]] = [
    {"amount": "100.000,01"},
    {"amount_ore": FEE_LIMIT_ORE + 1},
    {"amount": "92.233.720.368.547.758,07"},
]
TOO_LARGE: list[dict[str, Any]] = [
    {"amount": "9" * 40},
    {"amount": "10.000.000.000,01"},
    {"amount_ore": LIMIT_ORE + 1},
    {"amount_ore": 2**63},
    {"amount_ore": 10**30},
]


@pytest.fixture
def c(system: System) -> TestClient:
    seed_demo(system)
    system.drain()
    client = TestClient(create_app(system), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {demo_key(Role.LIBRARY)}"
    return client


def _fee(c: TestClient, **amount: Any) -> Any:
    patron = c.post(f"{API}/patrons", json={"cpr": "0101901234", "name": "Ida"}).json()
    return c.post(f"{API}/fees", json={"patron_id": patron["id"], "kind": "fee", **amount})


@pytest.mark.parametrize(
    "amount", TOO_LARGE + TOO_LARGE_FEE, ids=lambda a: str(next(iter(a.values())))[:14]
)
def test_a_fee_beyond_the_limit_is_refused_with_its_reason(c: TestClient, amount: Any) -> None:
    r = _fee(c, **amount)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/invalid-amount")
    assert "at most 100.000,00 kr." in r.json()["detail"]
    patron = c.get(f"{API}/patrons/1").json()
    assert patron["fees"] == []  # nothing was stored


def test_a_fee_at_the_limit_is_taken(c: TestClient) -> None:
    r = _fee(c, amount_ore=FEE_LIMIT_ORE)
    assert r.status_code == 201, r.text
    assert r.json()["amount_ore"] == FEE_LIMIT_ORE


def test_write_ups_never_take_a_fee_beyond_the_limit(c: TestClient) -> None:
    fee = _fee(c, amount_ore=FEE_LIMIT_ORE - 100).json()
    r = c.post(f"{API}/fees/{fee['id']}/write-up", json={"amount_ore": 101, "reason": "test"})
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith("/invalid-amount")
    assert "at most 100.000,00 kr." in r.json()["detail"]
    assert c.get(f"{API}/fees/{fee['id']}").json()["open_ore"] == FEE_LIMIT_ORE - 100
    r = c.post(f"{API}/fees/{fee['id']}/write-up", json={"amount_ore": 100, "reason": "test"})
    assert r.status_code == 200, r.text
    assert r.json()["open_ore"] == FEE_LIMIT_ORE


@pytest.mark.parametrize("verb", ["write-up", "write-down"])
@pytest.mark.parametrize("amount", TOO_LARGE, ids=lambda a: str(next(iter(a.values())))[:14])
def test_a_regulation_beyond_the_limit_is_refused(c: TestClient, verb: str, amount: Any) -> None:
    fee = _fee(c, amount="20,00").json()
    r = c.post(f"{API}/fees/{fee['id']}/{verb}", json={**amount, "reason": "test"})
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith("/invalid-amount")
    after = c.get(f"{API}/fees/{fee['id']}")
    assert after.json()["amount_ore"] == 2000  # nothing changed


@pytest.mark.parametrize("amount_ore", [FEE_LIMIT_ORE + 1, LIMIT_ORE + 1, 2**63, 10**30])
def test_a_registration_beyond_the_limit_is_rejected_not_a_server_error(
    c: TestClient, amount_ore: int
) -> None:
    body = {
        "message_type": "registration.ClaimRegistered.v1",
        "message_id": "0190c6c2-6f0e-7000-8000-000000000001",
        "payload": {
            "municipality": "101",
            "occurred_at": "2026-03-02T09:00:00+00:00",
            "claim_id": "other-1",
            "patron_id": "p-1",
            "debtor": {"id_type": "cpr", "id": "0101901234"},
            "claim_kind": "fee",
            "debtor_classification": "BIB-GEBYR",
            "psrm_claim_type": "BIBGEB",
            "amount_ore": amount_ore,
            "created_on": "2026-03-01",
        },
    }
    integration = {"Authorization": f"Bearer {demo_key(Role.INTEGRATION)}"}
    r = c.post("/services/debitorregistrering/v1", json=body, headers=integration)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected"
    assert r.json()["code"] == "amount-too-large"
