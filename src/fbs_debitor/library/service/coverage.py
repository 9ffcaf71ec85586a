"""Coverage back from debtor (leg 4, DækningAfskrivningRegistreringAfsend): payments applied,
write-offs and reversals change what is left to pay on the fee, so the patron's balance in the
library is right and a block lifts.

Amounts are applied as *changes* (``-amount`` for a coverage or write-off, ``+amount`` for a
reversal), which commute with the library's own regulation still on its way to debtor. A coverage
that would take a fee below zero (the library wrote it down while the payment was on its way, and
debtor refused that write-down) stops at zero and says so in the fee's history. A fee that
reaches zero by coverage is ``paid`` with the payment date as ``paidDate``; by write-off it is
``closed``. A reversal reopens it.

``ClaimCollectionChanged`` marks the fee as handed over to state collection (or back from it):
the FBS fee API then sends the citizen to Gældsstyrelsen. It changes no amount: what PSRM
collects reaches the library as a ``ClaimCovered`` like any payment (decision 0022).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import Connection

from fbs_debitor.contracts.coverage import (
    ClaimClosed,
    ClaimCollectionChanged,
    ClaimCovered,
    ClaimWrittenOff,
    CoverageMessage,
    CoverageReversed,
)
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.money import Money
from fbs_debitor.library.model import EventKind, Fee, FeeStatus
from fbs_debitor.library.service.registration import settle
from fbs_debitor.library.store import records

log = logging.getLogger(__name__)


def _fee_id(message: CoverageMessage) -> int | None:
    return int(message.claim_id) if message.claim_id.isdigit() else None


def _lower(fee: Fee, amount: Money) -> tuple[Money, str]:
    """The change to apply for ``amount`` off the fee, stopping at zero, and a note if it did."""
    if amount <= fee.open:
        return -amount, ""
    return -fee.open, f" (debtor covered {amount}, {amount - fee.open} more than open here)"


def coverage_change(
    fee: Fee, message: CoverageMessage
) -> tuple[EventKind, str, Money | None, dict[str, object]]:
    """What one coverage message does to its fee (pure): the history event's kind and text, the
    change of the open amount, and the columns it sets."""
    match message:
        case ClaimCovered():
            delta, note = _lower(fee, Money(message.amount_ore))
            values: dict[str, object] = {}
            if (fee.open + delta).is_zero():
                values = {"status": FeeStatus.PAID.value, "paid_date": message.payment_date}
            text = (
                f"paid {Money(message.amount_ore)} via {message.channel} "
                f"({message.payment_reference}){note}"
            )
            return EventKind.COVERED, text, delta, values
        case ClaimWrittenOff():
            delta, note = _lower(fee, Money(message.amount_ore))
            return (
                EventKind.WRITTEN_OFF,
                f"written off by debtor: {message.reason}{note}",
                delta,
                {},
            )
        case CoverageReversed():
            return (
                EventKind.COVERAGE_REVERSED,
                f"payment {message.payment_reference} reversed: {message.reason}",
                Money(message.amount_ore),
                {"status": FeeStatus.OPEN.value, "paid_date": None},
            )
        case ClaimClosed():
            return EventKind.DEBTOR_CLOSED, f"closed in debtor: {message.outcome}", None, {}
        case ClaimCollectionChanged() if message.in_collection:
            return (
                EventKind.IN_COLLECTION,
                "handed over to state collection: the citizen pays Gældsstyrelsen",
                None,
                {"in_collection": True},
            )
        case ClaimCollectionChanged():
            return (
                EventKind.OUT_OF_COLLECTION,
                f"back from state collection: {message.reason or 'returned'}",
                None,
                {"in_collection": False},
            )
        case _:
            raise TypeError(f"not a coverage message: {message.MESSAGE_TYPE}")


def apply_coverage(conn: Connection, clock: Clock, message: CoverageMessage) -> None:
    """Apply one coverage message to its fee (an unknown fee is logged and skipped)."""
    apply_coverage_many(conn, clock, [message])


def apply_coverage_many(
    conn: Connection, clock: Clock, messages: Sequence[CoverageMessage]
) -> None:
    """Apply coverage messages in order, as :func:`apply_coverage` on each in turn would, with
    one read of their fees and one executemany per table (the leg-4 hot path)."""
    keys = {(m.municipality, fee_id) for m in messages if (fee_id := _fee_id(m)) is not None}
    current = records.fees_for_coverage(conn, keys)
    now = clock.now()
    events = []
    touched: set[tuple[str, int]] = set()
    for message in messages:
        fee_id = _fee_id(message)
        fee = None if fee_id is None else current.get((message.municipality, fee_id))
        if fee is None:
            log.warning(
                "coverage %s for unknown claim %s of %s",
                message.MESSAGE_TYPE,
                message.claim_id,
                message.municipality,
            )
            continue
        kind, text, delta, values = coverage_change(fee, message)
        _, current[(fee.municipality, fee.id)] = settle(fee, now, dict(values), delta)
        touched.add((fee.municipality, fee.id))
        events.append(
            records.event_row(
                fee.municipality,
                fee.id,
                now,
                kind,
                text,
                amount_ore=0 if delta is None else delta.ore,
            )
        )
    records.update_fees_after_coverage(conn, [current[k] for k in sorted(touched)], now)
    records.insert_events(conn, events)
