"""Logging people in through the development identity provider in tests, without a browser:
the redirect to the provider, the provider's form (a person picked), the answer back."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlparse, urlunparse

import httpx
from fastapi.testclient import TestClient
from httpx import Response

from fbs_debitor.bootstrap import System
from fbs_debitor.demo import seed_demo_login
from fbs_debitor.tenants.model import Role
from fbs_debitor.tenants.service import municipalities as tenants
from fbs_debitor.tenants.service import people as tenant_people
from fbs_debitor.web.app import create_app
from tests.integration.municipality_support import set_up_kobenhavn

ODENSE = "461"
ODENSE_GROUP = "odense-debitor"


def set_up_login(system: System, issuer: str) -> TestClient:
    """København (101) with the demo's staff provider and groups, Odense (461) with the same
    provider under another client and a group of its own; citizens through the provider too.
    Returns a client of the app that does not follow redirects."""
    system.settings = system.settings.model_copy(update={"public_base_url": "http://testserver"})
    set_up_kobenhavn(system)
    with system.db.begin() as conn:
        tenants.create_municipality(
            conn,
            system.clock,
            kommunekode=ODENSE,
            name="Odense",
            agency_id="746100",
            creditor_number="81111111",
        )
        tenant_people.set_staff_identity_provider(
            conn,
            system.clock,
            ODENSE,
            issuer=issuer,
            client_id="odense",
            client_secret="odense-secret",
            development=True,
        )
        tenant_people.map_group(conn, system.clock, ODENSE, ODENSE_GROUP, Role.DEBTOR_STAFF)
    seed_demo_login(system, issuer)
    system.drain()
    return TestClient(create_app(system), follow_redirects=False)


def start_login(client: TestClient, path: str) -> str:
    """The authorization URL the login page redirects to (the login cookie now set)."""
    r = client.get(path)
    assert r.status_code == 303, r.text
    return r.headers["location"]


def with_params(url: str, **changes: str) -> str:
    parts = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return urlunparse(parts._replace(query=urlencode(query)))


def pick_person(authorization_url: str, subject: str) -> str:
    """Pick ``subject`` on the provider's form; the path and query the provider sends back."""
    r = httpx.post(authorization_url, data={"sub": subject})
    assert r.status_code == 302, r.text
    answer = urlparse(r.headers["location"])
    assert answer.netloc == "testserver"
    return f"{answer.path}?{answer.query}"


def log_in(
    client: TestClient,
    subject: str,
    *,
    path: str = "/login/staff/101",
    bend: Callable[[str], str] = lambda url: url,
) -> Response:
    """The whole login; ``bend`` may change the authorization URL on its way (an attacker's
    or a broken provider's part). Returns the callback's response."""
    url = bend(start_login(client, path))
    return client.get(pick_person(url, subject))


def session_cookie(
    system: System, kommunekode: str, role: Role, subject: str = "tester"
) -> tuple[dict[str, str], str]:
    """A staff session of ``kommunekode`` with ``role`` as the login would make it, without a
    provider (for tests that walk routes with sessions): (cookies, CSRF token). Send the token
    as ``X-CSRF-Token`` on changing requests."""
    from dataclasses import asdict

    from fbs_debitor.web.auth import sessions

    person = sessions.new_session(
        kind="staff", subject=subject, name=subject, municipality=kommunekode, role=role
    )
    sealed = sessions.seal(system.settings, b"session v1", asdict(person))
    return {sessions.SESSION_COOKIE: sealed}, person.csrf
