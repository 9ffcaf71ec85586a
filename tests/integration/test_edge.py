"""The HTTP edge (web/edge.py): who calls and how large and slow a body may be are decided before
a byte of the body is read; security headers on every response; /docs from our own host; bank
uploads answered 202 and imported by a job; SQLite readers that never wait for a writer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from fbs_debitor.bootstrap import System, build_system
from fbs_debitor.cli.main import app as cli
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.db import Database
from fbs_debitor.core.errors import ValidationError
from fbs_debitor.demo import demo_key, seed_demo
from fbs_debitor.payments.service.bank import import_bank_file
from fbs_debitor.payments.store.tables import bank_uploads
from fbs_debitor.settings import Settings
from fbs_debitor.tenants.model import Role
from fbs_debitor.tenants.service import keys as tenant_keys
from fbs_debitor.tenants.service import municipalities as tenants
from fbs_debitor.web import deps
from fbs_debitor.web.app import create_app
from tests.integration.payments_support import (
    CAMT,
    SINGLE,
    K,
    counts,
    issue,
    payments_only,
    sent,
    upload,
)

B = f"/api/v1/{K}"
JSON_LIMIT = 1_000
BANK_LIMIT = 20_000
STAFF = {"Authorization": f"Bearer {demo_key(Role.DEBTOR_STAFF)}"}
TILL = {"Authorization": f"Bearer {demo_key(Role.CASH_REGISTER)}"}


@pytest.fixture
def edge_system(database: Database, clock: SettableClock, tmp_path: Path) -> System:
    """Municipality 101 (the demo keys) with small body limits and its own upload folder; only
    the payments context subscribed (what it sends stays in the outbox)."""
    settings = Settings(
        max_json_bytes=JSON_LIMIT,
        max_bank_file_bytes=BANK_LIMIT,
        upload_dir=str(tmp_path / "uploads"),
        trust_proxy_headers=True,
    )
    system = build_system(db=database, clock=clock, settings=settings)
    seed_demo(system)
    pay = payments_only(system)
    pay.drain()
    return pay


@pytest.fixture
def client(edge_system: System) -> TestClient:
    return TestClient(create_app(edge_system), raise_server_exceptions=False)


class Body:
    """A request body that records whether anybody read it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.consumed = False

    def __iter__(self) -> Iterator[bytes]:
        self.consumed = True
        left = self.size
        while left > 0:
            block = min(left, 4096)
            left -= block
            yield b"x" * block


