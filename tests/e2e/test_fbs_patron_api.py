"""The FBS fee API as the library web sites call it: ``agencyid`` and ``patronid`` literally in
the path, a patron's token naming both (decision 0018). A token of patron A reads A's fees
(valid FeeV2[] of the dpl-react spec, the same answer as the route with the ids in the path) and
pays A's fees, never B's; a missing, expired, forged or altered token is 401; a token of an agency
or patron we do not serve is 403; ``fbs-debitor patron token`` prints a token that works. Every
test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from fbs_debitor.bootstrap import System
from fbs_debitor.cli.main import app as cli
from fbs_debitor.core.clock import SettableClock, SystemClock
from fbs_debitor.core.errors import ForbiddenError
from fbs_debitor.demo import DEMO_AGENCY, DEMO_KOMMUNEKODE, demo_key, seed_demo
from fbs_debitor.library.adapters.patron_tokens.development import DevelopmentPatronTokens
from fbs_debitor.library.adapters.patron_tokens.introspection import (
    AdgangsplatformenIntrospection,
)
from fbs_debitor.library.model import FeeStatus
from fbs_debitor.library.service import patron_access
from fbs_debitor.tenants.model import Role
from fbs_debitor.web.app import create_app
from tests.e2e.fbs_spec import FEES_PATH, assert_valid_feev2_list
from tests.fake_adgangsplatformen import URL, FakeAdgangsplatformen
from tests.integration.library_support import (
    fee,
    library_only,
    map_kind,
    new_fee,
    new_patron,
)

SECRET = "the-demo-patron-token-secret-of-32+"
OLD = date(2025, 9, 15)
PAYMENT_PATH = "/external/agencyid/patron/patronid/payment/v2"
ALL = {"includepaid": "true", "includenonpayable": "true"}


@pytest.fixture
def lib(system: System) -> System:
    settings = system.settings.model_copy(update={"patron_token_secret": SecretStr(SECRET)})
    lib = replace(library_only(system), settings=settings)
    seed_demo(lib)
    for kind in ("fee", "compensation"):
        map_kind(lib, kind)
    lib.drain()
    return lib


def client(lib: System, token: str | None = None) -> TestClient:
    c = TestClient(create_app(lib), raise_server_exceptions=False)
    if token is not None:
        c.headers["Authorization"] = f"Bearer {token}"
    return c


def token_for(lib: System, patron_id: int, agency: str = DEMO_AGENCY, minutes: int = 15) -> str:
    return DevelopmentPatronTokens(SECRET, lib.clock).issue(agency, patron_id, minutes)


def assert_401(r: object) -> None:
    assert r.status_code == 401, r.text  # type: ignore[attr-defined]
    assert r.headers["www-authenticate"].startswith("Bearer")  # type: ignore[attr-defined]
    assert r.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]


def test_a_patrons_token_reads_that_patrons_fees_as_the_templated_route_does(lib: System) -> None:
    a, b = new_patron(lib), new_patron(lib)
    a_old = new_fee(lib, a.id, "12,50", creation_date=OLD)
    a_new = new_fee(lib, a.id, "70,00", kind="compensation", materials=())
    b_old = new_fee(lib, b.id, "30,00", creation_date=OLD)
    c = client(lib, token_for(lib, a.id))
    r = c.get(FEES_PATH)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert_valid_feev2_list(r.json(), required=False)
    assert [f["feeId"] for f in r.json()] == [a_old.id]
    everything = c.get(FEES_PATH, params=ALL)
    assert [f["feeId"] for f in everything.json()] == [a_old.id, a_new.id]
    assert b_old.id not in {f["feeId"] for f in everything.json()}
    keyed = client(lib, demo_key(Role.LIBRARY))
    for params in ({}, ALL, {"includepaid": "true"}, {"includenonpayable": "true"}):
        templated = keyed.get(f"/external/{DEMO_AGENCY}/patron/{a.id}/fees/v2", params=params)
        assert c.get(FEES_PATH, params=params).text == templated.text  # the same answer
    b_sees = client(lib, token_for(lib, b.id)).get(FEES_PATH, params=ALL).json()
    assert [f["feeId"] for f in b_sees] == [b_old.id]


def test_the_literal_answers_are_feev2_of_the_dpl_react_spec(lib: System) -> None:
    """Against the spec itself (skipped without it, required in CI)."""
    a = new_patron(lib)
    new_fee(lib, a.id, "12,50", creation_date=OLD)
    paid = new_fee(lib, a.id, "20,00", creation_date=OLD, due_date=date(2025, 10, 15))
    new_fee(lib, a.id, "70,00", kind="compensation", materials=())
    c = client(lib, token_for(lib, a.id))
    assert c.post(PAYMENT_PATH, json={"orderId": "o-1", "feeIds": [paid.id]}).status_code == 200
    for params in ({}, ALL):
        body = c.get(FEES_PATH, params=params).json()
        assert body
        assert_valid_feev2_list(body)


def test_a_token_pays_its_patrons_fees_and_never_anothers(lib: System) -> None:
    a, b = new_patron(lib), new_patron(lib)
    a_old = new_fee(lib, a.id, "12,50", creation_date=OLD)
    a_old2 = new_fee(lib, a.id, "5,00", creation_date=OLD)
    b_old = new_fee(lib, b.id, "30,00", creation_date=OLD)
    c = client(lib, token_for(lib, a.id))
    for fee_ids in ([b_old.id], [a_old2.id, b_old.id], [999_999]):
        r = c.post(PAYMENT_PATH, json={"orderId": "o-x", "feeIds": fee_ids})
        assert r.status_code == 403, r.text
        assert r.json()["type"].endswith("/not-the-patrons-fee")
    assert fee(lib, b_old.id).status is FeeStatus.OPEN
    assert fee(lib, a_old2.id).status is FeeStatus.OPEN  # nothing of a refused order is paid
    r = c.post(PAYMENT_PATH, json={"orderId": "o-1", "feeIds": [a_old.id]})
    assert r.status_code == 200, r.text
    (confirmation,) = r.json()
    assert confirmation["feeId"] == a_old.id
    assert confirmation["paymentStatus"] == "paymentRegistered"
    assert fee(lib, a_old.id).status is FeeStatus.PAID
    again = c.post(PAYMENT_PATH, json={"orderId": "o-1", "feeIds": [a_old.id]})
    assert again.json() == r.json()  # idempotent per orderId, as the templated route


def test_missing_expired_forged_and_altered_tokens_are_401(
    lib: System, clock: SettableClock
) -> None:
    a, b = new_patron(lib), new_patron(lib)
    a_old = new_fee(lib, a.id, "12,50", creation_date=OLD)
    good = token_for(lib, a.id)
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    other = base64.urlsafe_b64encode(json.dumps(claims | {"sub": str(b.id)}).encode())
    altered = ".".join((header, other.rstrip(b"=").decode(), signature))
    forged = DevelopmentPatronTokens("not-the-secret-but-32-characters!", clock).issue(
        DEMO_AGENCY, b.id
    )
    body = {"orderId": "o-1", "feeIds": [a_old.id]}
    anonymous = client(lib)
    assert_401(anonymous.get(FEES_PATH))
    assert_401(anonymous.post(PAYMENT_PATH, json={"not": "an order"}))  # 401 before 422
    assert_401(anonymous.get(FEES_PATH, headers={"Authorization": f"Basic {good}"}))
    for bad in (altered, forged, "garbage", demo_key(Role.LIBRARY), demo_key(Role.ADMIN)):
        c = client(lib, bad)
        assert_401(c.get(FEES_PATH))
        assert_401(c.post(PAYMENT_PATH, json=body))
    assert client(lib, good).get(FEES_PATH).status_code == 200
    clock.advance(timedelta(minutes=15))
    expired = client(lib, good)
    r = expired.get(FEES_PATH)
    assert_401(r)
    assert r.json()["type"].endswith("/expired-token")
    assert_401(expired.post(PAYMENT_PATH, json=body))
    assert fee(lib, a_old.id).status is FeeStatus.OPEN


def test_a_token_of_an_agency_or_patron_not_served_here_is_403(lib: System) -> None:
    a = new_patron(lib)
    for token, code in (
        (token_for(lib, a.id, agency="999999"), "unknown-agency"),
        (token_for(lib, 987_654), "unknown-patron"),
    ):
        r = client(lib, token).get(FEES_PATH)
        assert r.status_code == 403, r.text
        assert r.json()["type"].endswith(f"/{code}")


def test_production_refuses_development_tokens(lib: System) -> None:
    a = new_patron(lib)
    token = token_for(lib, a.id)
    production = replace(lib, settings=lib.settings.model_copy(update={"env": "production"}))
    assert_401(client(production, token).get(FEES_PATH))
    with production.db.connect() as conn, pytest.raises(ForbiddenError):
        patron_access.issue_development_token(
            conn, production.settings, production.clock, DEMO_KOMMUNEKODE, a.id
        )


def test_the_templated_routes_are_neither_shadowed_nor_open_to_patron_tokens(
    lib: System,
) -> None:
    a = new_patron(lib)
    new_fee(lib, a.id, "12,50", creation_date=OLD)
    templated = f"/external/{DEMO_AGENCY}/patron/{a.id}/fees/v2"
    assert client(lib, demo_key(Role.LIBRARY)).get(templated).status_code == 200
    assert_401(client(lib, token_for(lib, a.id)).get(templated))
    assert client(lib, token_for(lib, a.id)).get(FEES_PATH).status_code == 200


def test_adgangsplatformen_tokens_work_end_to_end_and_a_failure_refuses(lib: System) -> None:
    a, b = new_patron(lib), new_patron(lib)
    a_old = new_fee(lib, a.id, "12,50", creation_date=OLD)
    b_old = new_fee(lib, b.id, "30,00", creation_date=OLD)
    fake = FakeAdgangsplatformen(lib.clock)
    application = create_app(lib)
    application.state.patron_tokens = AdgangsplatformenIntrospection(
        url=URL, client=fake.client(), clock=lib.clock, cache_s=0
    )
    c = TestClient(application, raise_server_exceptions=False)
    auth = {"Authorization": f"Bearer {fake.issue(DEMO_AGENCY, a.id)}"}
    r = c.get(FEES_PATH, headers=auth)
    assert r.status_code == 200, r.text
    assert [f["feeId"] for f in r.json()] == [a_old.id]
    refused = c.post(PAYMENT_PATH, headers=auth, json={"orderId": "o", "feeIds": [b_old.id]})
    assert refused.status_code == 403
    fake.failure = 503
    assert_401(c.get(FEES_PATH, headers=auth))
    fake.failure = "timeout"
    assert_401(c.get(FEES_PATH, headers=auth))


runner = CliRunner()


def test_the_cli_prints_a_token_that_works(lib: System, clock: SettableClock) -> None:
    clock.set(SystemClock().now())  # the command reads the real clock
    a = new_patron(lib)
    a_old = new_fee(lib, a.id, "12,50", creation_date=OLD)
    env = {"FBS_DEBITOR_PATRON_TOKEN_SECRET": SECRET, "FBS_DEBITOR_ENV": "development"}
    base = ["patron", "token", "--municipality", DEMO_KOMMUNEKODE, "--database", lib.db.url]
    result = runner.invoke(cli, [*base, "--patron", str(a.id), "--minutes", "5"], env=env)
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    r = client(lib, token).get(FEES_PATH)
    assert r.status_code == 200, r.text
    assert [f["feeId"] for f in r.json()] == [a_old.id]
    clock.set(SystemClock().now() + timedelta(minutes=5))  # 5 minutes after it was printed
    assert_401(client(lib, token).get(FEES_PATH))

    for args, extra_env, says in (
        ([*base, "--patron", "987654"], env, "no patron 987654"),
        (
            [*base[:3], "999", "--patron", str(a.id), "--database", lib.db.url],
            env,
            "no municipality '999': nothing was done",
        ),
        ([*base, "--patron", str(a.id)], env | {"FBS_DEBITOR_ENV": "production"}, "production"),
        (
            [*base, "--patron", str(a.id)],
            env | {"FBS_DEBITOR_PATRON_TOKEN_SECRET": ""},
            "FBS_DEBITOR_PATRON_TOKEN_SECRET",
        ),
    ):
        refused = runner.invoke(cli, args, env=extra_env)
        assert refused.exit_code == 2, refused.output
        assert says in " ".join(refused.output.split())
    too_long = runner.invoke(cli, [*base, "--patron", str(a.id), "--minutes", "61"], env=env)
    assert too_long.exit_code == 2
