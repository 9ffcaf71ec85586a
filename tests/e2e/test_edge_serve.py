"""`fbs-debitor serve` against slow and greedy clients, over a real socket: a body that dribbles in
is cut off (408) and the connection closed; a body over its limit is refused before it is sent."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fbs_debitor.bootstrap import build_system
from fbs_debitor.demo import demo_key, seed_demo
from fbs_debitor.migrate import upgrade
from fbs_debitor.tenants.model import Role
from tests.e2e.test_serve import free_port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    url = f"sqlite:///{tmp_path / 'edge.db'}"
    system = build_system(url)
    upgrade(system.db)
    seed_demo(system)
    system.db.dispose()
    port = free_port()
    env = {
        **os.environ,
        "FBS_DEBITOR_BODY_READ_TIMEOUT_SECONDS": "1",
        "FBS_DEBITOR_BODY_MIN_BYTES_PER_SECOND": "1000000",
        "FBS_DEBITOR_MAX_JSON_BYTES": "10000",
        "FBS_DEBITOR_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "fbs_debitor.cli", "serve", "--port", str(port), "--database", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not answer within 60 s"
            time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        proc.wait(30)


def _exchange(address: tuple[str, int], head: bytes, body: bytes) -> bytes:
    """Send ``head`` and ``body`` and then nothing more; everything the server answers until it
    closes the connection."""
    with socket.create_connection(address, timeout=30) as sock:
        sock.sendall(head + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def _head(length: int) -> bytes:
    return (
        "POST /api/v1/101/payments HTTP/1.1\r\nHost: localhost\r\n"
        f"Authorization: Bearer {demo_key(Role.CASH_REGISTER)}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def test_a_body_that_stops_coming_is_cut_off_with_408(server: tuple[str, int]) -> None:
    answer = _exchange(server, _head(100), b'{"debtor": ')  # and the rest never comes
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"body-read-timeout" in answer
    assert b"connection: close" in answer.lower()


def test_a_body_over_the_limit_is_refused_before_it_is_sent(server: tuple[str, int]) -> None:
    answer = _exchange(server, _head(50_000), b"")  # announced, not sent
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"body-too-large" in answer
