"""Claims per second through the hand-over to PSRM: eligibility and hand-over in one run.

Set-up (not timed): a municipality; ``--claims`` claims registered in debtor through the bulk path,
80 % fees (public) and 20 % replacement charges (civil, half of them acknowledged) over
``claims / 4`` debtors, each invoiced at once, in two cohorts: 5 % registered on 2 March 2026
(they reach their hand-over day first) and 95 % sixty days later; the dunning runs of both
reminder steps of each cohort (the second announces hand-over); the reminder letters marked
delivered in one statement (rendering hundreds of thousands of PDFs is the letters' own cost),
and the set-up's messages to the library (which has no fees in this benchmark) marked sent; on
PostgreSQL the tables analyzed, as autovacuum does after a bulk load (without statistics the
planner joins the reminder and letter aggregates by nested loops and the run is quadratic).

Timed, each ONE ``run_handover`` in one transaction (debtor's facts of every open claim, the
eligibility of each, and for each eligible claim its collection row, its OPRETFORDRING action and
two outbox messages):

* the **daily run** on the first cohort's hand-over day: every open claim evaluated, the 5 % whose
  day has come handed over, the others counted under their reason. ``claims_per_s`` = claims
  evaluated / seconds. Target: >= 10,000 claims/s on SQLite;
* the **burst** on the second cohort's hand-over day: the other 95 % become eligible at once (a
  municipality that switches collection on, or a year's backlog). ``burst_claims_per_s``.

Checked: every public claim and every acknowledged civil one handed over once, the unacknowledged
ones waiting for a person, and a repeated run the same day hands over nothing.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, update

from bench.common import parser, run
from bench.setup import KOMMUNE, municipality, random_cpr
from fbs_debitor.bootstrap import build_system
from fbs_debitor.collection.service.handover import HandoverResult, run_handover
from fbs_debitor.collection.store.tables import actions, claims
from fbs_debitor.contracts.registration import ClaimRegistered, DebtorRef
from fbs_debitor.core.bankdays import next_bank_day
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.db import Database
from fbs_debitor.debtor.service.bulk_intake import Incoming, apply_registrations_bulk
from fbs_debitor.debtor.service.dunning import run_dunning
from fbs_debitor.debtor.service.rules import put_rules
from fbs_debitor.debtor.store.tables import letters
from fbs_debitor.messaging.store import outbox

START = date(2026, 3, 2)


def count(db: Database, table: Any, *where: Any) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def bench(db: Database, n: int, chunk: int) -> dict[str, Any]:
    clock = SettableClock.at_date(START)
    system = build_system(db=db, clock=clock)
    municipality(system)
    with db.begin() as conn:
        rules = put_rules(conn, clock, KOMMUNE, {})
    rng = random.Random(12)
    debtors = [random_cpr(rng) for _ in range(max(1, n // 4))]
    first_cohort = max(20, n // 20)
    later = START + timedelta(days=60)

    def claim(i: int, created_on: date) -> Incoming:
        civil = i % 5 == 0
        message = ClaimRegistered(
            municipality=KOMMUNE,
            occurred_at=clock.now(),
            claim_id=f"c{i}",
            patron_id=f"p{i % 9973}",
            debtor=DebtorRef(id_type="cpr", id=rng.choice(debtors)),
            claim_kind="compensation" if civil else "fee",
            debtor_classification="BIB",
            psrm_claim_type="BIBLIO",
            amount_ore=rng.choice([2000, 9000, 12000, 23000, 34950]),
            created_on=created_on,
            acknowledged=civil and i % 10 == 0,
        )
        return Incoming(message, f"m{i}", None, 1)

    def register(first: int, last: int, on: date) -> date:
        clock.set_date(on)
        for start in range(first, last, chunk):
            with db.begin() as conn:
                outcomes = apply_registrations_bulk(
                    conn, clock, [claim(i, on) for i in range(start, min(last, start + chunk))]
                )
                assert all(o.accepted for o in outcomes)
        srb = next_bank_day(on + timedelta(days=rules.payment_term_days))
        return srb

    def analyze() -> None:
        """PostgreSQL: the statistics autovacuum keeps after a bulk load like these."""
        if db.is_postgresql:
            with db.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()

    def remind(srb: date) -> None:
        for step in rules.reminder_steps:
            on = srb + timedelta(days=step.days_after_deadline)
            clock.set_date(on)
            analyze()
            with db.begin() as conn:
                run_dunning(conn, clock, on, KOMMUNE)
        with db.begin() as conn:  # the letters went out (their rendering is not measured here)
            conn.execute(
                update(letters)
                .where(letters.c.status == "pending")
                .values(status="delivered", delivered_at=clock.now())
            )

    srb_first = register(0, first_cohort, START)
    srb_later = register(first_cohort, n, later)
    remind(srb_first)
    remind(srb_later)
    with db.begin() as conn:  # the set-up's answers and invoices have no library to go to here
        conn.execute(update(outbox).where(outbox.c.status == "pending").values(status="sent"))
    analyze()
    wiring = system.collection
    assert wiring is not None

    def timed_run(on: date) -> tuple[HandoverResult, float]:
        clock.set_date(on)
        t = time.perf_counter()
        with db.begin() as conn:
            result = run_handover(conn, clock, on, KOMMUNE, wiring.facts)
        return result, time.perf_counter() - t

    def expected(first: int, last: int) -> tuple[int, int]:
        """(handed over, unacknowledged) of claims first..last-1."""
        civil = sum(1 for i in range(first, last) if i % 5 == 0)
        acknowledged = sum(1 for i in range(first, last) if i % 10 == 0)
        return last - first - civil + acknowledged, civil - acknowledged

    outbox_before = count(db, outbox)
    daily, daily_s = timed_run(srb_first + timedelta(days=rules.collection_days_after_deadline))
    handed, waiting = expected(0, first_cohort)
    handed_later, waiting_later = expected(first_cohort, n)
    assert daily.evaluated == n, f"{daily.evaluated} evaluated of {n}"
    assert daily.handed_over == handed == count(db, claims), daily.as_dict()
    assert daily.not_eligible == {  # each claim under its first reason
        "unacknowledged": waiting + waiting_later,
        "hand-over-day-not-reached": handed_later,
    }, daily.as_dict()
    assert count(db, outbox) - outbox_before == 2 * handed
    system.drain(timeout_s=600)  # debtor marks them handed over; PSRM (the stand-in) gets them

    burst, burst_s = timed_run(srb_later + timedelta(days=rules.collection_days_after_deadline))
    assert burst.evaluated == n - handed, burst.as_dict()
    assert burst.handed_over == handed_later, burst.as_dict()
    assert count(db, claims) == count(db, actions) == handed + handed_later
    assert burst.not_eligible == {"unacknowledged": waiting + waiting_later}, burst.as_dict()
    with db.begin() as conn:
        again = run_handover(conn, clock, burst.on, KOMMUNE, wiring.facts)
    assert again.handed_over == 0, "a second run the same day hands nothing over"
    return {
        "claims": n,
        "claims_per_s": round(n / daily_s, 1),
        "run_s": round(daily_s, 3),
        "handed_over": daily.handed_over,
        "burst_claims_per_s": round(burst.evaluated / burst_s, 1),
        "burst_run_s": round(burst_s, 3),
        "burst_handed_over": burst.handed_over,
    }


def main() -> None:
    p = parser("collection", __doc__ or "")
    p.add_argument("--claims", type=int, default=200000)
    p.add_argument("--chunk", type=int, default=5000)
    args = p.parse_args()
    run("collection", args.database, lambda db: bench(db, args.claims, args.chunk))


if __name__ == "__main__":
    main()
