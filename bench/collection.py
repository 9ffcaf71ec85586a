"""Claims per second through the hand-over to PSRM: eligibility and hand-over in one run.

Set-up (not timed): a municipality; ``--claims`` claims registered in debtor through the bulk path,
80 % fees (public) and 20 % replacement charges (civil, half of them acknowledged) over
``claims / 4`` debtors, each invoiced at once; the dunning runs of both reminder steps (the
second announces hand-over); the reminder letters marked delivered in one statement (rendering
hundreds of thousands of PDFs is the letters' own cost, not the hand-over's).

Timed: ONE ``run_handover`` on SRB + 120 days, the first day the claims qualify (one
transaction): debtor's facts of every open claim, the eligibility of each, and for each eligible
claim its collection row, its OPRETFORDRING action, and two outbox messages (the action for the
PSRM sender, ``ClaimHandedOver`` for debtor). ``claims_per_s`` = claims evaluated / seconds of
the run. Checked: every public claim and every acknowledged civil one handed over, the
unacknowledged ones waiting for a person, and a second run the same day hands over nothing.
Target: >= 10,000 claims/s evaluated on SQLite.
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
from fbs_debitor.collection.service.handover import run_handover
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
    now = clock.now()

    def claim(i: int) -> Incoming:
        civil = i % 5 == 0
        message = ClaimRegistered(
            municipality=KOMMUNE,
            occurred_at=now,
            claim_id=f"c{i}",
            patron_id=f"p{i % 9973}",
            debtor=DebtorRef(id_type="cpr", id=rng.choice(debtors)),
            claim_kind="compensation" if civil else "fee",
            debtor_classification="BIB",
            psrm_claim_type="BIBLIO",
            amount_ore=rng.choice([2000, 9000, 12000, 23000, 34950]),
            created_on=START,
            acknowledged=civil and i % 10 == 0,
        )
        return Incoming(message, f"m{i}", None, 1)

    for start in range(0, n, chunk):
        with db.begin() as conn:
            outcomes = apply_registrations_bulk(
                conn, clock, [claim(i) for i in range(start, min(n, start + chunk))]
            )
            assert all(o.accepted for o in outcomes)
    srb = next_bank_day(START + timedelta(days=rules.payment_term_days))
    for step in rules.reminder_steps:
        on = srb + timedelta(days=step.days_after_deadline)
        clock.set_date(on)
        with db.begin() as conn:
            run_dunning(conn, clock, on, KOMMUNE)
    with db.begin() as conn:  # the letters went out (their rendering is not measured here)
        conn.execute(
            update(letters)
            .where(letters.c.status == "pending")
            .values(status="delivered", delivered_at=clock.now())
        )
    on = srb + timedelta(days=rules.collection_days_after_deadline)
    clock.set_date(on)
    wiring = system.collection
    assert wiring is not None
    outbox_before = count(db, outbox)
    t = time.perf_counter()
    with db.begin() as conn:
        result = run_handover(conn, clock, on, KOMMUNE, wiring.facts)
    run_s = time.perf_counter() - t

    civil = n // 5 + (1 if n % 5 else 0)
    acknowledged = len(range(0, n, 10))
    expected = n - civil + acknowledged
    assert result.evaluated == n, f"{result.evaluated} evaluated of {n}"
    assert result.handed_over == expected == count(db, claims), result.as_dict()
    assert count(db, actions) == expected
    assert count(db, outbox) - outbox_before == 2 * expected
    assert result.not_eligible == {"unacknowledged": civil - acknowledged}
    with db.begin() as conn:
        again = run_handover(conn, clock, on, KOMMUNE, wiring.facts)
    assert again.handed_over == 0 and again.evaluated == n, "a second run hands nothing over"
    return {
        "claims": n,
        "claims_per_s": round(n / run_s, 1),
        "run_s": round(run_s, 3),
        "handed_over": result.handed_over,
        "not_eligible": dict(result.not_eligible),
    }


def main() -> None:
    p = parser("collection", __doc__ or "")
    p.add_argument("--claims", type=int, default=200000)
    p.add_argument("--chunk", type=int, default=5000)
    args = p.parse_args()
    run("collection", args.database, lambda db: bench(db, args.claims, args.chunk))


if __name__ == "__main__":
    main()
