"""Payments end to end (legs 3 and 4): a Danish camt.054 pays real invoices, debtor allocates,
the library's fees show paid.

Set-up (not timed): ``--entries`` fees (plus the steady part's) registered through the library
and invoiced by debtor, one invoice each; a camt.054.001.02 file with one entry paying each
invoice by its FIK payment ID, written to disk as a stream.

* ``entries_per_s``: the import runs in a child process, as ``fbs-debitor import camt`` does,
  while the worker runs in the background as under ``serve``; from the start of the import (its
  streaming XSD validation included) until debtor has allocated every payment and the library
  shows every fee paid. ``import_entries_per_s`` is the import alone (to ``PaymentReceived`` in
  the outbox), ``drain_after_import_s`` how long the worker still needed once the import ended.
* ``peak_rss_mb``: the import child's peak resident memory (``ru_maxrss``).
* ``cpu_us_per_entry``: CPU time per entry of everything that took part (this process with the
  worker thread, the import child, and on PostgreSQL the database server), ``cpu_busy`` how
  many CPUs that kept busy on average, and ``cpus_for_5000_per_s`` the CPUs 5,000 entries/s
  would keep busy at that cost: what a machine needs at the least to reach the target.
* ``legs34_p50_ms`` / ``legs34_p99_ms``: at a steady ``--rate`` payments/s (bank files of 5
  entries), the wall-clock time from a payment's arrival (``PaymentReceived`` written) to its fee
  updated in the library (``ClaimCovered`` applied).

``--scale-out 1,2`` (PostgreSQL) runs the end-to-end part once per pool size, the worker as
that many processes (``fbs-debitor worker --processes N``), each on invoices of its own;
``entries_per_s_best`` is the best of them. Its result is written as ``payments-scaleout.json``.

``--memory-only`` imports ``--entries`` entries that pay no invoice (each is stored as
unmatched and still sent to debtor) without the rest, and is meant for ``--entries 1000000``:
the import's memory must stay flat whatever the file size. Its result is written as
``payments-memory.json``.

Targets (issue 5): >= 5,000 entries/s, peak < 300 MB for 1,000,000 entries, legs 3+4 p99
< 500 ms at 50 payments/s.
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.common import CpuMeter, parser, percentile, run
from bench.setup import KOMMUNE, municipality, patrons
from fbs_debitor.bootstrap import System, build_system
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.db import Database
from fbs_debitor.core.fik import PaymentId
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.store.tables import invoices
from fbs_debitor.library.model import NewFee
from fbs_debitor.library.service import accounts
from fbs_debitor.library.store.tables import fees
from fbs_debitor.messaging.store import inbox, outbox
from fbs_debitor.payments.adapters.camt_writer import BankCredit, write_camt054
from fbs_debitor.payments.service.bank import import_bank_file
from fbs_debitor.workers import WorkerPool

DAY = date(2026, 3, 10)
ROOT = Path(__file__).resolve().parents[1]


def child(path: str, url: str) -> None:
    """The import in its own process: print the summary with the peak memory."""
    from fbs_debitor.core.clock import SystemClock

    summary = import_bank_file(Database(url), SystemClock(), KOMMUNE, Path(path)).to_json()
    summary.pop("errors")
    summary["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(summary))


def import_in_child(db: Database, path: Path) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "bench.payments", "--child", str(path), db.url],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return summary


def paid_fees(db: Database) -> int:
    with db.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(fees).where(fees.c.status == "paid")
            ).scalar_one()
        )


def anything_pending(db: Database) -> bool:
    """Whether the outbox holds a message not yet delivered (one probe of its partial index)."""
    with db.connect() as conn:
        return (
            conn.execute(select(outbox.c.id).where(outbox.c.status == "pending").limit(1)).first()
            is not None
        )


def wait_until_paid(db: Database, n: int, timeout_s: float) -> bool:
    """Until ``n`` fees are paid. The fees are counted only once the outbox is empty: counting
    them means reading the whole fee table, and doing that every 20 ms while the worker ran
    cost PostgreSQL a third of a CPU, which the benchmark then measured as ours."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        if not anything_pending(db) and paid_fees(db) >= n:
            return True
        time.sleep(0.02)
    return False


