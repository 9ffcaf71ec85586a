"""Keys (expiry, revocation, rotation, last use), demo keys only in a demo database, the audit
log (who, what, why; append-only; full-CPR reads), and the operator's dead letters."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError

from fbs_debitor.bootstrap import System, build_system
from fbs_debitor.core.errors import UnauthenticatedError
from fbs_debitor.demo import NotADemoDatabase, demo_key, seed_demo
from fbs_debitor.messaging.outbox import publish
from fbs_debitor.messaging.store import outbox
from fbs_debitor.settings import Settings
from fbs_debitor.tenants.model import Role
from fbs_debitor.tenants.service import keys as tenant_keys
from fbs_debitor.tenants.store.tables import api_keys
from fbs_debitor.web.app import create_app
from tests.integration.municipality_support import set_up_kobenhavn

API = "/api/v1/101"
CPR = "1508754321"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def keys(system: System) -> dict[Role, str]:
    set_up_kobenhavn(system)
    with system.db.begin() as conn:
        return {
            r: tenant_keys.create_api_key(conn, system.clock, "101", r, f"test {r.value}")
            for r in Role
        }


@pytest.fixture
def client(system: System, keys: dict[Role, str]) -> TestClient:
    return TestClient(create_app(system), raise_server_exceptions=False)


def test_a_key_expires_is_revoked_and_rotated_with_a_grace(
    system: System, client: TestClient, keys: dict[Role, str]
) -> None:
    admin = bearer(keys[Role.ADMIN])
    made = client.post(
        f"{API}/keys",
        json={"role": "library", "label": "FBS", "expires_at": "2099-01-01T00:00:00Z"},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    key, key_id = made.json()["key"], made.json()["key_id"]
    assert made.json()["expires_at"].startswith("2099-01-01")
    assert client.get(f"{API}/patrons/1", headers=bearer(key)).status_code == 404  # admitted
    listed = {k["key_id"]: k for k in client.get(f"{API}/keys", headers=admin).json()["keys"]}
    assert listed[key_id]["state"] == "active" and listed[key_id]["last_used_at"] is not None
    assert key not in str(listed) and listed[key_id]["created_by"].startswith("key:")

    rotated = client.post(
        f"{API}/keys/{key_id}/rotate", json={"reason": "yearly", "grace_hours": 2}, headers=admin
    )
    assert rotated.status_code == 200, rotated.text
    successor = rotated.json()["key"]
    assert successor != key and rotated.json()["role"] == "library"
    assert client.get(f"{API}/patrons/1", headers=bearer(key)).status_code == 404  # grace
    system.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]
    expired = client.get(f"{API}/patrons/1", headers=bearer(key))
    assert expired.status_code == 401 and expired.json()["type"].endswith("/expired-api-key")
    assert client.get(f"{API}/patrons/1", headers=bearer(successor)).status_code == 404

    new_id = rotated.json()["key_id"]
    no_reason = client.post(f"{API}/keys/{new_id}/revoke", json={}, headers=admin)
    assert no_reason.status_code == 422
    revoked = client.post(f"{API}/keys/{new_id}/revoke", json={"reason": "leaked"}, headers=admin)
    assert revoked.json()["state"] == "revoked" and revoked.json()["revoked_reason"] == "leaked"
    refused = client.get(f"{API}/patrons/1", headers=bearer(successor))
    assert refused.status_code == 401 and refused.json()["type"].endswith("/revoked-api-key")
    assert client.get(f"{API}/keys", headers=bearer(keys[Role.OPS])).status_code == 403


def test_a_key_without_expiry_gets_a_year_and_a_past_expiry_is_refused(system: System) -> None:
    set_up_kobenhavn(system)
    with system.db.begin() as conn:
        key = tenant_keys.create_api_key(conn, system.clock, "101", Role.LIBRARY, "x")
        record = tenant_keys.get_api_key(conn, "101", tenant_keys.key_id_of(key))
        assert record.expires_at == system.clock.now() + timedelta(days=365)
        with pytest.raises(Exception, match="future"):
            tenant_keys.create_api_key(
                conn, system.clock, "101", Role.LIBRARY, "y", expires_at=system.clock.now()
            )


def test_demo_keys_live_only_in_a_demo_database(system: System) -> None:
    seed_demo(system)
    client = TestClient(create_app(system), raise_server_exceptions=False)
    admin = bearer(demo_key(Role.ADMIN))
    assert client.get(f"{API}/municipality", headers=admin).status_code == 200
    # the demo's keys are refused in production
    production = build_system(db=system.db, clock=system.clock, settings=Settings(env="production"))
    with production.db.connect() as conn, pytest.raises(UnauthenticatedError):
        tenant_keys.authenticate(conn, production.clock, demo_key(Role.ADMIN), production=True)
    with pytest.raises(NotADemoDatabase):
        seed_demo(production)


def test_the_demo_refuses_a_database_with_a_real_municipality(system: System) -> None:
    set_up_kobenhavn(system)
    with pytest.raises(NotADemoDatabase, match="real municipalities"):
        seed_demo(system)
    with system.db.begin() as conn:
        # a key with the well-known text cannot be made for a real municipality ...
        with pytest.raises(Exception, match="demo keys exist only"):
            tenant_keys.create_api_key(
                conn, system.clock, "101", Role.ADMIN, "sneaky", demo_key(Role.ADMIN)
            )
        # ... and one left by an older version is refused (the upgrade marked it as a demo key)
        tenant_keys.create_api_key(conn, system.clock, "101", Role.ADMIN, "old", "old-demo-key")
        conn.execute(
            update(api_keys)
            .where(api_keys.c.key_id == tenant_keys.key_id_of("old-demo-key"))
            .values(demo=True)
        )
    with system.db.connect() as conn, pytest.raises(UnauthenticatedError, match="demo"):
        tenant_keys.authenticate(conn, system.clock, "old-demo-key")


def test_staff_actions_and_full_cpr_reads_are_audited_append_only(
    system: System, client: TestClient, keys: dict[Role, str]
) -> None:
    lib, staff, admin = (bearer(keys[r]) for r in (Role.LIBRARY, Role.DEBTOR_STAFF, Role.ADMIN))
    patron = client.post(f"{API}/patrons", json={"cpr": CPR}, headers=lib).json()
    fee = client.post(
        f"{API}/fees",
        json={"patron_id": patron["id"], "kind": "fee", "amount": "50,00"},
        headers=lib,
    ).json()
    down = client.post(
        f"{API}/fees/{fee['id']}/write-down",
        json={"amount": "10,00", "reason": "bogen fundet"},
        headers=lib,
    )
    assert down.status_code == 200, down.text
    nul = client.post(
        f"{API}/fees/{fee['id']}/write-up", json={"amount": "1,00", "reason": "a\x00b"}, headers=lib
    )
    assert nul.status_code == 422  # refused, and still in the log (without the NUL)
    system.drain()
    found = client.post(f"{API}/debtors/lookup", json={"debtor": "150875 4321"}, headers=staff)
    assert found.status_code == 200, found.text
    assert "4321" not in found.text
    ref = found.json()["debtor_ref"]
    assert client.post(f"{API}/debtors/{ref}/cpr", json={}, headers=staff).status_code == 422
    full = client.post(f"{API}/debtors/{ref}/cpr", json={"reason": "PSRM spørger"}, headers=staff)
    assert full.status_code == 200 and full.json()["number"] == CPR
    assert (
        client.post(
            f"{API}/debtors/{ref}/cpr", json={"reason": "nysgerrig"}, headers=lib
        ).status_code
        == 403
    )

    entries = client.get(f"{API}/audit", headers=admin).json()["entries"]
    by_action = {(e["action"], e["outcome"]): e for e in entries}
    write_down = by_action[("POST /api/v1/{kommunekode}/fees/{fee_id}/write-down", 200)]
    assert write_down["reason"] == "bogen fundet" and write_down["role"] == "library"
    assert write_down["target"] == f"fee_id={fee['id']}"
    assert write_down["actor"].startswith("key:") and "test library" in write_down["actor"]
    read = by_action[("POST /api/v1/{kommunekode}/debtors/{debtor_ref}/cpr", 200)]
    assert (read["reason"], read["target"], read["role"]) == (
        "PSRM spørger",
        f"debtor_ref={ref}",
        "debtor-staff",
    )
    assert ("POST /api/v1/{kommunekode}/debtors/{debtor_ref}/cpr", 403) in by_action
    assert by_action[("POST /api/v1/{kommunekode}/fees/{fee_id}/write-up", 422)]["reason"] == "a?b"
    assert CPR not in str(entries) and "4321" not in str(entries)
    assert client.get(f"{API}/audit", headers=staff).status_code == 403

    with system.db.begin() as conn, pytest.raises(DBAPIError):
        conn.execute(text("UPDATE tenants_audit SET reason = 'nothing happened'"))
    with system.db.begin() as conn, pytest.raises(DBAPIError):
        conn.execute(text("DELETE FROM tenants_audit"))


def test_operators_retry_and_discard_dead_letters_and_nothing_else(
    system: System, client: TestClient, keys: dict[Role, str]
) -> None:
    ops, staff = bearer(keys[Role.OPS]), bearer(keys[Role.DEBTOR_STAFF])
    with system.db.begin() as conn:
        ids = [
            publish(
                conn,
                message_type="test.Nothing.v1",
                source="test",
                municipality="101",
                payload={"cpr": CPR},
                occurred_at=system.clock.now(),
            )
            for _ in range(2)
        ]
        conn.execute(
            update(outbox)
            .where(outbox.c.message_id.in_(ids))
            .values(status="dead", last_error=f"no route for debtor {CPR}")
        )
    dead = client.get(f"{API}/messages?status=dead", headers=ops)
    assert dead.status_code == 200
    assert {m["message_id"] for m in dead.json()["messages"]} == set(ids)
    assert CPR not in dead.text and "150875-XXXX" in dead.text
    assert client.get(f"{API}/messages", headers=staff).status_code == 403
    retried = client.post(f"{API}/messages/{ids[0]}/retry", headers=ops)
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert client.post(f"{API}/messages/{ids[0]}/retry", headers=ops).status_code == 409
    assert client.post(f"{API}/messages/{ids[1]}/discard", json={}, headers=ops).status_code == 422
    gone = client.post(
        f"{API}/messages/{ids[1]}/discard", json={"reason": "test message"}, headers=ops
    )
    assert gone.json()["status"] == "discarded"
    # operators move no money and change no rule
    assert client.put(f"{API}/debtor-rules", json={"reason": "x"}, headers=ops).status_code == 403
    assert client.post(f"{API}/claims/1/write-off", json={}, headers=ops).status_code == 403


def test_a_request_does_not_wait_for_its_keys_last_use_to_be_written(
    system: System, client: TestClient, keys: dict[Role, str]
) -> None:
    """A key's last use is written beside the request, not in its way: while another
    transaction holds the key's row (on SQLite: the write lock, e.g. the worker delivering a
    large bank file), the request is answered all the same, and the last use lands after."""
    key_id = tenant_keys.key_id_of(keys[Role.ADMIN])
    with system.db.begin() as writer:
        writer.execute(update(api_keys).where(api_keys.c.key_id == key_id).values(label="held"))
        answer = client.get(f"{API}/municipality", headers=bearer(keys[Role.ADMIN]))
        assert answer.status_code == 200, answer.text
    for _ in range(200):  # the writer is gone: the last use is written soon
        with system.db.connect() as conn:
            if tenant_keys.get_api_key(conn, "101", key_id).last_used_at is not None:
                break
        time.sleep(0.05)
    else:
        pytest.fail("the key's last use was never written")
