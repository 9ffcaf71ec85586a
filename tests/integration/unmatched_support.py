"""Helpers of the unmatched-payment tests (bank entries debtor could not match, assignments,
what each side then holds)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from fbs_debitor.bootstrap import System
from fbs_debitor.debtor.service import unmatched
from fbs_debitor.debtor.service.agreements import account_for
from fbs_debitor.debtor.service.credit import available_credit
from fbs_debitor.debtor.store.tables import payments, postings
from fbs_debitor.messaging.store import outbox
from fbs_debitor.payments.store.tables import bank_entries
from tests.integration.leg34_support import (
    CPR,
    K,
    bank,
    credit,
)

NO_INVOICE = "000000099999997"
"""A well-formed FIK payment ID that belongs to no invoice."""
OTHER_CPR = "0202652345"
PAID_ON = date(2026, 3, 10)


def unmatched_in_bank(system: System, tmp_path: Path, key: str, ore: int, text: str = "") -> str:
    """A bank credit with a payment ID of no invoice: it ends unmatched; returns its ref."""
    counts = bank(system, tmp_path, credit(key, ore, NO_INVOICE, text))
    assert counts["unmatched"] == 1
    return f"bank:{key}"


def assign(system: System, ref: str, **target: Any) -> unmatched.Assignment:
    target.setdefault("by", "Hanne Hansen")
    target.setdefault("note", "betalt med forkert betalings-ID")
    with system.db.begin() as conn:
        done = unmatched.assign(conn, system.clock, K, ref, **target)
    system.drain()
    return done


def row(system: System, ref: str) -> Any:
    with system.db.connect() as conn:
        return conn.execute(
            select(payments).where(payments.c.municipality == K, payments.c.payment_ref == ref)
        ).one()


def entry(system: System, key: str) -> Any:
    with system.db.connect() as conn:
        return conn.execute(
            select(bank_entries).where(
                bank_entries.c.municipality == K, bank_entries.c.entry_key == key
            )
        ).one()


def credit_of(system: System, cpr: str = CPR) -> int:
    with system.db.connect() as conn:
        return available_credit(conn, K, account_for(conn, K, cpr))


def waiting(system: System) -> list[dict[str, Any]]:
    with system.db.connect() as conn:
        return unmatched.list_unmatched(conn, K)


def counts(system: System) -> tuple[int, int]:
    """(postings, PaymentAllocated messages)."""
    with system.db.connect() as conn:
        n_postings = conn.execute(select(func.count()).select_from(postings)).scalar_one()
        n_answers = conn.execute(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.message_type == "payment.PaymentAllocated.v1")
        ).scalar_one()
    return int(n_postings), int(n_answers)


def answers_for(system: System, ref: str) -> list[dict[str, Any]]:
    with system.db.connect() as conn:
        rows = conn.execute(
            select(outbox.c.payload)
            .where(outbox.c.message_type == "payment.PaymentAllocated.v1")
            .order_by(outbox.c.id)
        ).scalars()
        return [p for p in map(json.loads, rows) if p["payment_ref"] == ref]


def assert_counted_once(system: System, ref: str) -> None:
    """The original row keeps no money; the assigned row has all of it, to the øre."""
    original, made = row(system, ref), row(system, f"assigned:{ref}")
    assert (original.outcome, original.credit_ore, original.covered_ore) == ("assigned", 0, 0)
    assert original.account_id == made.account_id is not None
    assert made.channel == "staff"
    assert made.booked_on == original.booked_on
    assert made.amount_ore == original.amount_ore == made.covered_ore + made.credit_ore
