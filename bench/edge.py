"""The edge under a large upload: one municipality's bank file does not hold up another's requests.

The real server (``fbs-debitor serve``: uvicorn, API, worker and scheduler in one process) on a
fresh database with two municipalities. Municipality 101 uploads a camt.054 file of about
``--file-mb`` MB (``--entries`` entries paying no invoice: each is stored and sent to debtor)
as a streamed body; the server spools it to disk, answers 202 and imports it in a background job
(in a process of its own) that 101 polls until it is done. Meanwhile municipality 147 reads its bank entries
(``GET /api/v1/147/bank-entries``) at a steady ``--rate`` requests/s.

* ``other_p50_ms`` / ``other_p99_ms`` / ``other_max_ms``: 147's latencies from the start of the
  upload until 101's import job is done (``other_requests`` requests, ``other_errors`` not 200);
  ``baseline_p50_ms`` / ``baseline_p99_ms`` the same requests before the upload, for comparison;
* ``upload_s``: from the first byte sent to the 202; ``import_s``: from the 202 to the job done;
* ``server_peak_rss_mb``: the server process's peak resident memory (sampled every 50 ms with
  psutil), the upload and the worker's delivery to debtor included; ``job_peak_rss_mb`` that of
  the import job's process (``FBS_DEBITOR_UPLOAD_JOBS=process``, the default), and
  ``server_and_job_peak_rss_mb`` of both together.

Targets (issue 17): 147's p99 < 200 ms during the upload, server peak RSS < 300 MB.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.common import parser, percentile, run
from fbs_debitor.bootstrap import build_system
from fbs_debitor.core.db import Database
from fbs_debitor.payments.adapters.camt_writer import BankCredit, write_camt054
from fbs_debitor.tenants.model import Role
from fbs_debitor.tenants.service import keys as tenant_keys
from fbs_debitor.tenants.service import municipalities as tenants

UPLOADER, OTHER = "101", "147"
UPLOADER_KEY, OTHER_KEY = "bench-101-staff", "bench-147-staff"
SERVE = [sys.executable, "-m", "fbs_debitor.cli", "serve"]
BYTES_PER_ENTRY = 430
"""About what one entry of camt_writer takes (for --file-mb)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _set_up(db: Database) -> None:
    system = build_system(db=db)
    with db.begin() as conn:
        for kode, name, agency, creditor, key in (
            (UPLOADER, "København", "710100", "89123456", UPLOADER_KEY),
            (OTHER, "Frederiksberg", "714700", "89123457", OTHER_KEY),
        ):
            tenants.create_municipality(
                conn,
                system.clock,
                kommunekode=kode,
                name=name,
                agency_id=agency,
                creditor_number=creditor,
            )
            tenant_keys.create_api_key(conn, system.clock, kode, Role.DEBTOR_STAFF, "bench", key)
    system.drain()


def _credits(n: int) -> Iterator[BankCredit]:
    day = date(2026, 3, 2)
    for i in range(n):
        yield BankCredit(f"EDGE{i:012d}", 10000 + i % 5000, day, text=f"betaling {i}")


class _RssPeak(threading.Thread):
    """Peak resident memory of the server process, of its children (the import job's process)
    and of both together, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = self.children_peak = self.total_peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            try:
                own = self.process.memory_info().rss
                children = 0
                for child in self.process.children(recursive=True):
                    try:
                        children += child.memory_info().rss
                    except psutil.Error:
                        continue
            except psutil.Error:
                return
            self.peak = max(self.peak, own)
            self.children_peak = max(self.children_peak, children)
            self.total_peak = max(self.total_peak, own + children)


def _steady(
    client: httpx.Client, rate: float, until: threading.Event, seconds: float | None = None
) -> tuple[list[float], int]:
    """GET 147's bank entries every 1/rate s until ``until`` is set (or ``seconds`` passed)."""
    latencies: list[float] = []
    errors = 0
    interval = 1.0 / rate
    start = time.perf_counter()
    n = 0
    while not until.is_set() and (seconds is None or time.perf_counter() - start < seconds):
        t0 = time.perf_counter()
        response = client.get(f"/api/v1/{OTHER}/bank-entries", params={"limit": 20})
        latencies.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            errors += 1
        n += 1
        pause = start + n * interval - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    return latencies, errors


