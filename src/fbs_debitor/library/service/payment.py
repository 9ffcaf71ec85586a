"""Payment in the library: only old fees (created before the cutoff, not moved to debtor).

Two doors: staff at the desk (:func:`pay_fee`, which refuses a new fee with a clear error) and
the FBS payment API the library web sites call after their payment gateway took the money
(:func:`pay_fees`, answering per fee as FBS does). Each fee is paid in full, once; the order id
that paid it is kept (``library_payment``), so the same order again changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from fbs_debitor.core.clock import Clock
from fbs_debitor.core.errors import ConflictError, NotFoundError, ValidationError
from fbs_debitor.library.model import (
    EventKind,
    Fee,
    FeeStatus,
    PaymentConfirmation,
    PaymentStatus,
    decide_payment,
)
from fbs_debitor.library.service.registration import record
from fbs_debitor.library.store import records


def _pay(conn: Connection, clock: Clock, fee: Fee, order_id: str) -> int:
    """Register full payment of an old open fee; returns the payment's id."""
    today = clock.today()
    payment_id = records.insert_payment(
        conn,
        {
            "municipality": fee.municipality,
            "fee_id": fee.id,
            "patron_id": fee.patron_id,
            "order_id": order_id,
            "amount_ore": fee.open.ore,
            "paid_on": today,
            "created_at": clock.now(),
        },
    )
    record(
        conn,
        clock,
        fee,
        EventKind.PAID_MANUALLY,
        f"paid {fee.open} in the library, order {order_id}",
        delta=-fee.open,
        values={"status": FeeStatus.PAID.value, "paid_date": today},
    )
    return payment_id


def _check_order_id(order_id: str) -> str:
    if not order_id.strip() or len(order_id) > 100:
        raise ValidationError("orderId must be 1 to 100 characters", code="invalid-order-id")
    return order_id


def pay_fee(
    conn: Connection, clock: Clock, municipality: str, fee_id: int, order_id: str | None = None
) -> Fee:
    """Staff register that an old fee was paid in full at the library (``order_id``: the till's
    receipt, if any).

    A new fee, or an old one moved to debtor, is refused with ConflictError ``fee-in-debtor``:
    it can be paid only through the debtor system. A fee that is not open: ``fee-not-open``.
    """
    fee = records.get_fee(conn, municipality, fee_id, for_update=True)
    if fee is None:
        raise NotFoundError(f"no fee {fee_id} in {municipality}", code="unknown-fee")
    if fee.in_debtor:
        why = "it was moved there" if fee.old else "it was created on or after the cutoff date"
        raise ConflictError(
            f"Gebyr {fee_id} betales gennem debitorsystemet, ikke på biblioteket / "
            f"fee {fee_id} can only be paid through the debtor system: {why}",
            code="fee-in-debtor",
        )
    if fee.status is not FeeStatus.OPEN:
        raise ConflictError(f"fee {fee_id} is {fee.status.value}", code="fee-not-open")
    _pay(conn, clock, fee, _check_order_id(order_id or f"library-desk-{fee_id}"))
    found = records.get_fee(conn, municipality, fee_id)
    assert found is not None
    return found


def pay_fees(
    conn: Connection,
    clock: Clock,
    municipality: str,
    patron_id: int,
    order_id: str,
    fee_ids: Sequence[int],
) -> list[PaymentConfirmation]:
    """The FBS payment API: every fee of the order paid in full; one answer per fee, in the
    order given (a repeated id once).

    * ``paymentRegistered`` (with a confirmation id): paid now, or paid before by this same
      order (idempotent: nothing changes twice);
    * ``paymentRegisteredByDifferentOrderId``: paid before by another order; nothing changes;
    * ``paymentNotAllowedByClient``: not payable in the library (new, moved to debtor, cancelled
      or closed); nothing changes.

    A fee id that is not the patron's: NotFoundError and nothing is paid (the client is wrong).
    """
    _check_order_id(order_id)
    if not records.patrons_by_id(conn, municipality, [patron_id]):
        raise NotFoundError(f"no patron {patron_id} in {municipality}", code="unknown-patron")
    wanted = list(dict.fromkeys(fee_ids))
    if not wanted:
        raise ValidationError("feeIds must name at least one fee", code="invalid-payment")
    by_id = {
        f.id: f for f in records.fees_of_patron(conn, municipality, patron_id, for_update=True)
    }
    unknown = [str(i) for i in wanted if i not in by_id]
    if unknown:
        raise NotFoundError(
            f"patron {patron_id} has no fee {', '.join(unknown)}", code="unknown-fee"
        )
    paid_before = records.payments_of(conn, wanted)
    answers: list[PaymentConfirmation] = []
    for fee_id in wanted:
        before = paid_before.get(fee_id)
        status = decide_payment(by_id[fee_id], before[1] if before else None, order_id)
        confirmation: str | None = None
        if status is PaymentStatus.REGISTERED:
            payment_id = before[0] if before else _pay(conn, clock, by_id[fee_id], order_id)
            confirmation = str(payment_id)
        answers.append(PaymentConfirmation(fee_id, status, confirmation))
    return answers
