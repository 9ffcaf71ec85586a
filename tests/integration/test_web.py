"""The HTTP skeleton: health, metrics, problem+json, authentication, tenancy."""

from __future__ import annotations

from fastapi.testclient import TestClient

from fbs_debitor.bootstrap import System
from fbs_debitor.demo import demo_key, seed_demo
from fbs_debitor.tenants.model import Role
from fbs_debitor.tenants.service import keys as tenant_keys
from fbs_debitor.tenants.service import municipalities as tenants
from fbs_debitor.web.app import create_app


def client(system: System) -> TestClient:
    return TestClient(create_app(system), raise_server_exceptions=False)


def test_healthz_and_metrics(system: System) -> None:
    c = client(system)
    health = c.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert health.json()["database"] == system.db.dialect
    metrics = c.get("/metrics")
    assert metrics.status_code == 200
    assert "fbs_debitor_leg_delay_seconds" in metrics.text


def test_unknown_route_is_problem_json(system: System) -> None:
    r = client(system).get("/nope")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 404


def test_api_needs_a_key_of_the_right_municipality_and_role(system: System) -> None:
    seed_demo(system)
    with system.db.begin() as conn:
        tenants.create_municipality(
            conn,
            system.clock,
            kommunekode="461",
            name="Odense",
            agency_id="746100",
            creditor_number="81111111",
        )
        odense_admin = tenant_keys.create_api_key(conn, system.clock, "461", Role.ADMIN, "test")
    c = client(system)
    missing = c.get("/api/v1/101/municipality")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    r = c.get("/api/v1/101/municipality", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    assert r.json()["type"].endswith("unknown-api-key")
    r = c.get("/api/v1/101/municipality", headers={"Authorization": f"Bearer {odense_admin}"})
    assert r.status_code == 403
    assert r.json()["type"].endswith("wrong-municipality")
    library = {"Authorization": f"Bearer {demo_key(Role.LIBRARY)}"}
    r = c.get("/api/v1/101/municipality", headers=library)
    assert r.status_code == 403
    assert r.json()["type"].endswith("wrong-role")
    admin = {"Authorization": f"Bearer {demo_key(Role.ADMIN)}"}
    r = c.get("/api/v1/101/municipality", headers=admin)
    assert r.status_code == 200
    assert r.json()["agency_id"] == "710100"


def test_sortiment_mapping_validates_and_lists(system: System) -> None:
    seed_demo(system)
    c = client(system)
    admin = {"Authorization": f"Bearer {demo_key(Role.ADMIN)}"}
    r = c.put(
        "/api/v1/101/sortiment/bogus",
        json={"debtor_classification": "X", "psrm_claim_type": "Y"},
        headers=admin,
    )
    assert r.status_code == 422
    assert "unknown claim kind" in r.json()["detail"]
    r = c.put(
        "/api/v1/101/sortiment/fee",
        json={"debtor_classification": "BIB-GEBYR", "psrm_claim_type": "BIBGEB"},
        headers=admin,
    )
    assert r.status_code == 200
    listing = {
        row["claim_kind"]: row for row in c.get("/api/v1/101/sortiment", headers=admin).json()
    }
    assert listing["fee"]["debtor_classification"] == "BIB-GEBYR"
    assert listing["compensation"]["debtor_classification"] is None
    assert listing["compensation"]["legal_basis"] == "civil"
