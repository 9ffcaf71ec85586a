"""Claims per second through one dunning run.

Set-up (not timed): a municipality; ``--claims`` claims registered in debtor through the bulk
path (``debtor.bulk.apply_registrations_bulk``, in transactions of ``--chunk``), 80 % fees
(public) and 20 % replacement charges (civil) spread over ``claims / 4`` debtors, each invoiced
at once (immediate mode: one invoice, letter and InvoiceIssued per claim). Rules: the defaults
with a 100 kr fee on the first reminder and interest on, so the run posts a fee on every claim
and interest on every public one.

Timed: ONE ``run_dunning`` at SRB + 14 days over all of them (one transaction), which sends the
first reminder of every invoice. ``claims_per_s`` = claims / seconds of the run; ``reminders``,
``postings`` and ``letters`` are what it made (checked against the database). Target: >= 20,000
claims/s on SQLite.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from bench.common import parser, run
from bench.setup import KOMMUNE, municipality, random_cpr
from fbs_debitor.bootstrap import build_system
from fbs_debitor.contracts.registration import ClaimRegistered, DebtorRef
from fbs_debitor.core.bankdays import next_bank_day
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.db import Database
from fbs_debitor.debtor.service.bulk_intake import Incoming, apply_registrations_bulk
from fbs_debitor.debtor.service.dunning import run_dunning
from fbs_debitor.debtor.service.rules import put_rules
from fbs_debitor.debtor.store.tables import invoices, letters, postings, reminders

START = date(2026, 3, 2)


def count(db: Database, table: Any, *where: Any) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def bench(db: Database, n: int, chunk: int) -> dict[str, Any]:
    clock = SettableClock.at_date(START)
    system = build_system(db=db, clock=clock)
    municipality(system)
    with db.begin() as conn:
        rules = put_rules(
            conn,
            clock,
            KOMMUNE,
            {
                "interest_enabled": True,
                "reminder_steps": [
                    {"days_after_deadline": 14, "fee_public_ore": 10000, "fee_civil_ore": 10000},
                    {
                        "days_after_deadline": 34,
                        "fee_public_ore": 25000,
                        "fee_civil_ore": 10000,
                        "announces_collection": True,
                    },
                ],
            },
        )
    rng = random.Random(11)
    debtors = [random_cpr(rng) for _ in range(max(1, n // 4))]
    now = clock.now()

    def claim(i: int) -> Incoming:
        kind = "compensation" if i % 5 == 0 else "fee"
        message = ClaimRegistered(
            municipality=KOMMUNE,
            occurred_at=now,
            claim_id=f"c{i}",
            patron_id=f"p{i % 9973}",
            debtor=DebtorRef(id_type="cpr", id=rng.choice(debtors)),
            claim_kind=kind,
            debtor_classification="BIB",
            psrm_claim_type="BIBLIO",
            amount_ore=rng.choice([2000, 9000, 12000, 23000, 34950]),
            created_on=START,
        )
        return Incoming(message, f"m{i}", None, 1)

    t = time.perf_counter()
    for start in range(0, n, chunk):
        with db.begin() as conn:
            outcomes = apply_registrations_bulk(
                conn, clock, [claim(i) for i in range(start, min(n, start + chunk))]
            )
            assert all(o.accepted for o in outcomes)
    setup_s = time.perf_counter() - t
    assert count(db, invoices) == n, "every claim is invoiced (immediate mode)"

    srb = next_bank_day(START + timedelta(days=rules.payment_term_days))
    on = srb + timedelta(days=14)
    clock.set_date(on)
    postings_before = count(db, postings)
    letters_before = count(db, letters)
    t = time.perf_counter()
    with db.begin() as conn:
        result = run_dunning(conn, clock, on, KOMMUNE)
    run_s = time.perf_counter() - t

    made_reminders = count(db, reminders)
    made_postings = count(db, postings) - postings_before
    made_letters = count(db, letters) - letters_before
    assert made_reminders == result.reminders == n, f"{made_reminders} reminders for {n} claims"
    assert made_postings == result.postings
    assert made_letters == result.letters == n
    with db.begin() as conn:
        again = run_dunning(conn, clock, on, KOMMUNE)
    assert again.reminders == again.postings == 0, "re-running the date changes nothing"
    return {
        "claims": n,
        "claims_per_s": round(n / run_s, 1),
        "run_s": round(run_s, 3),
        "reminders": made_reminders,
        "postings": made_postings,
        "letters": made_letters,
        "fees_ore": result.fees_ore,
        "interest_ore": result.interest_ore,
        "setup_claims_per_s": round(n / setup_s, 1),
    }


def main() -> None:
    p = parser("dunning", __doc__ or "")
    p.add_argument("--claims", type=int, default=200000)
    p.add_argument("--chunk", type=int, default=5000)
    args = p.parse_args()
    run("dunning", args.database, lambda db: bench(db, args.claims, args.chunk))


if __name__ == "__main__":
    main()
