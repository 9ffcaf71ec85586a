"""People logging in with OpenID Connect through the development identity provider: staff of a
municipality (role from its group mapping), citizens (level of assurance, CPR claim), and what
the login refuses; sessions on the JSON API (CSRF on changes, never another municipality)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError as SettingsError

from fbs_debitor.bootstrap import System
from fbs_debitor.core.errors import ValidationError
from fbs_debitor.settings import Settings
from fbs_debitor.tenants.model import Role
from fbs_debitor.tenants.service import keys as tenant_keys
from fbs_debitor.tenants.service import municipalities as tenants
from fbs_debitor.tenants.service import people as tenant_people
from fbs_debitor.web.app import create_app
from fbs_debitor.web.auth import devidp, sessions
from fbs_debitor.web.auth.oidc import OidcClient
from fbs_debitor.web.auth.routes import loa_sufficient
from tests.integration.login_support import (
    ODENSE,
    ODENSE_GROUP,
    log_in,
    pick_person,
    session_cookie,
    set_up_login,
    start_login,
    with_params,
)

SECRET = "x" * 40

pytestmark = [
    # the development provider (oidc-provider-mock) uses Authlib's older interfaces
    pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:oidc_provider_mock"),
    pytest.mark.filterwarnings("ignore:.*httpx module is deprecated"),
    pytest.mark.filterwarnings("ignore:authlib.jose module is deprecated"),
]


@pytest.fixture(scope="module")
def provider() -> Iterator[devidp.DevelopmentProvider]:
    running = devidp.start(Settings(), port=0)
    yield running
    running.stop()


@pytest.fixture
def web(system: System, provider: devidp.DevelopmentProvider) -> TestClient:
    return set_up_login(system, provider.issuer)


def _refused(r: object, status: int, text: str) -> None:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert "Login afvist" in r.text  # type: ignore[attr-defined]
    assert text in r.text  # type: ignore[attr-defined]
    assert sessions.SESSION_COOKIE not in r.headers.get("set-cookie", "")  # type: ignore[attr-defined]


def test_staff_person_logs_in_and_sees_only_their_municipality(web: TestClient) -> None:
    url = start_login(web, "/login/staff/101")
    query = parse_qs(urlparse(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["redirect_uri"] == ["http://testserver/auth/callback"]
    assert query["state"][0] and query["nonce"][0]
    r = web.get(pick_person(url, "sara@101"))
    assert r.status_code == 303
    assert r.headers["location"] == "/staff"
    cookie = r.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # the base URL is http here
    page = web.get("/staff")
    assert page.status_code == 200
    assert "Logget ind som Sara Sagsbehandler · København (101) · rolle debtor-staff" in page.text
    assert "Odense" not in page.text and "461" not in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    me = web.get("/me").json()
    assert me["kind"] == "staff"
    assert (me["municipality"], me["role"], me["subject"]) == ("101", "debtor-staff", "sara@101")
    # the session is a principal of the JSON API: its own municipality only, its role only
    assert web.get("/api/v1/101/debtor-rules").status_code == 200
    other = web.get(f"/api/v1/{ODENSE}/debtor-rules")
    assert other.status_code == 403
    assert other.json()["type"].endswith("wrong-municipality")
    wrong_role = web.get("/api/v1/101/municipality")  # admin's route
    assert wrong_role.status_code == 403
    assert wrong_role.json()["type"].endswith("wrong-role")


def test_a_person_of_461_logs_in_to_461_only(web: TestClient, system: System) -> None:
    # the provider's user of Odense: put into the provider's group of Odense
    with system.db.begin() as conn:
        tenant_people.map_group(
            conn, system.clock, ODENSE, "fbs-debitor-debitor", Role.DEBTOR_STAFF
        )
    r = log_in(web, "sara@101", path=f"/login/staff/{ODENSE}")
    assert r.status_code == 303
    assert web.get("/me").json()["municipality"] == ODENSE
    assert web.get(f"/api/v1/{ODENSE}/debtor-rules").status_code == 200
    assert web.get("/api/v1/101/debtor-rules").status_code == 403
    with system.db.connect() as conn:
        assert tenant_people.list_group_roles(conn, ODENSE)[ODENSE_GROUP] is Role.DEBTOR_STAFF


def test_a_changing_call_with_a_session_needs_the_csrf_token(web: TestClient) -> None:
    log_in(web, "sara@101")
    rules = {**web.get("/api/v1/101/debtor-rules").json(), "reason": "test"}
    missing = web.put("/api/v1/101/debtor-rules", json=rules)
    assert missing.status_code == 403
    assert missing.json()["type"].endswith("csrf-token-missing")
    wrong = web.put("/api/v1/101/debtor-rules", json=rules, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    token = web.get("/me").json()["csrf_token"]
    ok = web.put("/api/v1/101/debtor-rules", json=rules, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200, ok.text


def test_an_api_key_needs_no_csrf_token_even_beside_a_session(web: TestClient) -> None:
    with web.app.state.system.db.begin() as conn:  # type: ignore[attr-defined]
        key = tenant_keys.create_api_key(
            conn,
            web.app.state.system.clock,
            "101",
            Role.DEBTOR_STAFF,
            "t",  # type: ignore[attr-defined]
        )
    log_in(web, "sara@101")
    rules = {**web.get("/api/v1/101/debtor-rules").json(), "reason": "test"}
    r = web.put("/api/v1/101/debtor-rules", json=rules, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text


def test_logout_is_a_post_with_the_csrf_token(web: TestClient) -> None:
    log_in(web, "sara@101")
    token = web.get("/me").json()["csrf_token"]
    forged = web.post("/logout", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert web.get("/me").status_code == 200  # still logged in
    out = web.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303
    assert out.headers["location"] == "/login?logget_ud=1"
    assert web.get("/me").status_code == 401
    assert "Du er logget ud" in web.get("/login?logget_ud=1").text


def test_state_mismatch_is_refused(web: TestClient) -> None:
    r = log_in(web, "sara@101", bend=lambda url: with_params(url, state="forged-state"))
    _refused(r, 400, "hører ikke til dette login")
    assert web.get("/me").status_code == 401


def test_an_answer_without_a_login_under_way_is_refused(web: TestClient) -> None:
    url = start_login(web, "/login/staff/101")
    answer = pick_person(url, "sara@101")
    web.cookies.clear()  # another browser: no login cookie
    _refused(web.get(answer), 400, "udløbet eller ukendt")


def test_nonce_mismatch_is_refused(web: TestClient) -> None:
    r = log_in(web, "sara@101", bend=lambda url: with_params(url, nonce="another-nonce"))
    _refused(r, 400, "ID-token holder ikke")
    assert web.get("/me").status_code == 401


def test_an_id_token_of_another_issuer_is_refused(
    web: TestClient, provider: devidp.DevelopmentProvider
) -> None:
    """The provider's token endpoint reached under another name signs tokens as that issuer."""
    client = web.app.state.oidc  # type: ignore[attr-defined]
    metadata = dict(client.metadata(provider.issuer))
    metadata["token_endpoint"] = metadata["token_endpoint"].replace("localhost", "127.0.0.1")
    client.remember_metadata(provider.issuer, metadata)
    _refused(log_in(web, "sara@101"), 400, "ID-token holder ikke")
    assert web.get("/me").status_code == 401


