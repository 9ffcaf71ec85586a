"""Claims per second from fee creation in the library to the claim in debtor (leg 1), and the
leg-1 delay at a steady rate.

Bulk: ``--claims`` new fees are created in transactions of ``--chunk`` (the library's bulk path),
and the worker delivers them; ``claims_per_s`` runs from the first fee to the last claim in
debtor, ``roundtrip_claims_per_s`` on until debtor's answers (RegistrationAccepted) have reached
the library and every fee shows ``registered``. ``--invoicing collected`` (the default) measures
leg 1 alone; ``immediate`` also issues each claim's invoice (leg 2) in the same transaction.
Steady: one fee every 1/``--rate`` seconds for ``--steady-seconds`` with the worker running in the
background as under ``serve``; leg 1 per claim = the claim's existence in debtor minus the fee's
creation, on the wall clock. Targets: >= 3,000 claims/s in bulk on SQLite; leg-1 p99 < 250 ms at
100 claims/s.
"""

from __future__ import annotations

import random
import time
from datetime import date
from typing import Any

from sqlalchemy import func, select

from bench.common import parser, percentile, run
from bench.setup import KOMMUNE, municipality, patrons
from fbs_debitor.bootstrap import build_system
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.db import Database
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.service.rules import put_rules
from fbs_debitor.debtor.store.tables import claims as debtor_claims
from fbs_debitor.library.model import NewFee
from fbs_debitor.library.service import accounts
from fbs_debitor.messaging.store import inbox, outbox


def count_claims(db: Database) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(debtor_claims)).scalar_one())


def delivered(db: Database, outbox_id: int) -> bool:
    """Whether the worker, which goes through the outbox in order, has passed ``outbox_id``."""
    with db.connect() as conn:
        status = conn.execute(select(outbox.c.status).where(outbox.c.id == outbox_id)).scalar_one()
    return bool(status == "sent")


def bench(
    db: Database, n: int, chunk: int, rate: float, steady_s: float, invoicing: str
) -> dict[str, Any]:
    system = build_system(db=db, clock=SettableClock.at_date(date(2026, 3, 2)))
    municipality(system)
    with db.begin() as conn:
        put_rules(conn, system.clock, KOMMUNE, {"invoicing_mode": invoicing})
    ids = patrons(system, min(5000, max(10, n // 20)))
    rng = random.Random(7)
    kinds = ["fee"] * 8 + ["compensation", "administration_fee"]

    def new_fee() -> NewFee:
        return NewFee(
            patron_id=rng.choice(ids),
            kind=rng.choice(kinds),
            amount=Money(rng.choice([2000, 9000, 12000, 23000, 34950])),
        )

    worker = system.worker()
    t = time.perf_counter()
    for start in range(0, n, chunk):
        with db.begin() as conn:
            accounts.create_fees_bulk(
                conn, system.clock, KOMMUNE, [new_fee() for _ in range(min(chunk, n - start))]
            )
    created_s = time.perf_counter() - t
    # the worker goes through the outbox in order: every claim reaches debtor, then debtor's
    # answers reach the library; the first is the figure, the second the round trip
    with db.connect() as conn:
        last = conn.execute(
            select(func.max(outbox.c.id)).where(
                outbox.c.message_type == "registration.ClaimRegistered.v1"
            )
        ).scalar_one()
    in_debtor_s = None
    while worker.run_once():
        if in_debtor_s is None and delivered(db, last):
            in_debtor_s = time.perf_counter() - t
    total_s = time.perf_counter() - t
    in_debtor = count_claims(db)
    assert in_debtor == n, f"{in_debtor} of {n} claims reached debtor"
    assert in_debtor_s is not None

    # steady rate with the in-process worker, as under `serve`
    before = time.time()
    system.start_background(scheduler=False)
    interval = 1.0 / rate
    steady_n = int(rate * steady_s)
    next_at = time.perf_counter()
    for _ in range(steady_n):
        with db.begin() as conn:
            accounts.create_fee(conn, system.clock, KOMMUNE, new_fee())
        next_at += interval
        pause = next_at - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    deadline = time.perf_counter() + 60
    while count_claims(db) < n + steady_n and time.perf_counter() < deadline:
        time.sleep(0.05)
    system.stop_background()
    from datetime import UTC, datetime

    since = datetime.fromtimestamp(before, UTC)
    with db.connect() as conn:
        rows = conn.execute(
            select(inbox.c.enqueued_at, inbox.c.applied_at).where(
                inbox.c.consumer == "debtor",
                inbox.c.message_type == "registration.ClaimRegistered.v1",
                inbox.c.enqueued_at >= since,
            )
        ).all()
    delays = [(a - e).total_seconds() * 1000 for e, a in rows]
    assert len(delays) == steady_n, f"{len(delays)} of {steady_n} steady claims measured"
    return {
        "claims": n,
        "claims_per_s": round(n / in_debtor_s, 1),
        "roundtrip_claims_per_s": round(n / total_s, 1),
        "create_s": round(created_s, 3),
        "in_debtor_s": round(in_debtor_s, 3),
        "answers_back_s": round(total_s - in_debtor_s, 3),
        "steady_rate_per_s": rate,
        "steady_claims": steady_n,
        "leg1_p50_ms": round(percentile(delays, 50), 2),
        "leg1_p99_ms": round(percentile(delays, 99), 2),
    }


def main() -> None:
    p = parser("registration", __doc__ or "")
    p.add_argument("--claims", type=int, default=100000)
    p.add_argument("--chunk", type=int, default=1000)
    p.add_argument("--rate", type=float, default=100.0)
    p.add_argument("--steady-seconds", type=float, default=10.0)
    p.add_argument(
        "--invoicing",
        choices=["collected", "immediate"],
        default="collected",
        help="debtor's invoicing mode: collected measures leg 1 alone; immediate also issues an "
        "invoice (leg 2) in the same transaction as each claim",
    )
    args = p.parse_args()
    run(
        "registration",
        args.database,
        lambda db: bench(
            db, args.claims, args.chunk, args.rate, args.steady_seconds, args.invoicing
        ),
    )


if __name__ == "__main__":
    main()
