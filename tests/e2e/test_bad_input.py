"""Bad input never gives a 500 (issue #17): each kind of bad input an outside probe sent (amounts
beyond 2^63, -1, 1e30, "NaN", a fee of 92 billiarder kr., JSON nested 10.000 deep, ids beyond
2^63, huge limit and offset, strings of 1 MB where a name is expected, bodies beyond the size
limit) answers 4xx problem+json, and nothing is stored: every table has as many rows after as
before. Each route is called with a key of the role it admits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fbs_debitor.bootstrap import System
from fbs_debitor.core.money import Money
from fbs_debitor.demo import demo_key, seed_demo
from fbs_debitor.library.model import NewFee
from fbs_debitor.library.service import accounts
from fbs_debitor.schema import metadata
from fbs_debitor.tenants.model import Role
from fbs_debitor.tenants.service import municipalities as tenants
from fbs_debitor.web.app import create_app

API = "/api/v1/101"
FBS = "/external/710100"
PROBLEM = "application/problem+json"
QUADRILLION_92_KR_ORE = 92 * 10**15 * 100  # 92 billiarder kr. (short scale: quadrillion)
BAD_AMOUNTS_ORE: dict[str, Any] = {
    "2**63": 2**63,
    "-1": -1,
    "10**30": 10**30,
    "1e30": 1e30,
    "'NaN'": "NaN",
    "NaN": float("nan"),
    "92-billiarder-kr": QUADRILLION_92_KR_ORE,
    "5000-digits": 10**5000,
}
BAD_AMOUNT_TEXTS = ["9" * 40, "-1", "1e30", "NaN", "92.000.000.000.000.000,00", "x" * 10**6]
BAD_IDS = [str(2**63), "-1", "1e30", "NaN", "9" * 40]
MB = "x" * 1_000_000
NESTED_ARRAY = "[" * 10_000 + "]" * 10_000
NESTED_OBJECT = '{"a":' * 10_000 + "1" + "}" * 10_000


def _key(role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {demo_key(role)}"}


LIBRARY, INTEGRATION, STAFF, TILL, ADMIN = (
    _key(Role.LIBRARY),
    _key(Role.INTEGRATION),
    _key(Role.DEBTOR_STAFF),
    _key(Role.CASH_REGISTER),
    _key(Role.ADMIN),
)


@pytest.fixture
def c(system: System) -> Iterator[TestClient]:
    """The demo municipality (kinds mapped) with one patron and one fee sent to debtor."""
    seed_demo(system)
    with system.db.begin() as conn:
        for kind in ("fee", "compensation"):
            tenants.map_claim_kind(
                conn, system.clock, "101", kind, debtor_classification="X", psrm_claim_type="Y"
            )
    system.drain()  # the library learns of the municipality
    with system.db.begin() as conn:
        patron = accounts.create_patron(conn, system.clock, "101", cpr="0101901234", name="Ida")
        accounts.create_fee(
            conn, system.clock, "101", NewFee(patron_id=patron.id, kind="fee", amount=Money(9000))
        )
    system.drain()
    with TestClient(create_app(system), raise_server_exceptions=False) as client:
        yield client


def _counts(system: System) -> dict[str, int]:
    """Rows per table, but the audit log's: a refused change is recorded there, by design."""
    with system.db.connect() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in metadata.sorted_tables
            if t.name != "tenants_audit"
        }


def _refused(r: Any, *statuses: int) -> None:
    """A 4xx problem+json (422 unless other statuses are named)."""
    assert r.status_code in (statuses or (422,)), (r.status_code, r.text[:300])
    assert r.headers["content-type"] == PROBLEM, r.headers
    body = r.json()
    assert body["status"] == r.status_code
    assert body["type"].startswith("https://fbs-debitor.dk/problems/")
    assert body["detail"]


