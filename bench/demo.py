"""The default demo (``fbs-debitor demo``: 400 patrons, 365 days) timed on the wall clock, with
its per-leg delays (p50/p99 ms, the system's own processing time per leg, independent of the
simulated calendar). Target: under 2 minutes, reconciled, no dead letters."""

from __future__ import annotations

import time
from typing import Any

from bench.common import parser, run
from fbs_debitor.bootstrap import build_system
from fbs_debitor.core.clock import SettableClock, SystemClock
from fbs_debitor.core.db import Database
from fbs_debitor.simulation.engine import Scenario, Simulation


def bench(db: Database) -> dict[str, Any]:
    system = build_system(db=db, clock=SettableClock(SystemClock().now()))
    t = time.perf_counter()
    report = Simulation(system, Scenario()).run()
    out: dict[str, Any] = {
        "wall_s": round(time.perf_counter() - t, 1),
        "claims_created": report["claims_created"],
        "payments_imported": report["payments_imported"],
        "reconciled": report["reconciled"],
        "dead_letters": report["dead_letters"],
    }
    for leg, d in report["delays_ms"].items():
        out[f"{leg}_p50_ms"] = d["p50"]
        out[f"{leg}_p99_ms"] = d["p99"]
    assert report["reconciled"], report
    return out


def main() -> None:
    args = parser("demo", __doc__ or "").parse_args()
    run("demo", args.database, bench)


if __name__ == "__main__":
    main()