def _file_blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while block := f.read(256 * 1024):
            yield block


def measure(db: Database, entries: int, rate: float, baseline_s: float) -> dict[str, Any]:
    _set_up(db)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="fbsd-bench-edge-") as tmp:
        camt = Path(tmp) / "big.xml"
        t0 = time.perf_counter()
        write_camt054(camt, "EDGE-BENCH", _credits(entries))
        generate_s = time.perf_counter() - t0
        env = {
            **os.environ,
            "FBS_DEBITOR_UPLOAD_DIR": str(Path(tmp) / "uploads"),
            "FBS_DEBITOR_LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(  # noqa: S603 - our own CLI
            [*SERVE, "--port", str(port), "--database", db.url],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        rss = _RssPeak(server.pid)
        rss.start()
        try:
            other = httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {OTHER_KEY}"}, timeout=60
            )
            deadline = time.monotonic() + 60
            while True:
                try:
                    if other.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not start within 60 s")
                time.sleep(0.2)
            for _ in range(5):  # warm-up, not counted
                other.get(f"/api/v1/{OTHER}/bank-entries", params={"limit": 20})
            baseline, _ = _steady(other, rate, threading.Event(), baseline_s)
            done = threading.Event()
            outcome: dict[str, Any] = {}

            def upload() -> None:
                headers = {
                    "Authorization": f"Bearer {UPLOADER_KEY}",
                    "Content-Type": "application/xml",
                }
                with httpx.Client(base_url=base, headers=headers, timeout=600) as c:
                    started = time.perf_counter()
                    accepted = c.post(f"/api/v1/{UPLOADER}/bank-files", content=_file_blocks(camt))
                    outcome["upload_s"] = time.perf_counter() - started
                    outcome["status"] = accepted.status_code
                    if accepted.status_code != 202:
                        outcome["error"] = accepted.text[:500]
                        done.set()
                        return
                    location = accepted.headers["Location"]
                    polled_at = time.perf_counter()
                    while True:
                        job = c.get(location).json()
                        if job["state"] in ("done", "failed"):
                            break
                        time.sleep(0.5)
                    outcome["import_s"] = time.perf_counter() - polled_at
                    outcome["job"] = job
                done.set()

            uploader = threading.Thread(target=upload, daemon=True)
            uploader.start()
            during, errors = _steady(other, rate, done)
            uploader.join()
            other.close()
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            rss.stop.set()
            rss.join()
        if outcome.get("status") != 202 or outcome["job"]["state"] != "done":
            raise RuntimeError(f"the upload did not go through: {outcome}")
        result = outcome["job"]["result"]
        return {
            "entries": result["entries"],
            "file_mb": round(camt.stat().st_size / 1e6, 1),
            "generate_s": round(generate_s, 2),
            "upload_s": round(outcome["upload_s"], 2),
            "import_s": round(outcome["import_s"], 2),
            "unmatched": result["unmatched"],
            "baseline_p50_ms": round(percentile(baseline, 50), 1),
            "baseline_p99_ms": round(percentile(baseline, 99), 1),
            "other_requests": len(during),
            "other_errors": errors,
            "other_p50_ms": round(percentile(during, 50), 1),
            "other_p99_ms": round(percentile(during, 99), 1),
            "other_max_ms": round(max(during), 1),
            "server_peak_rss_mb": round(rss.peak / 1e6),
            "job_peak_rss_mb": round(rss.children_peak / 1e6),
            "server_and_job_peak_rss_mb": round(rss.total_peak / 1e6),
        }


def main() -> None:
    p = parser("edge", __doc__ or "")
    p.add_argument("--file-mb", type=float, default=100.0, help="size of the uploaded camt file")
    p.add_argument("--entries", type=int, default=0, help="entries (overrides --file-mb)")
    p.add_argument("--rate", type=float, default=20.0, help="147's requests per second")
    p.add_argument("--baseline-seconds", type=float, default=10.0)
    args = p.parse_args()
    entries = args.entries or int(args.file_mb * 1e6 / BYTES_PER_ENTRY)
    run("edge", args.database, lambda db: measure(db, entries, args.rate, args.baseline_seconds))


if __name__ == "__main__":
    main()