def _registration(amount_ore: Any) -> dict[str, Any]:
    return {
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


@pytest.mark.parametrize("amount_ore", BAD_AMOUNTS_ORE.values(), ids=BAD_AMOUNTS_ORE.keys())
def test_an_amount_in_ore_out_of_bounds_is_refused_by_every_route(
    c: TestClient, system: System, amount_ore: Any
) -> None:
    before = _counts(system)
    calls: list[tuple[str, str, dict[str, Any], dict[str, str]]] = [
        ("POST", f"{API}/fees", {"patron_id": 1, "kind": "fee", "amount_ore": amount_ore}, LIBRARY),
        ("POST", f"{API}/fees/1/write-up", {"amount_ore": amount_ore}, LIBRARY),
        ("POST", f"{API}/fees/1/write-down", {"amount_ore": amount_ore}, LIBRARY),
        (
            "POST",
            f"{API}/payments",
            {"receipt": "r-1", "debtor": "0101901234", "amount_ore": amount_ore},
            TILL,
        ),
        (
            "POST",
            f"{API}/debtors/D1/refunds",
            {"amount_ore": amount_ore, "reference": "x"},
            STAFF,
        ),
        (
            "POST",
            f"{API}/claims/1/write-off",
            {"amount_ore": amount_ore, "reason": "r", "by": "b"},
            STAFF,
        ),
        ("POST", f"{FBS}/patron/1/payment/v2", {"orderId": "o-1", "feeIds": [amount_ore]}, LIBRARY),
    ]
    for method, path, body, key in calls:
        # the JSON text is written by hand: a float 1e30 and the int 10**5000 as they are
        r = c.request(
            method,
            path,
            content=_dumps(body),
            headers={**key, "content-type": "application/json"},
        )
        if "feeIds" in body and r.status_code == 404:  # 92 billiarder kr. in øre < 2**63:
            assert r.json()["type"].endswith("/unknown-fee")  # an id, of no fee
            continue
        _refused(r, 400, 422)
    assert _counts(system) == before
    r = c.post(
        "/services/debitorregistrering/v1",
        content=_dumps(_registration(amount_ore)),
        headers={**INTEGRATION, "content-type": "application/json"},
    )
    after = _counts(system)
    if r.status_code == 200:  # an answer: the registration was read and rejected
        assert r.json()["status"] == "rejected", r.text
        # a rejection is kept (message id and reason) so that the same message gets the same
        # answer; no claim, posting or message to anyone
        assert after.pop("debtor_rejection") == before.pop("debtor_rejection") + 1
        assert after.pop("inbox") == before.pop("inbox") + 1
    else:
        _refused(r, 400, 422)
    assert after == before
    fee = c.get(f"{API}/fees/1", headers=LIBRARY).json()
    assert fee["open_ore"] == 9000


def _dumps(value: Any) -> str:
    """JSON text; an int too long for ``json.dumps`` (beyond Python's 4300 digits) is written
    digit by digit, as a probe would send it."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**4000:
        return "1" + "0" * 5000
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dumps(v) for v in value) + "]"
    if isinstance(value, float) and value != value:
        return "NaN"
    return json.dumps(value)


@pytest.mark.parametrize("text", BAD_AMOUNT_TEXTS, ids=lambda a: a[:12])
def test_an_amount_as_text_out_of_bounds_is_refused(
    c: TestClient, system: System, text: str
) -> None:
    before = _counts(system)
    for method, path, body, key in [
        ("POST", f"{API}/fees", {"patron_id": 1, "kind": "fee", "amount": text}, LIBRARY),
        ("POST", f"{API}/fees/1/write-up", {"amount": text}, LIBRARY),
        ("POST", f"{API}/payments", {"receipt": "r", "debtor": "0101901234", "amount": text}, TILL),
    ]:
        _refused(c.request(method, path, json=body, headers=key))
    assert _counts(system) == before


def test_a_fee_of_92_billiarder_kroner_is_refused_and_one_at_the_limit_taken(
    c: TestClient, system: System
) -> None:
    before = _counts(system)
    r = c.post(
        f"{API}/fees",
        json={"patron_id": 1, "kind": "fee", "amount": "92000000000000000"},
        headers=LIBRARY,
    )
    _refused(r)
    assert "at most 100.000,00 kr." in r.json()["detail"]
    assert _counts(system) == before
    r = c.post(
        f"{API}/fees",
        json={"patron_id": 1, "kind": "fee", "amount": "100.000,00"},
        headers=LIBRARY,
    )
    assert r.status_code == 201, r.text


def test_a_till_payment_beyond_its_limit_is_refused(c: TestClient, system: System) -> None:
    before = _counts(system)
    r = c.post(
        f"{API}/payments",
        json={"receipt": "r-1", "debtor": "0101901234", "amount": "1.000.000,01"},
        headers=TILL,
    )
    _refused(r)
    assert r.json()["type"].endswith("/amount-too-large")
    assert "1.000.000,00 kr." in r.json()["detail"]
    assert _counts(system) == before


JSON_ROUTES = [
    ("POST", f"{API}/patrons", LIBRARY),
    ("POST", f"{API}/fees", LIBRARY),
    ("POST", f"{API}/fees/1/write-up", LIBRARY),
    ("POST", f"{FBS}/patron/1/payment/v2", LIBRARY),
    ("POST", "/services/debitorregistrering/v1", INTEGRATION),
    ("PUT", f"{API}/debtor-rules", STAFF),
    ("POST", f"{API}/debtors/D1/payment-agreement", STAFF),
    ("POST", f"{API}/claims/1/write-off", STAFF),
    ("POST", f"{API}/payments/unmatched/bank:x/assign", STAFF),
    ("POST", f"{API}/payments", TILL),
    ("PUT", f"{API}/sortiment/fee", ADMIN),
]


@pytest.mark.parametrize("body", [NESTED_ARRAY, NESTED_OBJECT], ids=["array", "object"])
def test_json_nested_10000_deep_is_refused_by_every_json_route(
    c: TestClient, system: System, body: str
) -> None:
    before = _counts(system)
    for method, path, key in JSON_ROUTES:
        r = c.request(
            method, path, content=body, headers={**key, "content-type": "application/json"}
        )
        _refused(r, 400, 422)
    assert _counts(system) == before


def test_a_body_beyond_the_size_limit_is_413_declared_or_streamed(
    c: TestClient, system: System
) -> None:
    before = _counts(system)
    big = json.dumps({"cpr": "0101901234", "name": "x" * (2 << 20)})
    for method, path, key in JSON_ROUTES:
        r = c.request(
            method, path, content=big, headers={**key, "content-type": "application/json"}
        )
        _refused(r, 413)
        assert r.json()["type"].endswith("/body-too-large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the body is counted as it comes
        for _ in range(3):
            yield b"x" * (1 << 20)

    r = c.post(
        f"{API}/patrons", content=chunks(), headers={**LIBRARY, "content-type": "application/json"}
    )
    _refused(r, 413)
    assert _counts(system) == before


@pytest.mark.parametrize("bad", BAD_IDS)
def test_ids_beyond_bigint_or_not_ids_are_refused(c: TestClient, bad: str) -> None:
    for path, key in [
        (f"{API}/patrons/{bad}", LIBRARY),
        (f"{API}/fees/{bad}", LIBRARY),
        (f"{FBS}/patron/{bad}/fees/v2", LIBRARY),
        (f"{API}/letters/{bad}.pdf", STAFF),
    ]:
        _refused(c.get(path, headers=key))
    for body in ({"patron_id": bad, "kind": "fee", "amount": "1"},):
        _refused(c.post(f"{API}/fees", json=body, headers=LIBRARY))


LISTS = [
    (f"{API}/held-claims", STAFF, "offset"),
    (f"{API}/letters", STAFF, "offset"),
    (f"{API}/payments/unmatched", STAFF, "offset"),
    (f"{API}/bank-entries", STAFF, "after_id"),
    (f"{API}/register-payments", TILL, "offset"),
    (f"{API}/ledger-check", STAFF, None),
]


@pytest.mark.parametrize(("path", "key", "cursor"), LISTS, ids=[p for p, _, _ in LISTS])
def test_every_list_is_paginated_with_bounded_limit_and_cursor(
    c: TestClient, path: str, key: dict[str, str], cursor: str | None
) -> None:
    ok = c.get(path, params={"limit": 1000}, headers=key)
    assert ok.status_code == 200, ok.text
    for limit in ("0", "1001", str(10**6), str(2**63), "-1", "NaN"):
        _refused(c.get(path, params={"limit": limit}, headers=key))
    if cursor is not None:
        assert c.get(path, params={cursor: 2**63 - 1}, headers=key).status_code == 200
        for value in (str(2**63), "-1", "1e30", "NaN"):
            _refused(c.get(path, params={cursor: value}, headers=key))


def test_the_unmatched_payments_and_the_till_day_page(c: TestClient) -> None:
    for i in range(3):
        r = c.post(
            f"{API}/payments",
            json={"receipt": f"r-{i}", "debtor": "0101901234", "amount": "10,00"},
            headers=TILL,
        )
        assert r.status_code in (201, 404, 409, 422), r.text  # no invoice yet: any clear answer
    day = c.get(f"{API}/register-payments", params={"limit": 1, "offset": 0}, headers=TILL).json()
    assert len(day["payments"]) <= 1
    assert day["payment_count"] >= len(day["payments"])
    page = c.get(f"{API}/payments/unmatched", params={"limit": 1}, headers=STAFF).json()
    assert len(page["payments"]) <= 1


@pytest.mark.parametrize(
    ("method", "path", "body", "key"),
    [
        ("POST", f"{API}/patrons", {"cpr": "0101901234", "name": MB}, LIBRARY),
        ("POST", f"{API}/patrons", {"cpr": MB}, LIBRARY),
        ("POST", f"{API}/fees", {"patron_id": 1, "kind": MB, "amount": "1"}, LIBRARY),
        (
            "POST",
            f"{API}/fees",
            {"patron_id": 1, "kind": "fee", "amount": "1", "reason_message": MB},
            LIBRARY,
        ),
        ("POST", f"{API}/fees/1/write-down", {"amount": "1", "reason": MB}, LIBRARY),
        ("POST", f"{FBS}/patron/1/payment/v2", {"orderId": MB, "feeIds": [1]}, LIBRARY),
        ("POST", f"{API}/payments", {"receipt": "r", "debtor": MB}, TILL),
        ("POST", f"{API}/payments", {"receipt": MB, "debtor": "0101901234"}, TILL),
        (
            "POST",
            f"{API}/payments",
            {"receipt": "r", "debtor": "0101901234", "invoice_ids": [MB]},
            TILL,
        ),
        ("POST", f"{API}/claims/1/write-off", {"reason": MB, "by": "b"}, STAFF),
        ("POST", f"{API}/debtors/D1/refunds", {"reference": MB}, STAFF),
        (
            "POST",
            f"{API}/debtors/D1/payment-agreement",
            {"until": "2026-05-01", "note": MB},
            STAFF,
        ),
        (
            "POST",
            f"{API}/payments/unmatched/bank:x/assign",
            {"debtor": "0101901234", "note": MB},
            STAFF,
        ),
        (
            "PUT",
            f"{API}/sortiment/fee",
            {"debtor_classification": MB, "psrm_claim_type": "Y"},
            ADMIN,
        ),
        (
            "POST",
            "/services/debitorregistrering/v1",
            {"message_type": MB, "message_id": "x", "payload": {}},
            INTEGRATION,
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 80 else "",
)
def test_a_megabyte_where_a_short_text_belongs_is_refused(
    c: TestClient,
    system: System,
    method: str,
    path: str,
    body: dict[str, Any],
    key: dict[str, str],
) -> None:
    before = _counts(system)
    _refused(c.request(method, path, json=body, headers=key))
    assert _counts(system) == before


LONG = "1" * 10_000


@pytest.mark.parametrize(
    ("method", "path", "body", "key"),
    [
        ("GET", f"{API}/claims/{LONG}", None, STAFF),
        ("POST", f"{API}/claims/{LONG}/write-off", {"reason": "r", "by": "b"}, STAFF),
        ("POST", f"{API}/debtors/{LONG}/payment-agreement", {"until": "2026-05-01"}, STAFF),
        ("POST", f"{API}/debtors/{LONG}/refunds", {"reference": "ref-1"}, STAFF),
        (
            "POST",
            f"{API}/payments/unmatched/bank:{LONG}/assign",
            {"debtor": "0101901234", "note": "n"},
            STAFF,
        ),
        ("GET", f"{API}/bank-entries?state={'x' * 10_000}", None, STAFF),
    ],
    ids=lambda v: v[14:40] if isinstance(v, str) else "",
)
def test_a_long_text_in_a_path_or_query_is_refused(
    c: TestClient,
    system: System,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    key: dict[str, str],
) -> None:
    before = _counts(system)
    r = c.request(method, path, headers=key, json=body)
    _refused(r)
    assert any(e["loc"][0] in ("path", "query") for e in r.json()["errors"]), r.json()
    assert _counts(system) == before


@pytest.mark.parametrize(
    ("method", "path", "key"),
    [
        ("GET", f"{API}/claims/%00", STAFF),
        ("POST", f"{API}/claims/a%00b/write-off", STAFF),
        ("GET", "/external/%00/patron/1/fees/v2", LIBRARY),
        ("GET", f"{API}/patrons/1%0A", LIBRARY),
        ("GET", f"{API}/bank-entries?state=%00", STAFF),
        ("GET", f"{API}/letters?status=pending%01", STAFF),
    ],
    ids=lambda v: v[14:40] if isinstance(v, str) else "",
)
def test_a_control_character_in_a_path_or_query_is_refused_at_the_edge(
    c: TestClient, system: System, method: str, path: str, key: dict[str, str]
) -> None:
    """PostgreSQL refuses a NUL in a text parameter: a NUL in a claim id or an agency id was a
    500 there. No path or query of ours has a control character."""
    before = _counts(system)
    r = c.request(method, path, headers=key, json={"reason": "r", "by": "b"})
    _refused(r)
    assert r.json()["type"].endswith("/invalid-path")
    assert _counts(system) == before
