"""Limitation at invoicing: the uninvoiced claims that are time-barred are never invoiced, and
the invoicing run writes them off by rule ``limitation`` (decision 0015; the dunning run does the
same for invoiced claims).

A claim is time-barred 3 years (forældelsesloven § 3) after the later of its own due date and the
debtor's latest acknowledgement (§ 14: a part payment, a payment agreement).
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Connection

from fbs_debitor.core.clock import Clock
from fbs_debitor.debtor.model.billing import WriteOffRule, rule_write_off, time_barred
from fbs_debitor.debtor.service.writeoff import WriteOff, apply_write_offs, reason_for
from fbs_debitor.debtor.store.candidates import (
    acknowledged_on,
    agreements_covering,
    agreements_until,
    payments_standing,
)
from fbs_debitor.debtor.store.rules import BillingSetup


class TimeBarred(NamedTuple):
    """An uninvoiced claim that is time-barred: its row (``invoicing._uninvoiced``), its own due date
    and the debtor's latest acknowledgement."""

    row: Any
    due_date: date
    acknowledged_on: date | None


def split_time_barred(
    conn: Connection, municipality: str, rows: list[Any], on: date
) -> tuple[list[Any], list[TimeBarred]]:
    """(the rows to invoice, the time-barred ones) of ``invoicing._uninvoiced`` rows on ``on``.

    A claim is time-barred 3 years after the later of its own due date and the debtor's latest
    acknowledgement (``billing.limitation_date``); an acknowledgement only moves that date on,
    so only the claims time-barred by their own due date and last payment alone are read
    further (agreements, reversed payments): usually none, and no query is made."""
    maybe = [
        r
        for r in rows
        if time_barred(on, r.limitation_from, None if r.any_reversal else r.last_paid_on)
    ]
    if not maybe:
        return rows, []
    agreed = agreements_covering(conn, municipality)
    standing = payments_standing(conn, [int(r.id) for r in maybe if r.any_reversal])
    barred: dict[int, TimeBarred] = {}
    for r in maybe:
        paid_on = standing.get(int(r.id)) if r.any_reversal else r.last_paid_on
        acknowledged = acknowledged_on(paid_on, agreed.get(int(r.id)))
        if time_barred(on, r.limitation_from, acknowledged):
            barred[int(r.id)] = TimeBarred(r, r.limitation_from, acknowledged)
    return [r for r in rows if int(r.id) not in barred], list(barred.values())


def write_off_time_barred(
    conn: Connection, clock: Clock, setup: BillingSetup, on: date, barred: list[TimeBarred]
) -> int:
    """Write off the time-barred claims the rules write off (``billing.rule_write_off``:
    ``write_off_limitation`` on, no payment agreement running); returns how many."""
    if not barred:
        return 0
    m = setup.municipality
    agreements = agreements_until(conn, m)
    items = []
    for claim in barred:
        r = claim.row
        rule = rule_write_off(
            setup.rules,
            on=on,
            balance_ore=int(r.balance_ore),
            claim_due=claim.due_date,
            acknowledged_on=claim.acknowledged_on,
            srb=date.max,  # never invoiced: no reminder rule applies
            reminders_sent=0,
            last_reminder_on=None,
            under_agreement=agreements.get(int(r.account_id), date.min) >= on,
        )
        if rule is not WriteOffRule.LIMITATION:
            continue
        items.append(
            WriteOff(
                claim_pk=int(r.id),
                claim_id=r.claim_id,
                municipality=m,
                amount_ore=int(r.balance_ore),
                balance_ore=int(r.balance_ore),
                principal_ore=int(r.balance_ore),  # never invoiced: no fees or interest on it
                coverage_sequence=int(r.coverage_sequence),
                rule=rule,
                reason=reason_for(
                    rule, due_date=claim.due_date, acknowledged_on=claim.acknowledged_on
                ),
            )
        )
    apply_write_offs(conn, clock, on, items)
    return len(items)
