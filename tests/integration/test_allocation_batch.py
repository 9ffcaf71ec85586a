"""The batch path of allocation (the worker's fast path) against its oracle, the one-at-a-time
path: the same payments, applied both ways to the same state, must write the same postings,
payment rows, claim states and messages, to the øre."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, select

from fbs_debitor.bootstrap import System
from fbs_debitor.contracts.payment import PaymentReceived
from fbs_debitor.contracts.registration import DebtorRef
from fbs_debitor.core.fik import PaymentId
from fbs_debitor.debtor.service import allocation
from fbs_debitor.debtor.store import tables
from fbs_debitor.debtor.store.tables import claims, postings
from fbs_debitor.messaging.store import outbox
from tests.integration.leg34_support import K, new_fee

OTHER_CPR = "0202802345"


def _payment(ref: str, ore: int, **fields: Any) -> PaymentReceived:
    return PaymentReceived(
        municipality=K,
        occurred_at=datetime(2026, 3, 2, 8, tzinfo=UTC),
        payment_ref=ref,
        channel=fields.pop("channel", "bank"),
        booked_on=date(2026, 3, 2),
        amount_ore=ore,
        **fields,
    )


def _snapshot(conn: Connection, first_outbox_id: int) -> dict[str, Any]:
    """What allocation wrote, in a form that does not depend on generated ids or order of
    unrelated messages."""
    ledger = [
        (r.claim_pk, r.kind, r.amount_ore, r.note, r.effective_on)
        for r in conn.execute(select(postings).order_by(postings.c.id))
    ]
    paid = sorted(
        (
            r.payment_ref,
            r.outcome,
            r.covered_ore,
            r.credit_ore,
            r.account_id,
            r.reason,
            r.payment_id,
        )
        for r in conn.execute(select(tables.payments))
    )
    states = sorted(
        (r.claim_id, r.status, r.coverage_sequence) for r in conn.execute(select(claims))
    )
    sent = []
    for r in conn.execute(select(outbox).where(outbox.c.id >= first_outbox_id)):
        payload = json.loads(r.payload)
        payload.pop("occurred_at", None)
        sent.append((r.message_type, r.ordering_key, r.sequence, r.leg, sorted(payload.items())))
    return {"ledger": ledger, "payments": paid, "claims": states, "sent": sorted(map(repr, sent))}


def _run_and_roll_back(
    system: System, apply: Callable[[Connection], list[allocation.Allocation | None]]
) -> tuple[list[allocation.Allocation | None], dict[str, Any]]:
    with system.db.connect() as conn:
        trans = conn.begin()
        try:
            first = conn.execute(select(outbox.c.id).order_by(outbox.c.id.desc())).scalar() or 0
            results = apply(conn)
            return results, _snapshot(conn, first + 1)
        finally:
            trans.rollback()


def test_a_run_of_payments_in_one_batch_does_what_one_at_a_time_does(live: System) -> None:
    _, pid_a = new_fee(live, 12000)
    _, pid_b = new_fee(live, 9000)
    c, _ = new_fee(live, 2000)
    _, pid_d = new_fee(live, 23000)
    new_fee(live, 4500, cpr=OTHER_CPR)
    run = [
        _payment("bank:1", 12000, payment_id=pid_a),  # pays A in full
        _payment("bank:2", 5000, payment_id=pid_a),  # A is settled: the debtor's next claims
        _payment("bank:1", 12000, payment_id=pid_a),  # the same payment again: nothing
        _payment("bank:3", 1000, payment_id=pid_b),  # part of B
        _payment("bank:4", 8500, payment_id=pid_b),  # the rest of B, 5 kr over: credit
        _payment("bank:5", 700, payment_id=PaymentId.generate(987654).value),  # no invoice
        _payment("register:6", 2000, channel="cash-register", claim_ids=[str(c)]),
        _payment("register:7", 4000, debtor=DebtorRef(id_type="cpr", id=OTHER_CPR)),
        _payment("bank:8", 300),  # no reference at all
        _payment("bank:9", 23000, payment_id=pid_d),  # D, maybe paid partly by bank:2 already
    ]
    items = [(m, f"m{i}") for i, m in enumerate(run)]

    batch_results, batch = _run_and_roll_back(
        live, lambda conn: allocation.allocate_many(conn, live.clock, items)
    )
    single_results, single = _run_and_roll_back(
        live, lambda conn: [allocation.allocate(conn, live.clock, m, mid) for m, mid in items]
    )

    assert batch_results == single_results
    assert batch == single
    outcomes = [
        None if r is None else (r.outcome, r.covered_ore, r.credit_ore) for r in batch_results
    ]
    assert outcomes == [
        ("matched", 12000, 0),
        ("partly_matched", 5000, 0),  # B (oldest due, then oldest created, then id) gets 50 kr
        None,
        ("partly_matched", 1000, 0),
        ("partly_matched", 3000, 5500),  # B's last 30 kr; 55 kr kept as credit
        ("unmatched", 0, 700),
        ("matched", 2000, 0),
        ("partly_matched", 4000, 0),  # 45 kr owed, 40 kr paid
        ("unmatched", 0, 300),
        ("matched", 23000, 0),
    ]
    # every øre of the run is either covered or kept
    total = sum(m.amount_ore for m in run) - run[2].amount_ore
    assert sum(r.covered_ore + r.credit_ore for r in batch_results if r is not None) == total
