"""Every route of the API, taken from the OpenAPI document (so a new route is covered the day it
is added), called as every caller that must be refused: no key, an unknown key, a revoked key,
an expired key, every role of the municipality that the route does not admit and every role of
another municipality, each both as an API key and as a person's session (with its CSRF token),
and a citizen's session. Each gets a refusal (401 or 403 problem+json) and no data.

Which roles a route admits is written here, from docs/security.md, independently of the
application's own table (``web.app.MOUNTS``): a route missing below fails the test, and a route
whose roles drift from the documented ones fails it too.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fbs_debitor.bootstrap import System
from fbs_debitor.tenants.model import Role
from fbs_debitor.tenants.service import keys as tenant_keys
from fbs_debitor.tenants.service import municipalities as tenants
from fbs_debitor.web.app import create_app
from fbs_debitor.web.auth import sessions
from tests.integration.login_support import session_cookie
from tests.integration.municipality_support import set_up_kobenhavn

LIB, INT, STAFF, TILL, OPS, ADMIN = (
    "library",
    "integration",
    "debtor-staff",
    "cash-register",
    "ops",
    "admin",
)

ROLES_BY_ROUTE: list[tuple[str, str, set[str]]] = [
    # (method, path pattern, roles admitted) as in docs/security.md
    ("GET", r"^/api/v1/\{kommunekode\}/(municipality|sortiment|keys|audit)$", {ADMIN}),
    ("PUT", r"^/api/v1/\{kommunekode\}/(cutoff|sortiment/\{claim_kind\})$", {ADMIN}),
    ("POST", r"^/api/v1/\{kommunekode\}/keys(/\{key_id\}/(revoke|rotate))?$", {ADMIN}),
    ("GET", r"^/api/v1/\{kommunekode\}/(patrons|fees)/", {LIB}),
    ("POST", r"^/api/v1/\{kommunekode\}/(patrons|fees)", {LIB}),
    ("GET", r"^/external/\{agencyid\}/patron/\{patronid\}/", {LIB, INT}),
    ("POST", r"^/external/\{agencyid\}/patron/\{patronid\}/", {LIB, INT}),
    ("POST", r"^/api/v1/\{kommunekode\}/services/debitorregistrering/v1$", {INT, LIB}),
    (
        "GET",
        r"^/api/v1/\{kommunekode\}/(debtors/|claims/|ledger-check|held-claims|letters|"
        r"debtor-rules|payments/unmatched|collection)",
        {STAFF},
    ),
    (
        "POST",
        r"^/api/v1/\{kommunekode\}/(debtors/|claims/|payments/unmatched/|collection/claims/)",
        {STAFF},
    ),
    ("PUT", r"^/api/v1/\{kommunekode\}/debtor-rules$", {STAFF}),
    ("GET", r"^/api/v1/\{kommunekode\}/register-payments$", {TILL}),
    ("POST", r"^/api/v1/\{kommunekode\}/(payable|payments)$", {TILL}),
    ("GET", r"^/api/v1/\{kommunekode\}/bank-(entries|files)", {STAFF, INT}),
    ("POST", r"^/api/v1/\{kommunekode\}/bank-files$", {STAFF, INT}),
    ("GET", r"^/api/v1/\{kommunekode\}/messages$", {OPS}),
    ("POST", r"^/api/v1/\{kommunekode\}/messages/\{message_id\}/(retry|discard)$", {OPS}),
]
PUBLIC = {("GET", "/healthz"), ("GET", "/metrics")}
PATRON_TOKEN = re.compile(r"^/external/agencyid/patron/patronid/")
"""The FBS fee API as the library web sites call it: a patron's token, never an API key."""
"""Routes that answer without a key (they show no municipality's data)."""

PARAMETERS = {
    "kommunekode": "101",
    "agencyid": "710100",
    "patronid": "1",
    "patron_id": "1",
    "fee_id": "1",
    "claim_id": "1",
    "claim_kind": "fee",
    "debtor_ref": "D1",
    "letter_id": "1",
    "payment_ref": "1",
    "key_id": "0123456789ab",
    "message_id": "00000000-0000-0000-0000-000000000000",
    "job_id": "1",
}
REFUSALS = {
    "citizen-session",
    "unknown-api-key",
    "revoked-api-key",
    "expired-api-key",
    "unauthenticated",
    "wrong-role",
    "wrong-municipality",
}


def _admitted(method: str, path: str) -> set[str]:
    found = [
        roles for m, pattern, roles in ROLES_BY_ROUTE if m == method and re.search(pattern, path)
    ]
    assert found, f"{method} {path} is not in the documented table of roles: add it"
    return found[0]


