"""Payments end to end (legs 3 and 4): a Danish camt.054 pays real invoices, debtor allocates,
the library's fees show paid.

Set-up (not timed): ``--entries`` + steady fees registered through the library and invoiced by
debtor. ``entries_per_s``: from the start of the bank-file import until the worker has
allocated every payment in debtor and updated every fee in the library. ``legs34_p50_ms`` /
``legs34_p99_ms``: at a steady ``--rate`` payments/s (bank files of 5 entries, the worker in the
background as under ``serve``), the wall-clock time from a payment's arrival
(``PaymentReceived`` written) to its fee updated in the library (``ClaimCovered`` applied).
Targets (issue 5): >= 5,000 entries/s, legs 3+4 p99 < 500 ms at 50 payments/s.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.common import parser, percentile, run
from bench.setup import KOMMUNE, municipality, patrons
from fbs_debitor.bootstrap import build_system
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.db import Database
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.billing_tables import invoices
from fbs_debitor.library import service as library
from fbs_debitor.library.model import NewFee
from fbs_debitor.library.store import fees
from fbs_debitor.messaging.store import inbox, outbox
from fbs_debitor.payments.bank import import_bank_file
from fbs_debitor.payments.camt_writer import BankCredit, write_camt054

DAY = date(2026, 3, 10)


def bench(db: Database, n: int, rate: float, steady_s: float) -> dict[str, Any]:
    system = build_system(db=db, clock=SettableClock.at_date(date(2026, 3, 2)))
    municipality(system)
    ids = patrons(system, 2000)
    rng = random.Random(3)
    steady_n = int(rate * steady_s)
    total = n + steady_n
    for start in range(0, total, 2000):
        with db.begin() as conn:
            library.create_fees_bulk(
                conn,
                system.clock,
                KOMMUNE,
                [
                    NewFee(
                        patron_id=rng.choice(ids),
                        kind="fee",
                        amount=Money(rng.choice([2000, 9000, 12000])),
                    )
                    for _ in range(min(2000, total - start))
                ],
            )
    system.worker().drain(timeout_s=3600, wait_for_delayed=False)
    with db.connect() as conn:
        issued = conn.execute(
            select(invoices.c.payment_id, invoices.c.issued_total_ore).order_by(invoices.c.id)
        ).all()
    assert len(issued) == total, (len(issued), total)
    credits = [BankCredit(f"E{i:09d}", int(t), DAY, pid) for i, (pid, t) in enumerate(issued)]
    out: dict[str, Any] = {"entries": n}
    with tempfile.TemporaryDirectory(prefix="fbsd-flow-") as tmp:
        path = Path(tmp) / "bulk.xml"
        write_camt054(path, "BULK", credits[:n])
        t = time.perf_counter()
        import_bank_file(db, system.clock, KOMMUNE, path)
        imported = time.perf_counter() - t
        system.worker().drain(timeout_s=3600, wait_for_delayed=False)
        elapsed = time.perf_counter() - t
        with db.connect() as conn:
            paid = conn.execute(
                select(func.count()).select_from(fees).where(fees.c.status == "paid")
            ).scalar_one()
        assert paid == n, (paid, n)
        out.update(
            entries_per_s=round(n / elapsed, 1),
            import_s=round(imported, 2),
            allocate_and_cover_s=round(elapsed - imported, 2),
        )
        # steady rate with the worker in the background
        since = datetime.now(UTC)
        system.start_background(scheduler=False)
        batch = 5
        interval = batch / rate
        next_at = time.perf_counter()
        for i, start in enumerate(range(n, total, batch)):
            p = Path(tmp) / f"s{i}.xml"
            write_camt054(p, f"STEADY-{i}", credits[start : start + batch])
            import_bank_file(db, system.clock, KOMMUNE, p)
            next_at += interval
            pause = next_at - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            with db.connect() as conn:
                paid = conn.execute(
                    select(func.count()).select_from(fees).where(fees.c.status == "paid")
                ).scalar_one()
            if paid == total:
                break
            time.sleep(0.05)
        system.stop_background()
    with db.connect() as conn:
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
    assert len(delays) == steady_n, (len(delays), steady_n)
    out.update(
        steady_rate_per_s=rate,
        steady_payments=steady_n,
        legs34_p50_ms=round(percentile(delays, 50), 2),
        legs34_p99_ms=round(percentile(delays, 99), 2),
    )
    return out


def main() -> None:
    p = parser("payments_flow", __doc__ or "")
    p.add_argument("--entries", type=int, default=20000)
    p.add_argument("--rate", type=float, default=50.0)
    p.add_argument("--steady-seconds", type=float, default=10.0)
    args = p.parse_args()
    run(
        "payments_flow",
        args.database,
        lambda db: bench(db, args.entries, args.rate, args.steady_seconds),
    )


if __name__ == "__main__":
    main()
