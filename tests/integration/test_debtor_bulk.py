"""The bulk path ends in exactly the state and answers of the single path, message by message."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from fbs_debitor.bootstrap import System
from fbs_debitor.contracts.registration import (
    ClaimCancelled,
    ClaimMessage,
    ClaimRegistered,
    ClaimWrittenDown,
)
from fbs_debitor.debtor import guard, views
from fbs_debitor.debtor.model.claims import Outcome
from fbs_debitor.debtor.service import intake
from fbs_debitor.debtor.service.bulk_intake import Incoming, apply_registrations_bulk
from fbs_debitor.debtor.store.tables import accounts, claims, rejections
from fbs_debitor.messaging.store import outbox
from tests.factories import claim_registered, debtor_ref

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)


def reg(
    claim_id: str, number: str = "0101801234", id_type: str = "cpr", **kw: Any
) -> ClaimRegistered:
    return claim_registered(claim_id, debtor=debtor_ref(number, id_type), **kw)


def batch() -> list[Incoming]:
    messages: list[ClaimMessage] = [
        reg("a"),
        reg("b"),  # same debtor: one account
        reg("c", "13585628", "cvr"),
        reg("d", "3213451234"),  # invalid CPR
        reg("d", "2110625629"),  # corrected in the same batch
        reg("a"),  # exists (created earlier in the batch)
        reg("old"),  # exists before the batch
        reg("e", claim_kind="parking"),  # unknown kind
        ClaimWrittenDown(municipality="101", occurred_at=T0, claim_id="a", amount_ore=500),
        ClaimWrittenDown(municipality="101", occurred_at=T0, claim_id="zz", amount_ore=5),
        reg("f", amount_ore=-1),
        reg("g", "2110625629"),
        ClaimCancelled(municipality="101", occurred_at=T0, claim_id="g"),
        reg("h", "1501729995"),
        reg("m", "1506104123"),  # 15 years old on 2 March 2026: held, "guardian required"
    ]
    return [Incoming(m, f"m-{i}", None, 1) for i, m in enumerate(messages)]


def state(conn: Connection) -> dict[str, Any]:
    """Everything that matters, without database ids and wall-clock figures."""
    by_claim = {}
    for claim_id in sorted(views.claim_balances(conn, "101")):
        view = views.get_claim(conn, "101", claim_id)
        by_claim[claim_id] = (
            view["debtor"],
            view["status"],
            view["balance_ore"],
            [(p["kind"], p["amount_ore"], p["message_id"]) for p in view["postings"]],
            [(e["kind"], e["message_id"]) for e in view["events"]],
        )
    answers = [
        (t, {k: v for k, v in json.loads(p).items()})
        for t, p in conn.execute(
            select(outbox.c.message_type, outbox.c.payload)
            .where(outbox.c.source == "debtor")
            .order_by(outbox.c.payload)
        )
    ]
    return {
        "claims": by_claim,
        "accounts": sorted(conn.execute(select(accounts.c.municipality, accounts.c.debtor_id))),
        "claim_accounts": sorted(
            conn.execute(
                select(claims.c.claim_id, accounts.c.debtor_id).join_from(
                    claims, accounts, claims.c.account_id == accounts.c.id
                )
            )
        ),
        "rejections": sorted(
            conn.execute(select(rejections.c.message_id, rejections.c.code, rejections.c.reason))
        ),
        "answers": sorted(answers, key=lambda a: json.dumps(a)),
    }


def run(system: System, apply: Callable[[Connection], list[Outcome]]) -> tuple[Any, Any]:
    """Apply in a transaction that is rolled back; return (outcomes, state)."""
    with system.db.connect() as conn:
        transaction = conn.begin()
        intake.apply_registration(
            conn, system.clock, reg("old"), message_id="m-old", enqueued_at=None
        )
        outcomes = apply(conn)
        snapshot = state(conn)
        assert guard.check_ledger(conn) == []
        transaction.rollback()
    return outcomes, snapshot


def test_bulk_equals_one_by_one(system: System) -> None:
    items = batch()

    def single(conn: Connection) -> list[Outcome]:
        return [
            intake.apply_registration_message(
                conn,
                system.clock,
                i.message,
                message_id=i.message_id,
                enqueued_at=i.enqueued_at,
                sequence=i.sequence,
            )
            for i in items
        ]

    def bulk(conn: Connection) -> list[Outcome]:
        return apply_registrations_bulk(conn, system.clock, items)

    single_outcomes, single_state = run(system, single)
    bulk_outcomes, bulk_state = run(system, bulk)
    assert bulk_outcomes == single_outcomes
    assert bulk_state == single_state
    accepted = [o.claim_id for o in bulk_outcomes if o.accepted]
    assert accepted == ["a", "b", "c", "d", "a", "g", "g", "h", "m"]
    assert len(single_state["accounts"]) == 5
    debtor, status, balance, _, events = bulk_state["claims"]["m"]
    assert (debtor, status, balance, events) == (
        "150610-XXXX",
        "held",
        2000,
        [("registered", "m-14"), ("held", "m-14")],
    )


def test_bulk_with_nothing(system: System) -> None:
    with system.db.begin() as conn:
        assert apply_registrations_bulk(conn, system.clock, []) == []
