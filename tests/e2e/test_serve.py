"""`fbs-debitor serve --demo` as `make run` starts it: migrates, seeds, serves health and metrics."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_demo_answers_healthz_and_metrics(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "serve.db"
    env = {**os.environ, "FBS_DEBITOR_LOG_JSON": "true"}
    proc = subprocess.Popen(  # noqa: S603 - our own CLI
        [
            sys.executable,
            "-m",
            "fbs_debitor.cli",
            "serve",
            "--demo",
            "--port",
            str(port),
            "--database",
            f"sqlite:///{db}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None, "serve did not answer within 60 s"
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        metrics = httpx.get(f"{base}/metrics", timeout=5)
        assert metrics.status_code == 200
        assert "fbs_debitor_leg_delay_seconds" in metrics.text
        sortiment = httpx.get(
            f"{base}/api/v1/101/sortiment",
            headers={"Authorization": "Bearer demo-101-admin"},
            timeout=5,
        )
        assert sortiment.status_code == 200
        assert {row["claim_kind"] for row in sortiment.json()} >= {"fee", "compensation"}
        openapi = httpx.get(f"{base}/openapi.json", timeout=5)
        assert openapi.status_code == 200
        assert "/external/{agencyid}/patron/{patronid}/fees/v2" in openapi.json()["paths"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert db.exists()
