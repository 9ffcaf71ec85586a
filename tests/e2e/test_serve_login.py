"""`fbs-debitor serve --demo` starts the development identity provider, so people can log in
to the demo; under FBS_DEBITOR_ENV=production neither it nor a server without a session secret
starts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx

from tests.e2e.test_serve import free_port


def _serve(tmp_path: Path, port: int, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own CLI
        [
            sys.executable,
            "-m",
            "fbs_debitor.cli",
            "serve",
            "--demo",
            "--port",
            str(port),
            "--database",
            f"sqlite:///{tmp_path / 'serve.db'}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, **env},
    )


def test_serve_demo_lets_people_log_in_through_the_development_provider(tmp_path: Path) -> None:
    port, idp_port = free_port(), free_port()
    proc = _serve(tmp_path, port, FBS_DEBITOR_DEV_IDP_PORT=str(idp_port))
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        page = None
        while time.monotonic() < deadline:
            try:
                page = httpx.get(f"{base}/login", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert page is not None, "serve did not answer within 90 s"
        assert 'href="/login/staff/101"' in page.text
        start = httpx.get(f"{base}/login/staff/101", timeout=10)
        assert start.status_code == 303
        authorize = urlparse(start.headers["location"])
        assert authorize.netloc == f"localhost:{idp_port}"
        query = parse_qs(authorize.query)
        assert query["redirect_uri"] == [f"{base}/auth/callback"]
        assert query["code_challenge_method"] == ["S256"]
        assert "sara@101" in httpx.get(start.headers["location"], timeout=10).text
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_production_refuses_the_development_provider_and_a_missing_secret(
    tmp_path: Path,
) -> None:
    no_secret = _serve(tmp_path, free_port(), FBS_DEBITOR_ENV="production")
    out, _ = no_secret.communicate(timeout=60)
    assert no_secret.returncode == 2
    assert b"FBS_DEBITOR_SESSION_SECRET is required" in out
    demo = _serve(
        tmp_path,
        free_port(),
        FBS_DEBITOR_ENV="production",
        FBS_DEBITOR_SESSION_SECRET="s" * 40,
        FBS_DEBITOR_DEV_IDP_PORT=str(free_port()),
    )
    out, _ = demo.communicate(timeout=60)
    assert demo.returncode == 2
    assert b"production" in out  # refused before anything is served