def payable_invoices(system: System, n: int) -> list[BankCredit]:
    """``n`` fees registered and invoiced; one bank credit paying each invoice in full."""
    ids = patrons(system, max(1, min(10000, n // 10)))
    rng = random.Random(3)
    for start in range(0, n, 5000):
        with system.db.begin() as conn:
            accounts.create_fees_bulk(
                conn,
                system.clock,
                KOMMUNE,
                [
                    NewFee(
                        patron_id=rng.choice(ids),
                        kind="fee",
                        amount=Money(rng.choice([2000, 9000, 12000])),
                    )
                    for _ in range(min(5000, n - start))
                ],
            )
        system.worker().drain(timeout_s=3600, wait_for_delayed=False)
    with system.db.connect() as conn:
        issued = conn.execute(
            select(invoices.c.payment_id, invoices.c.issued_total_ore).order_by(invoices.c.id)
        ).all()
    assert len(issued) == n, (len(issued), n)
    return [BankCredit(f"E{i:09d}", int(t), DAY, pid) for i, (pid, t) in enumerate(issued)]


def end_to_end(
    system: System, credits: list[BankCredit], tmp: Path, workers: int = 0
) -> dict[str, Any]:
    """The import in a child process while the worker runs: in this process as under ``serve``
    (``workers=0``), or as ``workers`` processes as ``fbs-debitor worker --processes``."""
    n = len(credits)
    path = tmp / f"bulk-{workers}.xml"
    write_camt054(path, f"BULK{workers}", credits)
    already = paid_fees(system.db)
    pool = WorkerPool(system.db.url, workers) if workers else None
    if pool is None:
        system.start_background(scheduler=False)
    else:
        os.environ.setdefault("FBS_DEBITOR_LOG_LEVEL", "WARNING")
        pool.start()
        time.sleep(3.0)  # started and polling an empty outbox
    meter = CpuMeter(system.db.is_postgresql, pool.pids if pool else None)
    cpu: dict[str, float] = {}
    try:
        meter.start()
        t = time.perf_counter()
        summary = import_in_child(system.db, path)
        imported = time.perf_counter() - t
        assert wait_until_paid(system.db, already + n, timeout_s=3600), "fees not paid in time"
        elapsed = time.perf_counter() - t
        cpu = meter.stop()
    finally:
        if pool is None:
            system.stop_background()
        else:
            pool.stop()
    assert summary["entries"] == n and summary["matched"] == n, summary
    cpu_s = sum(cpu.values())
    return {
        "entries_per_s": round(n / elapsed, 1),
        "import_entries_per_s": round(n / summary["elapsed_s"], 1),
        "import_s": round(imported, 2),
        "drain_after_import_s": round(elapsed - imported, 2),
        "peak_rss_mb": round(summary["peak_rss_mb"], 1),
        "cpu_us_per_entry": round(cpu_s / n * 1e6, 1),
        "cpu_busy": round(cpu_s / elapsed, 2),
        "cpus_for_5000_per_s": round(cpu_s / n * 5000, 2),
        **{f"cpu_{k}_s": v for k, v in cpu.items()},
    }


def steady(system: System, credits: list[BankCredit], rate: float, tmp: Path) -> dict[str, Any]:
    """Legs 3+4 at a steady rate, the worker in the background as under ``serve``."""
    already = paid_fees(system.db)
    since = datetime.now(UTC)
    system.start_background(scheduler=False)
    try:
        batch, next_at = 5, time.perf_counter()
        for i, start in enumerate(range(0, len(credits), batch)):
            p = tmp / f"s{i}.xml"
            write_camt054(p, f"STEADY-{i}", credits[start : start + batch])
            import_bank_file(system.db, system.clock, KOMMUNE, p)
            next_at += batch / rate
            time.sleep(max(0.0, next_at - time.perf_counter()))
        assert wait_until_paid(system.db, already + len(credits), timeout_s=60)
    finally:
        system.stop_background()
    with system.db.connect() as conn:
        arrived = {
            json.loads(p)["payment_ref"]: e
            for p, e in conn.execute(
                select(outbox.c.payload, outbox.c.enqueued_at).where(
                    outbox.c.message_type == "payment.PaymentReceived.v1",
                    outbox.c.enqueued_at >= since,
                )
            )
        }
        covered = {
            mid: json.loads(p)["payment_reference"]
            for mid, p in conn.execute(
                select(outbox.c.message_id, outbox.c.payload).where(
                    outbox.c.message_type == "coverage.ClaimCovered.v1",
                    outbox.c.enqueued_at >= since,
                )
            )
        }
        applied = conn.execute(
            select(inbox.c.message_id, inbox.c.applied_at).where(
                inbox.c.consumer == "library", inbox.c.message_id.in_(list(covered) or [""])
            )
        ).all()
    delays = [
        (a - arrived[covered[m]]).total_seconds() * 1000
        for m, a in applied
        if covered[m] in arrived
    ]
    assert len(delays) == len(credits), (len(delays), len(credits))
    return {
        "steady_rate_per_s": rate,
        "steady_payments": len(credits),
        "legs34_p50_ms": round(percentile(delays, 50), 2),
        "legs34_p99_ms": round(percentile(delays, 99), 2),
    }


def bench(db: Database, n: int, rate: float, steady_s: float) -> dict[str, Any]:
    system = build_system(db=db, clock=SettableClock.at_date(date(2026, 3, 2)))
    municipality(system)
    steady_n = int(rate * steady_s)
    t = time.perf_counter()
    credits = payable_invoices(system, n + steady_n)
    out: dict[str, Any] = {"entries": n, "setup_s": round(time.perf_counter() - t, 1)}
    with tempfile.TemporaryDirectory(prefix="fbsd-bench-pay-") as tmp:
        out.update(end_to_end(system, credits[:n], Path(tmp)))
        out.update(steady(system, credits[n:], rate, Path(tmp)))
    return out


def scale_out(db: Database, n: int, processes: list[int]) -> dict[str, Any]:
    """The end-to-end run once per pool size, each on its own ``n`` invoices (PostgreSQL)."""
    system = build_system(db=db, clock=SettableClock.at_date(date(2026, 3, 2)))
    municipality(system)
    credits = payable_invoices(system, n * len(processes))
    out: dict[str, Any] = {"entries": n}
    with tempfile.TemporaryDirectory(prefix="fbsd-bench-pay-") as tmp:
        for i, workers in enumerate(processes):
            run_ = end_to_end(system, credits[i * n : (i + 1) * n], Path(tmp), workers)
            print(json.dumps({"workers": workers, **run_}), file=sys.stderr)
            for key in ("entries_per_s", "cpu_us_per_entry", "cpu_busy"):
                out[f"{key}_{workers}w"] = run_[key]
    first, last = processes[0], processes[-1]
    out["scaling"] = round(out[f"entries_per_s_{last}w"] / out[f"entries_per_s_{first}w"], 2)
    out["entries_per_s_best"] = max(out[f"entries_per_s_{w}w"] for w in processes)
    return out


def unmatched_credits(n: int) -> Iterator[BankCredit]:
    """Entries with valid FIK payment IDs that belong to no invoice, made one at a time."""
    for i in range(n):
        yield BankCredit(f"M{i:012d}", 2000 + 7 * (i % 50), DAY, PaymentId.generate(i + 1).value)


def memory_only(db: Database, n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="fbsd-bench-camt-") as tmp:
        path = Path(tmp) / "camt054.xml"
        t = time.perf_counter()
        write_camt054(path, "MEMORY", unmatched_credits(n))
        generated = time.perf_counter() - t
        size = path.stat().st_size
        summary = import_in_child(db, path)
    with db.connect() as conn:
        received = conn.execute(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.message_type == "payment.PaymentReceived.v1")
        ).scalar_one()
    assert summary["entries"] == n and received == n, (summary, received)
    return {
        "entries": n,
        "file_mb": round(size / 2**20, 1),
        "generate_s": round(generated, 2),
        "import_entries_per_s": round(n / summary["elapsed_s"], 1),
        "unmatched": summary["unmatched"],
        "peak_rss_mb": round(summary["peak_rss_mb"], 1),
    }


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    p = parser("payments", __doc__ or "")
    p.add_argument("--entries", type=int, default=100000)
    p.add_argument("--rate", type=float, default=50.0)
    p.add_argument("--steady-seconds", type=float, default=10.0)
    p.add_argument(
        "--memory-only", action="store_true", help="import only, no invoices; for 1,000,000"
    )
    p.add_argument(
        "--scale-out",
        type=str,
        default="",
        metavar="N,M,...",
        help="end to end with N, then M, ... worker processes (PostgreSQL only)",
    )
    args = p.parse_args()
    if args.scale_out:
        sizes = [int(x) for x in args.scale_out.split(",")]
        run("payments-scaleout", "postgresql", lambda db: scale_out(db, args.entries, sizes))
    elif args.memory_only:
        run("payments-memory", args.database, lambda db: memory_only(db, args.entries))
    else:
        run(
            "payments",
            args.database,
            lambda db: bench(db, args.entries, args.rate, args.steady_seconds),
        )


if __name__ == "__main__":
    main()
