"""Coverage back from debtor (leg 4, DækningAfskrivningRegistreringAfsend): payments applied,
write-offs and reversals change what is left to pay on the fee, so the patron's balance in the
library is right and a block lifts.

Amounts are applied as *changes* (``-amount`` for a coverage or write-off, ``+amount`` for a
reversal), which commute with the library's own regulation still on its way to debtor. A coverage
that would take a fee below zero (the library wrote it down while the payment was on its way, and
debtor refused that write-down) stops at zero and says so in the fee's history. A fee that
reaches zero by coverage is ``paid`` with the payment date as ``paidDate``; by write-off it is
``closed``. A reversal reopens it.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection

from fbs_debitor.contracts.coverage import (
    ClaimClosed,
    ClaimCovered,
    ClaimWrittenOff,
    CoverageMessage,
    CoverageReversed,
)
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.money import Money
from fbs_debitor.library import store
from fbs_debitor.library.model import EventKind, Fee, FeeStatus
from fbs_debitor.library.registration import record

log = logging.getLogger(__name__)


def _fee(conn: Connection, message: CoverageMessage) -> Fee | None:
    if not message.claim_id.isdigit():
        return None
    return store.get_fee(conn, message.municipality, int(message.claim_id), for_update=True)


def _lower(fee: Fee, amount: Money) -> tuple[Money, str]:
    """The change to apply for ``amount`` off the fee, stopping at zero, and a note if it did."""
    if amount <= fee.open:
        return -amount, ""
    return -fee.open, f" (debtor covered {amount}, {amount - fee.open} more than open here)"


def apply_coverage(conn: Connection, clock: Clock, message: CoverageMessage) -> None:
    """Apply one coverage message to its fee (an unknown fee is logged and skipped)."""
    fee = _fee(conn, message)
    if fee is None:
        log.warning(
            "coverage %s for unknown claim %s of %s",
            message.MESSAGE_TYPE,
            message.claim_id,
            message.municipality,
        )
        return
    match message:
        case ClaimCovered():
            delta, note = _lower(fee, Money(message.amount_ore))
            values: dict[str, object] = {}
            if (fee.open + delta).is_zero():
                values = {"status": FeeStatus.PAID.value, "paid_date": message.payment_date}
            record(
                conn,
                clock,
                fee,
                EventKind.COVERED,
                f"paid {Money(message.amount_ore)} via {message.channel} "
                f"({message.payment_reference}){note}",
                delta=delta,
                values=values,
            )
        case ClaimWrittenOff():
            delta, note = _lower(fee, Money(message.amount_ore))
            record(
                conn,
                clock,
                fee,
                EventKind.WRITTEN_OFF,
                f"written off by debtor: {message.reason}{note}",
                delta=delta,
            )
        case CoverageReversed():
            record(
                conn,
                clock,
                fee,
                EventKind.COVERAGE_REVERSED,
                f"payment {message.payment_reference} reversed: {message.reason}",
                delta=Money(message.amount_ore),
                values={"status": FeeStatus.OPEN.value, "paid_date": None},
            )
        case ClaimClosed():
            record(
                conn, clock, fee, EventKind.DEBTOR_CLOSED, f"closed in debtor: {message.outcome}"
            )
        case _:
            raise TypeError(f"not a coverage message: {message.MESSAGE_TYPE}")
