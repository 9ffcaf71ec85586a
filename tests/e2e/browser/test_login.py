"""A person logs in through the development identity provider in Chromium (Debian's, driven by
Playwright), lands on their page and sees only their municipality; axe-core finds no serious
or critical accessibility violation on the pages visited; the same provider is refused once
the environment is production. Screenshots go to docs/screenshots/login-*.png."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from fbs_debitor.bootstrap import System, build_system
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.demo import seed_demo_login
from fbs_debitor.migrate import upgrade
from fbs_debitor.settings import Settings
from fbs_debitor.tenants.service import municipalities as tenants
from fbs_debitor.web.app import create_app
from fbs_debitor.web.auth import devidp
from tests.integration.municipality_support import set_up_kobenhavn

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # the mock's Authlib interfaces
]


@pytest.fixture(scope="module")
def chromium() -> str:
    if shutil.which(CHROMIUM) is None:
        if IN_CI:
            pytest.fail("Debian's chromium is required in CI (make test-setup installs it)")
        pytest.skip("Debian's chromium is not installed (make test-setup)")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, System]]:
    """The app on SQLite with København (101) and Odense (461), uvicorn in a thread on a free
    port, the development provider in another."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    system = build_system(
        f"sqlite:///{tmp_path / 'browser.db'}",
        clock=SettableClock.at_date(date(2026, 3, 2)),
        settings=Settings(public_base_url=base),
    )
    upgrade(system.db)
    set_up_kobenhavn(system)
    with system.db.begin() as conn:
        tenants.create_municipality(
            conn,
            system.clock,
            kommunekode="461",
            name="Odense",
            agency_id="746100",
            creditor_number="81111111",
        )
    provider = devidp.start(system.settings, port=0)
    seed_demo_login(system, provider.issuer)
    system.drain()
    server = uvicorn.Server(
        uvicorn.Config(create_app(system), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield base, system
    finally:
        server.should_exit = True
        thread.join(10)
        provider.stop()
        system.db.dispose()


def _no_serious_violations(page: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    serious = [
        (v["id"], v["impact"], v["help"])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], serious


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"login-{name}.png"), full_page=True)


def test_staff_person_logs_in_in_chromium_and_sees_only_their_municipality(
    chromium: str, served: tuple[str, System]
) -> None:
    from playwright.sync_api import sync_playwright

    base, system = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 700}, locale="da-DK")
            page.goto(f"{base}/login")
            assert page.title() == "Log ind · fbs-debitor"
            _no_serious_violations(page)
            _shot(page, "choose")

            page.get_by_role("link", name="Medarbejder i København (101)").click()
            page.wait_for_url("**/oauth2/authorize**")  # the development provider's page
            page.get_by_role("button", name="sara@101").click()
            page.wait_for_url(f"{base}/staff")
            who = page.locator("p.who").inner_text()
            assert who == "Logget ind som Sara Sagsbehandler · København (101) · rolle debtor-staff"
            body = page.locator("body").inner_text()
            assert "København" in body and "Odense" not in body and "461" not in body
            _no_serious_violations(page)
            _shot(page, "staff")

            # the browser's session on the JSON API: 101 yes, 461 no
            assert page.request.get(f"{base}/api/v1/101/debtor-rules").status == 200
            other = page.request.get(f"{base}/api/v1/461/debtor-rules")
            assert other.status == 403
            assert other.json()["type"].endswith("wrong-municipality")

            page.get_by_role("button", name="Log ud").click()
            page.wait_for_url(f"{base}/login?logget_ud=1")
            assert page.get_by_role("status").inner_text() == "Du er logget ud."
            assert page.request.get(f"{base}/me").status == 401

            # a person whose groups give no role: a clear page
            page.get_by_role("link", name="Medarbejder i København (101)").click()
            page.get_by_role("button", name="uno@101").click()
            page.wait_for_url(f"{base}/auth/callback**")
            assert "ingen af dine grupper giver adgang" in page.get_by_role("alert").inner_text()
            _no_serious_violations(page)
            _shot(page, "refused")

            # a citizen: the CPR masked
            page.goto(f"{base}/login")
            page.get_by_role("link", name="Borger i København (101)").click()
            page.get_by_role("button", name="borger", exact=True).click()
            page.wait_for_url(f"{base}/portal")
            text = page.locator("body").inner_text()
            assert "010190-XXXX" in text and devidp.DEMO_CITIZEN_CPR not in text
            _no_serious_violations(page)
            _shot(page, "portal")

            # the same provider under FBS_DEBITOR_ENV=production: refused
            system.settings = system.settings.model_copy(
                update={
                    "env": "production",
                    "session_secret": Settings(session_secret="p" * 40).session_secret,  # type: ignore[arg-type]
                }
            )
            page.goto(f"{base}/login")
            assert page.request.get(f"{base}/me").status == 401  # the development session ended
            page.get_by_role("link", name="Medarbejder i København (101)").click()
            assert page.url == f"{base}/login/staff/101"  # no redirect to the provider
            assert "Udviklingsudbyderen" in page.get_by_role("alert").inner_text()
            _shot(page, "production-refused")
        finally:
            browser.close()
