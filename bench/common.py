"""What every benchmark shares: fresh databases per backend, argument parsing, the JSON line."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fbs_debitor.core.db import Database, normalize_url
from fbs_debitor.migrate import upgrade

PG_URL = os.environ.get(
    "FBS_DEBITOR_BENCH_POSTGRES_URL",
    os.environ.get("FBS_DEBITOR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
)
RESULTS = Path(__file__).resolve().parent / "results"


def parser(name: str, description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m bench.{name}", description=description)
    p.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    return p


def backends(choice: str) -> list[str]:
    return ["sqlite", "postgresql"] if choice == "both" else [choice]


@contextmanager
def fresh_database(backend: str) -> Iterator[Database]:
    """A new, migrated, empty database that is removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="fbsd-bench-") as tmp:
            db = Database(str(Path(tmp) / "bench.db"))
            upgrade(db)
            try:
                yield db
            finally:
                db.dispose()
        return
    admin = create_engine(normalize_url(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"fbsd_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalize_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    try:
        upgrade(db)
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "date": datetime.now(UTC).date().isoformat(),
    }


def run(name: str, choice: str, fn: Callable[[Database], dict[str, Any]]) -> dict[str, Any]:
    """Run ``fn`` on a fresh database of each chosen backend; print and save the JSON line."""
    results: dict[str, Any] = {}
    for backend in backends(choice):
        with fresh_database(backend) as db:
            results[backend] = fn(db)
    out = {"benchmark": name, "machine": machine(), "results": results}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(out, indent=2))
    print(json.dumps({"benchmark": name, "results": results}))
    return out


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


class CpuMeter:
    """CPU seconds spent between :meth:`start` and :meth:`stop` by this process, by its children
    that ended and were waited for in between (an import child), by ``pids`` (worker processes
    that live through the window), and on PostgreSQL by the whole database server (its
    backends, live or ended, and its helpers).

    The server figure covers every database of the cluster; run nothing else meanwhile.
    """

    def __init__(self, postgresql: bool, pids: list[int] | None = None) -> None:
        self.postgresql = postgresql
        self.pids = pids or []
        """Processes alive for the whole window (worker processes): read before they end."""
        self._start: dict[str, float] = {}

    def start(self) -> None:
        self._start = self._now()

    def stop(self) -> dict[str, float]:
        end = self._now()
        return {k: round(end[k] - self._start[k], 3) for k in end}

    def _now(self) -> dict[str, float]:
        me = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = {
            "self": me.ru_utime + me.ru_stime,
            "children": kids.ru_utime + kids.ru_stime,
        }
        if self.pids:
            out["workers"] = _cpu_of(self.pids)
        if self.postgresql:
            out["postgresql"] = _postgres_cpu()
        return out


def _cpu_of(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        t = psutil.Process(pid).cpu_times()
        total += t.user + t.system
    return total


def _postgres_cpu() -> float:
    """User + system CPU seconds of every postgres process now alive, plus what its ended
    backends left with the postmaster (children times)."""
    import psutil

    total = 0.0
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] != "postgres":
            continue
        try:
            t = proc.cpu_times()
            total += t.user + t.system
            if proc.parent() is None or proc.parent().name() != "postgres":  # the postmaster
                total += t.children_user + t.children_system
        except psutil.Error:
            continue  # ended while we looked; the postmaster has its times now
    return total