def _operations(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    return sorted(
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    )


def _url(path: str, kommunekode: str = "101") -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "kommunekode":
            return kommunekode
        if name == "agencyid":
            return "710100" if kommunekode == "101" else "461000"
        return PARAMETERS.get(name, "1")

    return re.sub(r"\{([a-z_]+)\}", fill, path)


def _refused(response: Any, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    code = body["type"].rsplit("/", 1)[-1]
    assert code in REFUSALS, body
    assert set(body) <= {"type", "title", "status", "detail"}, body  # nothing else, no data
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    return code


@pytest.fixture
def keys(system: System) -> dict[str, str]:
    set_up_kobenhavn(system)
    out: dict[str, str] = {}
    with system.db.begin() as conn:
        tenants.create_municipality(
            conn,
            system.clock,
            kommunekode="461",
            name="Odense",
            agency_id="746100",
            creditor_number="81111111",
        )
        for role in Role:
            for k in ("101", "461"):
                out[f"{k}:{role.value}"] = tenant_keys.create_api_key(
                    conn, system.clock, k, role, f"{k} {role.value}"
                )
        revoked = tenant_keys.create_api_key(conn, system.clock, "101", Role.ADMIN, "revoked")
        tenant_keys.revoke_api_key(
            conn, system.clock, "101", tenant_keys.key_id_of(revoked), by="test", reason="left"
        )
        expiring = tenant_keys.create_api_key(
            conn,
            system.clock,
            "101",
            Role.ADMIN,
            "expiring",
            expires_at=system.clock.now() + timedelta(hours=1),
        )
    system.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    out["revoked"] = revoked
    out["expired"] = expiring
    return out


def _citizen(system: System) -> tuple[dict[str, str], str]:
    person = sessions.new_session(
        kind="citizen", subject="borger", name="Borger", municipality="101", cpr="0101901234"
    )
    sealed = sessions.seal(system.settings, b"session v1", asdict(person))
    return {sessions.SESSION_COOKIE: sealed}, person.csrf


def test_every_route_refuses_every_caller_it_must(system: System, keys: dict[str, str]) -> None:
    client = TestClient(create_app(system), raise_server_exceptions=False)
    people = {
        f"{k}:{role.value}": session_cookie(system, k, role)
        for k in ("101", "461")
        for role in Role
    }
    people["citizen"] = _citizen(system)
    operations = _operations(client)
    assert len(operations) > 30, operations
    checked = 0
    for method, path in operations:
        if (method, path) in PUBLIC or not path.startswith(("/api/", "/external/")):
            continue
        url = _url(path)
        if PATRON_TOKEN.match(path):  # no API key of any role or municipality opens these
            for key in [None, "fbsd_101_not-a-key", *keys.values()]:
                headers = {} if key is None else {"Authorization": f"Bearer {key}"}
                r = client.request(
                    method, url, headers=headers, json={} if method == "POST" else None
                )
                assert r.status_code == 401, (method, url, r.text)
                assert r.headers["WWW-Authenticate"].startswith("Bearer")
            checked += 1
            continue
        admitted = _admitted(method, path)
        send = {"json": {}} if method in {"POST", "PUT", "PATCH"} else {}

        def call(key: str | None, url: str = url, method: str = method, send: Any = send) -> Any:
            headers = {} if key is None else {"Authorization": f"Bearer {key}"}
            return client.request(method, url, headers=headers, **send)

        def as_person(who: str, url: str = url, method: str = method, send: Any = send) -> Any:
            cookies, csrf = people[who]  # the CSRF token sent: the refusal is the role's
            client.cookies.clear()
            client.cookies.update(cookies)
            try:
                return client.request(method, url, headers={"X-CSRF-Token": csrf}, **send)
            finally:
                client.cookies.clear()

        _refused(call(None), 401)
        _refused(call("fbsd_101_not-a-key"), 401)
        assert _refused(call(keys["revoked"]), 401) == "revoked-api-key"
        assert _refused(call(keys["expired"]), 401) == "expired-api-key"
        for role in Role:
            other = call(keys[f"461:{role.value}"])
            _refused(other, 403)
            _refused(as_person(f"461:{role.value}"), 403)
            if role.value not in admitted:
                assert _refused(call(keys[f"101:{role.value}"]), 403) == "wrong-role"
                assert _refused(as_person(f"101:{role.value}"), 403) == "wrong-role"
            else:  # the admitted roles get past the door (the test could fail)
                assert call(keys[f"101:{role.value}"]).status_code not in (401, 403), (method, url)
                assert as_person(f"101:{role.value}").status_code not in (401, 403), (method, url)
        assert _refused(as_person("citizen"), 403) == "citizen-session"
        checked += 1
    assert checked == len([op for op in operations if op[1].startswith(("/api/", "/external/"))])
