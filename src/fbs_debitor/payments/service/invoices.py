"""Use cases of the payments context around the payable copy (leg 2 in) and debtor's answers.

* :func:`invoices_issued`: ``coverage.InvoiceIssued`` makes the invoice payable in the channels
  (leg 2 ends when this runs; the worker records the delay);
* :func:`invoice_updated`: ``coverage.InvoiceUpdated`` keeps the amount due and the status
  current; an update older than the kept state is ignored (messages may overtake each other);
* :func:`payment_allocated`: ``payment.PaymentAllocated`` puts debtor's outcome on the bank entry
  or the register payment it answers;
* :func:`payable_for_debtor` and :func:`list_bank_entries`: what the till and the staff see.

The bank import is in :mod:`fbs_debitor.payments.service.bank`, the cash register in
:mod:`fbs_debitor.payments.service.register`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from fbs_debitor.contracts.coverage import InvoiceIssued, InvoiceUpdated
from fbs_debitor.contracts.payment import PaymentAllocated
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.errors import NotFoundError, ValidationError
from fbs_debitor.core.ids import Cpr, parse_debtor_id
from fbs_debitor.core.money import Money
from fbs_debitor.payments.model import EntryState, cash_rounded, clean_payment_id
from fbs_debitor.payments.store import records, tables

log = logging.getLogger(__name__)

SOURCE = "payments"
CONSUMER = "payments"
INVOICE_STATUSES = ("open", "paid", "closed")


def _issued_row(message: InvoiceIssued) -> dict[str, Any]:
    return {
        "municipality": message.municipality,
        "invoice_id": message.invoice_id,
        "payment_id": message.payment_id,
        "creditor_number": message.creditor_number,
        "debtor_id_masked": message.debtor_id_masked,
        "amount_ore": message.amount_ore,
        "amount_due_ore": message.amount_ore,
        "status": "open",
        "due_date": message.due_date,
        "last_timely_payment_date": message.last_timely_payment_date,
        "claim_ids": json.dumps(message.claim_ids),
        "issued_at": message.occurred_at,
        "updated_at": message.occurred_at,
    }


def invoices_issued(conn: Connection, messages: Sequence[InvoiceIssued]) -> None:
    """Make the invoices payable: one insert for the new ones; an invoice kept already (the
    same issue delivered under another message id) is refreshed unless its copy is newer."""
    by_municipality: dict[str, list[InvoiceIssued]] = {}
    for m in messages:
        by_municipality.setdefault(m.municipality, []).append(m)
    for municipality, batch in by_municipality.items():
        kept = records.payable_rows(conn, municipality, [m.invoice_id for m in batch])
        new: dict[str, dict[str, Any]] = {}
        for m in batch:
            row = _issued_row(m)
            if m.invoice_id in kept:
                if kept[m.invoice_id].updated_at <= m.occurred_at:
                    values = {
                        k: v for k, v in row.items() if k not in ("municipality", "invoice_id")
                    }
                    values.pop("amount_due_ore")
                    values.pop("status")
                    records.update_payable(conn, municipality, m.invoice_id, values)
            else:
                new[m.invoice_id] = row
        records.insert_payables(conn, list(new.values()))


def invoice_updated(conn: Connection, message: InvoiceUpdated) -> bool:
    """Keep the invoice's amount due and status; True if applied, False if an older update.

    An update of an invoice not kept yet raises NotFoundError, so the worker retries it after
    the InvoiceIssued that it overtook.
    """
    return invoices_updated(conn, [message])[0]


def invoices_updated(conn: Connection, messages: Sequence[InvoiceUpdated]) -> list[bool]:
    """:func:`invoice_updated` for a run of updates, in order: one read per municipality and
    one executemany (an update older than the state kept, or than an earlier one of the run,
    is ignored)."""
    for message in messages:
        if message.status not in INVOICE_STATUSES:
            raise ValidationError(
                f"unknown invoice status {message.status!r}", code="invalid-invoice-status"
            )
    kept: dict[tuple[str, str], Any] = {}
    for municipality in sorted({m.municipality for m in messages}):
        ids = [m.invoice_id for m in messages if m.municipality == municipality]
        rows = records.payable_rows(conn, municipality, ids, for_update=True)
        kept.update({(municipality, i): r.updated_at for i, r in rows.items()})
    applied: list[bool] = []
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for message in messages:
        key = (message.municipality, message.invoice_id)
        if key not in kept:
            raise NotFoundError(
                f"invoice {message.invoice_id} of {message.municipality} is not payable here yet",
                code="unknown-invoice",
            )
        if kept[key] > message.occurred_at:
            applied.append(False)
            continue
        kept[key] = message.occurred_at
        latest[key] = {
            "municipality": message.municipality,
            "invoice_id": message.invoice_id,
            "amount_due_ore": message.amount_due_ore,
            "status": message.status,
            "updated_at": message.occurred_at,
        }
        applied.append(True)
    records.update_payables_due(conn, list(latest.values()))
    return applied


def payment_allocated(conn: Connection, clock: Clock, message: PaymentAllocated) -> bool:
    """Record debtor's allocation of one of our payments; False (and a log line) if the
    reference is not ours."""
    return payments_allocated(conn, clock, [message])[0]


def payments_allocated(
    conn: Connection, clock: Clock, messages: Sequence[PaymentAllocated]
) -> list[bool]:
    """:func:`payment_allocated` for a run of answers: one executemany per table."""
    found = records.record_allocations(
        conn,
        [
            (
                message.municipality,
                message.payment_ref,
                {
                    "allocation": message.outcome[:20],
                    "covered_ore": message.covered_ore,
                    "credit_ore": message.credit_ore,
                    "allocation_reason": message.reason or None,
                    "allocated_at": clock.now(),
                },
            )
            for message in messages
        ],
    )
    for message, ok in zip(messages, found, strict=True):
        if not ok:
            log.warning("allocation of unknown payment %s ignored", message.payment_ref)
    return found


# -- what the till and the staff read ------------------------------------------------------------


def masked_debtor(text: str) -> tuple[str, bool]:
    """The masked form of a CPR ("DDMMYY-XXXX") or a CVR (in full), and whether it is a CPR."""
    debtor = parse_debtor_id(text)
    if isinstance(debtor, Cpr):
        return debtor.masked, True
    return debtor.value, False


def payable_json(row: Any, today: date) -> dict[str, Any]:
    """An invoice of the payable copy as the till sees it."""
    due = Money(int(row.amount_due_ore))
    return {
        "invoice_id": row.invoice_id,
        "payment_id": row.payment_id,
        "debtor": row.debtor_id_masked,
        "amount_ore": int(row.amount_ore),
        "amount_due_ore": due.ore,
        "amount_due": str(due),
        "amount_due_cash_ore": cash_rounded(due).ore,
        "amount_due_cash": str(cash_rounded(due)),
        "status": row.status,
        "due_date": row.due_date.isoformat(),
        "last_timely_payment_date": row.last_timely_payment_date.isoformat(),
        "overdue": today > row.last_timely_payment_date,
        "claim_ids": json.loads(row.claim_ids),
    }


def payable_for_debtor(
    conn: Connection, clock: Clock, municipality: str, debtor: str, payment_id: str | None = None
) -> list[dict[str, Any]]:
    """The debtor's open invoices in the payable copy, oldest first.

    The copy knows a person only by the masked CPR (``InvoiceIssued.v1`` carries
    ``debtor_id_masked``), which many people share; so for a CPR the payment ID from the
    citizen's slip is required too and narrows the answer to that invoice. A CVR is public and
    kept in full: its invoices are listed without one.
    """
    masked, is_person = masked_debtor(debtor)
    if is_person and not payment_id:
        raise ValidationError(
            "For et CPR-nummer kræves også betalings-id'et fra opkrævningen / for a CPR number "
            "give the payment ID of the invoice too: the payable copy keeps only the masked CPR",
            code="payment-id-required",
        )
    query = select(tables.payables).where(
        tables.payables.c.municipality == municipality,
        tables.payables.c.debtor_id_masked == masked,
        tables.payables.c.status == "open",
        tables.payables.c.amount_due_ore > 0,
    )
    if payment_id:
        query = query.where(tables.payables.c.payment_id == clean_payment_id(payment_id))
    rows = conn.execute(query.order_by(tables.payables.c.due_date, tables.payables.c.invoice_id))
    today = clock.today()
    return [payable_json(r, today) for r in rows]


def bank_entry_json(row: Any) -> dict[str, Any]:
    return {
        "id": int(row.id),
        "key": row.entry_key,
        "file_id": int(row.file_id),
        "state": row.state,
        "reason": row.reason,
        "account": row.account,
        "record_id": row.record_id,
        "credit": bool(row.credit),
        "reversal": bool(row.reversal),
        "currency": row.currency,
        "amount": row.amount,
        "amount_ore": None if row.amount_ore is None else int(row.amount_ore),
        "booked_on": records.as_date(row.booked_on),
        "reference": row.reference,
        "payment_id": row.payment_id,
        "invoice_id": row.invoice_id,
        "amount_due_ore": None if row.amount_due_ore is None else int(row.amount_due_ore),
        "payer_text": row.payer_text,
        "message_id": row.message_id,
        "reverses": row.reverses_key,
        "reversed_by": row.reversed_by_key,
        "allocation": row.allocation,
        "covered_ore": None if row.covered_ore is None else int(row.covered_ore),
        "credit_ore": None if row.credit_ore is None else int(row.credit_ore),
        "allocation_reason": row.allocation_reason,
    }


def list_bank_entries(
    conn: Connection,
    municipality: str,
    *,
    state: str | None = None,
    limit: int = 100,
    after_id: int = 0,
) -> list[dict[str, Any]]:
    """The municipality's bank entries in import order; ``state`` filters (``unmatched`` and
    ``error`` are the ones waiting for a person). Page on with ``after_id`` = the last id."""
    if state is not None and state not in {s.value for s in EntryState}:
        raise ValidationError(
            f"unknown state {state!r}; one of " + ", ".join(s.value for s in EntryState),
            code="invalid-state",
        )
    if not 1 <= limit <= 1000:
        raise ValidationError("limit must be 1 to 1000", code="invalid-limit")
    if not 0 <= after_id < 2**63:
        raise ValidationError("after_id must be 0 or a bank entry id", code="invalid-after-id")
    rows = records.list_entries(conn, municipality, state=state, limit=limit, after_id=after_id)
    return [bank_entry_json(r) for r in rows]