def _problem(response: Any, status: int, code: str | None) -> dict[str, Any]:
    """The response is a problem+json of ``status`` (and of ``code``, unless None)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"].startswith("https://fbs-debitor.dk/problems/")
    if code is not None:
        assert body["type"] == f"https://fbs-debitor.dk/problems/{code}"
    assert body["status"] == status
    return body


# -- who calls, before the body ----------------------------------------------------------------


def test_a_request_without_a_key_is_refused_before_its_body_is_read(client: TestClient) -> None:
    huge = Body(50_000_000)
    response = client.post(
        f"{B}/bank-files", content=huge, headers={"Content-Type": "application/xml"}
    )
    _problem(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="fbs-debitor"'
    assert response.headers["Connection"] == "close"
    assert not huge.consumed
    basic = client.get(f"{B}/bank-entries", headers={"Authorization": "Basic dXNlcjpwdw=="})
    _problem(basic, 401, "unauthenticated")


def test_an_unknown_key_is_refused_before_its_body_is_read(
    client: TestClient, edge_system: System
) -> None:
    huge = Body(50_000_000)
    response = client.post(
        f"{B}/bank-files", content=huge, headers={"Authorization": "Bearer no-such-key"}
    )
    _problem(response, 401, None)  # the code is the key store's (unknown, expired, revoked)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="fbs-debitor"'
    assert not huge.consumed
    assert counts(edge_system)["files"] == 0


def test_the_key_is_looked_up_once_per_request(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = deps.tenant_keys.authenticate

    def counting(conn: Any, clock: Any, token: str, **options: Any) -> Any:
        calls.append(token)
        return real(conn, clock, token, **options)

    monkeypatch.setattr(deps.tenant_keys, "authenticate", counting)
    response = client.get(f"{B}/bank-entries", headers=STAFF)
    assert response.status_code == 200, response.text
    assert calls == [demo_key(Role.DEBTOR_STAFF)]  # the route took the edge's principal
    wrong_role = client.get(f"{B}/bank-entries", headers=TILL)
    assert wrong_role.status_code == 403  # known caller, wrong role: the route decides


def test_the_patron_api_needs_a_token_that_its_routes_check(client: TestClient) -> None:
    _problem(client.get("/external/710100/nothing"), 401, "unauthenticated")
    passed = client.get(
        "/external/710100/nothing", headers={"Authorization": "Bearer patron-token"}
    )
    assert passed.status_code == 404  # past the edge: the token is the routes' business


# -- how much ----------------------------------------------------------------------------------


def test_a_body_over_its_routes_limit_by_content_length_is_refused_unread(
    client: TestClient,
) -> None:
    big = Body(JSON_LIMIT + 1)
    response = client.post(
        f"{B}/payments",
        content=big,
        headers={**TILL, "Content-Length": str(JSON_LIMIT + 1), "Content-Type": "application/json"},
    )
    body = _problem(response, 413, "body-too-large")
    assert str(JSON_LIMIT) in body["detail"]
    assert not big.consumed
    # the bank-file route takes more than a JSON route, but not more than its own limit
    file = Body(BANK_LIMIT + 1)
    refused = client.post(
        f"{B}/bank-files", content=file, headers={**STAFF, "Content-Length": str(BANK_LIMIT + 1)}
    )
    _problem(refused, 413, "body-too-large")
    assert not file.consumed
    bad_length = client.post(
        f"{B}/payments", content=b"{}", headers={**TILL, "Content-Length": "two"}
    )
    assert bad_length.status_code == 400


def test_a_chunked_body_is_counted_as_it_streams(client: TestClient, tmp_path: Path) -> None:
    json_body = Body(JSON_LIMIT + 1)
    response = client.post(
        f"{B}/payments",
        content=json_body,
        headers={**TILL, "Content-Type": "application/json"},
    )
    _problem(response, 413, "body-too-large")
    assert json_body.consumed  # no Content-Length: it had to be counted
    file = Body(BANK_LIMIT + 1)
    refused = client.post(
        f"{B}/bank-files", content=file, headers={**STAFF, "Content-Type": "application/xml"}
    )
    _problem(refused, 413, "body-too-large")
    assert list((tmp_path / "uploads").iterdir()) == []  # the partial spool file is gone
    small_file = (CAMT / "dk-single-fik.xml").read_bytes()
    assert JSON_LIMIT < len(small_file) < BANK_LIMIT  # a bank file over the JSON limit is fine
    job = upload(client, B, small_file, {**STAFF, "Content-Type": "application/xml"})
    assert job["state"] == "done"


# -- how slowly --------------------------------------------------------------------------------


def test_a_body_that_dribbles_in_is_cut_off_with_408(edge_system: System) -> None:
    impatient = edge_system.settings.model_copy(
        update={"body_read_timeout_seconds": 0.5, "body_min_bytes_per_second": 1}
    )
    app = create_app(build_system(db=edge_system.db, clock=edge_system.clock, settings=impatient))
    sent_messages: list[dict[str, Any]] = []
    first = True

    async def receive() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"{", "more_body": True}
        await asyncio.Event().wait()  # the rest never comes
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent_messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"{B}/payments",
        "raw_path": f"{B}/payments".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"transfer-encoding", b"chunked"),
            (b"authorization", TILL["Authorization"].encode()),
        ],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent_messages if m["type"] == "http.response.start")
    assert start["status"] == 408
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    assert headers["connection"] == "close"
    body = b"".join(m.get("body", b"") for m in sent_messages if m["type"] == "http.response.body")
    assert b"body-read-timeout" in body


# -- security headers and /docs ----------------------------------------------------------------


def test_every_response_has_the_security_headers(client: TestClient) -> None:
    for response in (
        client.get("/healthz"),
        client.get(f"{B}/bank-entries", headers=STAFF),
        client.get(f"{B}/bank-entries"),  # 401 from the edge
        client.get("/nothing-here"),  # 404
    ):
        h = response.headers
        assert "default-src 'self'" in h["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
        assert "'unsafe-inline'" not in h["Content-Security-Policy"]
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "no-referrer"
        assert h["X-Frame-Options"] == "DENY"
        assert "camera=()" in h["Permissions-Policy"]
        assert "Strict-Transport-Security" not in h  # plain http
    api = client.get(f"{B}/bank-entries", headers=STAFF)
    assert api.headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/healthz").headers.get("Cache-Control", "")


def test_hsts_only_over_tls(edge_system: System) -> None:
    tls = TestClient(create_app(edge_system), base_url="https://testserver")
    assert "max-age=" in tls.get("/healthz").headers["Strict-Transport-Security"]
    plain = TestClient(create_app(edge_system))
    proxied = plain.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in proxied.headers  # trust_proxy_headers is on here
    untrusting = build_system(db=edge_system.db, clock=edge_system.clock)
    assert not untrusting.settings.trust_proxy_headers
    other = TestClient(create_app(untrusting)).get(
        "/healthz", headers={"X-Forwarded-Proto": "https"}
    )
    assert "Strict-Transport-Security" not in other.headers


def test_docs_are_served_from_our_own_host(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.text
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assert "<script>" not in html  # no inline script: the CSP forbids them
    script = client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert script.status_code == 200, "run make install (npm ci + copy into static/vendor)"
    assert "javascript" in script.headers["content-type"]
    assert "SwaggerUIBundle" in script.text[:200_000] or len(script.content) > 100_000
    assert client.get("/static/vendor/swagger-ui/swagger-ui.css").status_code == 200
    assert client.get("/static/swagger-init.js").status_code == 200
    assert client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").status_code == 200


# -- bank files: DOCTYPE, the job -------------------------------------------------------------


def _with_doctype() -> bytes:
    original = (CAMT / "dk-single-fik.xml").read_text(encoding="utf-8")
    declaration = '<?xml version="1.0" encoding="UTF-8"?>\n'
    assert original.startswith(declaration)
    doctype = '<!DOCTYPE Document [<!ENTITY payer "Jens &#38; Co">]>\n'
    return (
        declaration + doctype + original[len(declaration) :].replace("Jens Hansen", "&payer;")
    ).encode()


def test_a_bank_file_with_a_doctype_is_refused_whole(
    client: TestClient, edge_system: System, tmp_path: Path
) -> None:
    issue(edge_system, "1", SINGLE, 12500)
    body = _with_doctype()
    response = client.post(
        f"{B}/bank-files", content=body, headers={**STAFF, "Content-Type": "application/xml"}
    )
    problem = _problem(response, 422, "bank-file-doctype")
    assert "DOCTYPE" in problem["detail"]
    path = tmp_path / "doctype.xml"
    path.write_bytes(body)
    with pytest.raises(ValidationError) as refused:
        import_bank_file(edge_system.db, edge_system.clock, K, path)
    assert refused.value.code == "bank-file-doctype"
    cli_run = CliRunner().invoke(
        cli,
        ["import", "camt", str(path), "--municipality", K, "--database", edge_system.db.url],
    )
    assert cli_run.exit_code == 2
    assert "DOCTYPE" in cli_run.output
    assert counts(edge_system)["files"] == 0
    assert sent(edge_system, "PaymentReceived") == []
    assert list((tmp_path / "uploads").iterdir()) == []
    with edge_system.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(bank_uploads)).scalar_one() == 0


def test_an_upload_is_a_job_that_only_its_municipality_sees(
    edge_system: System, tmp_path: Path
) -> None:
    """The job in a thread of the serving process (the default, a child process, runs in the
    other upload tests)."""
    issue(edge_system, "1", SINGLE, 12500)
    threaded = edge_system.settings.model_copy(update={"upload_jobs": "thread"})
    system = System(
        settings=threaded, db=edge_system.db, clock=edge_system.clock, router=edge_system.router
    )
    client = TestClient(create_app(system), raise_server_exceptions=False)
    headers = {**STAFF, "Content-Type": "application/xml"}
    job = upload(client, B, (CAMT / "dk-single-fik.xml").read_bytes(), headers)
    assert (job["state"], job["result"]["matched"], job["result"]["total_ore"]) == (
        "done",
        1,
        12500,
    )
    assert list((tmp_path / "uploads").iterdir()) == []  # the spooled file is removed
    with edge_system.db.begin() as conn:
        tenants.create_municipality(
            conn,
            edge_system.clock,
            kommunekode="147",
            name="Frederiksberg",
            agency_id="714700",
            creditor_number="89123457",
        )
        tenant_keys.create_api_key(
            conn, edge_system.clock, "147", Role.DEBTOR_STAFF, "staff", "key-147-staff"
        )
    other = client.get(
        f"/api/v1/147/bank-files/{job['job_id']}",
        headers={"Authorization": "Bearer key-147-staff"},
    )
    _problem(other, 404, "upload-not-found")


# -- SQLite: readers do not wait for writers ----------------------------------------------------


def test_a_reader_is_not_blocked_by_a_writer_holding_its_transaction(database: Database) -> None:
    with database.begin() as setup:
        setup.execute(text("CREATE TABLE edge_probe (n INTEGER)"))
        setup.execute(text("INSERT INTO edge_probe (n) VALUES (1)"))
    with database.begin() as writer:
        writer.execute(text("INSERT INTO edge_probe (n) VALUES (2)"))
        # the writer holds its transaction (the write lock on SQLite) while another connection
        # reads; with no wait allowed, a reader that asked for the lock would fail at once
        with database.connect() as reader:
            if database.dialect == "sqlite":
                reader.exec_driver_sql("PRAGMA busy_timeout=0")
            seen = reader.execute(text("SELECT count(*) FROM edge_probe")).scalar_one()
        assert seen == 1  # the committed snapshot, not the writer's row
    with database.connect() as after:
        assert after.execute(text("SELECT count(*) FROM edge_probe")).scalar_one() == 2
    with database.begin() as cleanup:
        cleanup.execute(text("DROP TABLE edge_probe"))


def test_a_job_left_behind_is_taken_up_by_the_sweep(edge_system: System, tmp_path: Path) -> None:
    """A process that stopped before it ran its job leaves it queued; the scheduled sweep of
    the payments context runs it (here in a thread: it shares the test's clock)."""
    from fbs_debitor.payments import handlers
    from fbs_debitor.payments.service import uploads

    issue(edge_system, "1", SINGLE, 12500)
    threaded = edge_system.settings.model_copy(update={"upload_jobs": "thread"})
    spooled = uploads.new_spool_path(threaded)
    spooled.write_bytes((CAMT / "dk-single-fik.xml").read_bytes())
    job_id = uploads.queue_job(
        edge_system.db, edge_system.clock, K, spooled, filename="left.xml", dry_run=False
    )
    ((name, _interval, sweep),) = handlers.jobs(edge_system.db, edge_system.clock, threaded)
    assert name == "bank-uploads"
    assert sweep() == 1
    job = uploads.job_view(edge_system.db, K, job_id)
    assert (job["state"], job["result"]["matched"], job["payments_read"]) == ("done", 1, 1)
    assert not spooled.exists()
    assert sweep() == 0  # nothing left
    assert uploads.run_job(edge_system.db, edge_system.clock, job_id) is False  # done is done
