"""The collection routes a debtor clerk uses: the status with the list for a person, the claims
and runs, a dry run for a date, and the resubmission of a claim PSRM returned (with a reason,
audited); other roles are refused (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from fbs_debitor.collection.adapters.psrm.standin_rules import StandInRules
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.db import Database
from fbs_debitor.tenants.model import Role
from fbs_debitor.tenants.service import keys as tenant_keys
from fbs_debitor.tenants.service.audit import list_audit
from fbs_debitor.web.app import create_app
from tests.integration.collection_support import SRB, Chain, K, chain_system

UNKNOWN = "2110625629"
URL = f"/api/v1/{K}/collection"


def auth(role: Role = Role.DEBTOR_STAFF) -> dict[str, str]:
    return {"Authorization": f"Bearer key-{role.value}"}


def test_a_clerk_sees_the_returned_claim_and_resubmits_it(
    database: Database, clock: SettableClock, tmp_path: Path
) -> None:
    system = chain_system(database, clock, StandInRules(unknown_debtors=frozenset({UNKNOWN})))
    chain = Chain(system, tmp_path)
    with system.db.begin() as conn:
        for role in (Role.DEBTOR_STAFF, Role.LIBRARY, Role.OPS):
            tenant_keys.create_api_key(conn, clock, K, role, role.value, f"key-{role.value}")
    client = TestClient(create_app(system), raise_server_exceptions=False)
    rejected = chain.fee(chain.patron(UNKNOWN))
    taken = chain.fee(chain.patron())
    waits = chain.fee(chain.patron(), 30000, kind="compensation")
    chain.day(SRB + timedelta(days=14))
    chain.day(SRB + timedelta(days=34))
    day = SRB + timedelta(days=120)

    dry = client.get(f"{URL}/eligibility", params={"date": day.isoformat()}, headers=auth())
    assert dry.status_code == 200
    assert dry.json()["eligible"] == 2
    assert sorted(dry.json()["eligible_claims"]) == sorted([rejected, taken])
    assert dry.json()["not_eligible"] == {"unacknowledged": 1}
    assert chain.collection_rows() == 0  # a dry run hands nothing over

    chain.handover(day)
    chain.sync()
    status = client.get(URL, headers=auth()).json()
    assert status["claims_by_state"] == {"done": 1, "returned": 1}
    waiting = {w["claim_id"]: w for w in status["waiting_for_a_person"]}
    assert set(waiting) == {rejected, waits}
    assert waiting[rejected]["reason"] == "returned-by-psrm"
    assert "SKYLDNER_UKENDT" in waiting[rejected]["text"]
    assert "211062-XXXX" in waiting[rejected]["text"] or UNKNOWN not in waiting[rejected]["text"]
    assert waiting[waits]["reason"] == "unacknowledged"
    returned = client.get(f"{URL}/claims", params={"state": "returned"}, headers=auth()).json()
    assert [c["claim_id"] for c in returned["claims"]] == [rejected]
    runs = client.get(f"{URL}/runs", headers=auth()).json()["runs"]
    assert runs[0]["handed_over"] == 2 and runs[0]["not_eligible"] == {"unacknowledged": 1}

    for role in (Role.LIBRARY, Role.OPS):
        assert client.get(URL, headers=auth(role)).status_code == 403
    body = {"reason": "CPR rettet efter opslag"}
    assert (
        client.post(f"{URL}/claims/{taken}/resubmit", json=body, headers=auth()).status_code == 409
    )
    assert client.post(f"{URL}/claims/999/resubmit", json=body, headers=auth()).status_code == 404
    no_reason = client.post(f"{URL}/claims/{rejected}/resubmit", json={}, headers=auth())
    assert no_reason.status_code == 422
    done = client.post(f"{URL}/claims/{rejected}/resubmit", json=body, headers=auth())
    assert done.status_code == 200 and done.json()["state"] == "released"
    with system.db.connect() as conn:
        entry = list_audit(conn, K, limit=1)[0]
    assert entry["reason"] == body["reason"]
    assert chain.handover(day + timedelta(days=1)).claim_ids == [rejected]
    chain.agreed()