def test_metadata_naming_another_issuer_is_refused(
    web: TestClient, provider: devidp.DevelopmentProvider
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/.well-known/openid-configuration"
        return httpx.Response(200, json={"issuer": "https://impostor.example", "x": 1})

    web.app.state.oidc = OidcClient(transport=httpx.MockTransport(answer))  # type: ignore[attr-defined]
    _refused(web.get("/login/staff/101"), 502, "ikke den, der er sat op")


def test_an_unreachable_provider_is_a_clear_page(web: TestClient) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    web.app.state.oidc = OidcClient(transport=httpx.MockTransport(answer))  # type: ignore[attr-defined]
    _refused(web.get("/login/staff/101"), 502, "svarer ikke")


def test_a_person_whose_groups_give_no_role_is_refused(web: TestClient) -> None:
    r = log_in(web, "uno@101")
    _refused(r, 403, "ingen af dine grupper giver adgang")
    assert web.get("/me").status_code == 401


def test_a_citizen_logs_in_with_the_cpr_masked_everywhere(web: TestClient) -> None:
    url = start_login(web, "/login/citizen/101")
    query = parse_qs(urlparse(url).query)
    assert query["acr_values"] == ["https://data.gov.dk/concept/core/nsis/loa/Substantial"]
    r = web.get(pick_person(url, "borger"))
    assert r.status_code == 303
    assert r.headers["location"] == "/portal"
    assert devidp.DEMO_CITIZEN_CPR not in r.headers["location"]
    page = web.get("/portal")
    assert page.status_code == 200
    assert "010190-XXXX" in page.text
    assert devidp.DEMO_CITIZEN_CPR not in page.text
    me = web.get("/me").json()
    assert me["cpr"] == "010190-XXXX"
    assert devidp.DEMO_CITIZEN_CPR not in str(me)
    # the cookie is sealed: the CPR cannot be read from it
    assert devidp.DEMO_CITIZEN_CPR not in web.cookies[sessions.SESSION_COOKIE]
    # a citizen's session reaches no staff route
    staff = web.get("/api/v1/101/debtor-rules")
    assert staff.status_code == 403
    assert staff.json()["type"].endswith("citizen-session")
    assert web.get("/staff").headers["location"] == "/portal"


def test_a_citizen_below_the_required_level_of_assurance_is_refused(web: TestClient) -> None:
    _refused(log_in(web, "borger-lav", path="/login/citizen/101"), 403, "sikringsniveau")
    assert web.get("/me").status_code == 401


@pytest.mark.parametrize(
    ("loa", "ok"),
    [
        ("https://data.gov.dk/concept/core/nsis/loa/High", True),
        ("https://data.gov.dk/concept/core/nsis/loa/Substantial", True),
        ("https://data.gov.dk/concept/core/nsis/loa/Low", False),
        ("", False),
        (None, False),
        ("Substantial-ish", False),
    ],
)
def test_levels_of_assurance_are_ordered(loa: str | None, ok: bool) -> None:
    assert loa_sufficient(loa, "https://data.gov.dk/concept/core/nsis/loa/Substantial") is ok


def test_redirect_uri_comes_from_the_settings_never_the_host_header(web: TestClient) -> None:
    r = web.get("/login/staff/101", headers={"Host": "evil.example"})
    assert r.status_code == 303
    query = parse_qs(urlparse(r.headers["location"]).query)
    assert query["redirect_uri"] == ["http://testserver/auth/callback"]


def test_unknown_municipality_and_unset_provider_are_clear_pages(
    web: TestClient, system: System
) -> None:
    _refused(web.get("/login/staff/999"), 404, "Kommunen findes ikke")
    _refused(web.get("/login/staff/abc"), 404, "Kommunen findes ikke")
    with system.db.begin() as conn:
        tenants.create_municipality(
            conn,
            system.clock,
            kommunekode="751",
            name="Aarhus",
            agency_id="775100",
            creditor_number="82222222",
        )
    _refused(web.get("/login/staff/751"), 404, "ikke sat login for medarbejdere op")
    page = web.get("/login")
    assert "/login/staff/101" in page.text and "/login/staff/751" not in page.text


def test_a_forged_or_foreign_session_cookie_is_no_session(web: TestClient) -> None:
    web.cookies.set(sessions.SESSION_COOKIE, "gAAAAAforged")
    assert web.get("/me").status_code == 401
    assert web.get("/api/v1/101/debtor-rules").status_code == 401
    foreign = sessions.seal(
        Settings(session_secret=SECRET),  # type: ignore[arg-type]
        b"session v1",
        {"kind": "staff", "subject": "x", "name": "x", "municipality": "101"},
    )
    web.cookies.set(sessions.SESSION_COOKIE, foreign)
    assert web.get("/me").status_code == 401


def test_an_old_seal_is_not_opened() -> None:
    settings = Settings(session_secret=SECRET)  # type: ignore[arg-type]
    token = sessions.seal(settings, b"session v1", {"a": 1})
    assert sessions.unseal(settings, b"session v1", token, 60) == {"a": 1}
    assert sessions.unseal(settings, b"session v1", token, -1) is None
    assert sessions.unseal(settings, b"login v1", token, 60) is None  # another purpose
    rotated = Settings(session_secret="y" * 40 + " " + SECRET)  # type: ignore[arg-type]
    assert sessions.unseal(rotated, b"session v1", token, 60) == {"a": 1}


def test_production_refuses_the_development_provider(
    web: TestClient, system: System, provider: devidp.DevelopmentProvider
) -> None:
    with pytest.raises(SettingsError, match="refused"):
        Settings(env="production", dev_idp=True)
    with pytest.raises(devidp.DevelopmentProviderRefused):
        devidp.start(Settings(env="production"), port=0)
    with system.db.begin() as conn, pytest.raises(ValidationError) as refused:
        tenant_people.set_staff_identity_provider(
            conn,
            system.clock,
            "101",
            issuer=provider.issuer,
            client_id="x",
            client_secret="y",
            development=True,
            production=True,
        )
    assert refused.value.code == "development-idp-in-production"
    # a session made in development is no session in production
    log_in(web, "sara@101")
    session_cookie = web.cookies[sessions.SESSION_COOKIE]
    system.settings = system.settings.model_copy(
        update={
            "env": "production",
            "session_secret": Settings(session_secret=SECRET).session_secret,
        }
    )
    production = TestClient(create_app(system), follow_redirects=False)
    production.cookies.set(sessions.SESSION_COOKIE, session_cookie)
    assert production.get("/me").status_code == 401
    # the demo's staff provider (marked development) and the citizens' one are refused
    _refused(production.get("/login/staff/101"), 403, "Udviklingsudbyderen")
    _refused(production.get("/login/citizen/101"), 403, "Udviklingsudbyderen")
    _refused(production.get(f"/login/staff/{ODENSE}"), 403, "Udviklingsudbyderen")


def test_production_needs_a_session_secret() -> None:
    with pytest.raises(sessions.SessionConfigError, match="required"):
        sessions.check_settings(Settings(env="production"))
    with pytest.raises(sessions.SessionConfigError, match="32 characters"):
        sessions.check_settings(Settings(env="production", session_secret="short"))  # type: ignore[arg-type]
    sessions.check_settings(Settings(env="production", session_secret=SECRET))  # type: ignore[arg-type]


def test_https_base_url_makes_the_cookies_secure(web: TestClient, system: System) -> None:
    system.settings = system.settings.model_copy(
        update={"public_base_url": "https://fbs.example.dk"}
    )
    r = web.get("/login/staff/101")
    assert "secure" in r.headers["set-cookie"].lower()
    query = parse_qs(urlparse(r.headers["location"]).query)
    assert query["redirect_uri"] == ["https://fbs.example.dk/auth/callback"]


def test_group_mapping_validates_and_orders_roles(system: System) -> None:
    set_up_kobenhavn_only(system)
    with system.db.begin() as conn:
        with pytest.raises(ValidationError, match="unknown role"):
            tenant_people.map_group(conn, system.clock, "101", "g", "superuser")
        tenant_people.map_group(conn, system.clock, "101", "staff", "debtor-staff")
        tenant_people.map_group(conn, system.clock, "101", "admins", Role.ADMIN)
        assert tenant_people.role_for_groups(conn, "101", ["staff"]) is Role.DEBTOR_STAFF
        assert tenant_people.role_for_groups(conn, "101", ["staff", "admins"]) is Role.ADMIN
        assert tenant_people.role_for_groups(conn, "101", ["others"]) is None
        assert tenant_people.unmap_group(conn, "101", "admins") is True
        assert tenant_people.unmap_group(conn, "101", "admins") is False
        assert tenant_people.role_for_groups(conn, "101", ["staff", "admins"]) is Role.DEBTOR_STAFF
        with pytest.raises(ValidationError, match="openid"):
            tenant_people.set_staff_identity_provider(
                conn,
                system.clock,
                "101",
                issuer="https://idp.example.dk",
                client_id="c",
                client_secret="s",
                scopes="profile",
            )
        with pytest.raises(ValidationError, match="URL"):
            tenant_people.set_staff_identity_provider(
                conn, system.clock, "101", issuer="idp.example.dk", client_id="c", client_secret="s"
            )


def set_up_kobenhavn_only(system: System) -> None:
    from tests.integration.municipality_support import set_up_kobenhavn

    set_up_kobenhavn(system)


def test_a_session_made_for_tests_walks_routes_like_a_login(web: TestClient) -> None:
    system = web.app.state.system  # type: ignore[attr-defined]
    cookies, csrf = session_cookie(system, ODENSE, Role.DEBTOR_STAFF)
    web.cookies.update(cookies)
    assert web.get("/me").json()["municipality"] == ODENSE
    assert web.get("/api/v1/101/debtor-rules").status_code == 403
    rules = {**web.get(f"/api/v1/{ODENSE}/debtor-rules").json(), "reason": "test"}
    put = web.put(f"/api/v1/{ODENSE}/debtor-rules", json=rules, headers={"X-CSRF-Token": csrf})
    assert put.status_code == 200, put.text
