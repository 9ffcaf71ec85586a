"""Incoming contracts -> service calls (consumer ``payments``).

* ``coverage.InvoiceIssued.v1``: the invoice becomes payable in the channels (leg 2 ends here;
  runs of them go through one insert, the worker's fast path);
* ``coverage.InvoiceUpdated.v1``: the copy's amount due and status follow debtor's;
* ``payment.PaymentAllocated.v1``: debtor's outcome on our bank entry or register payment.

and one scheduled job (:func:`jobs`): bank upload jobs nobody runs.

A handler that raises (a database error, an update that overtook its invoice) is retried by the
worker.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

from fbs_debitor.contracts.coverage import InvoiceIssued, InvoiceUpdated
from fbs_debitor.contracts.payment import PaymentAllocated
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.db import Database
from fbs_debitor.messaging.envelope import Envelope
from fbs_debitor.messaging.router import Router
from fbs_debitor.payments.service import invoices, uploads
from fbs_debitor.settings import Settings

CONSUMER = invoices.CONSUMER


def register(router: Router, clock: Clock) -> None:
    """Subscribe this context's handlers."""

    def on_issued(conn: Connection, envelope: Envelope) -> None:
        invoices.invoices_issued(conn, [InvoiceIssued.from_payload(envelope.payload)])

    def on_issued_run(conn: Connection, envelopes: list[Envelope]) -> None:
        invoices.invoices_issued(conn, [InvoiceIssued.from_payload(e.payload) for e in envelopes])

    def on_updated(conn: Connection, envelope: Envelope) -> None:
        invoices.invoice_updated(conn, InvoiceUpdated.from_payload(envelope.payload))

    def on_allocated(conn: Connection, envelope: Envelope) -> None:
        invoices.payment_allocated(conn, clock, PaymentAllocated.from_payload(envelope.payload))

    router.subscribe(InvoiceIssued.MESSAGE_TYPE, CONSUMER, on_issued, batch=on_issued_run)

    def on_updated_run(conn: Connection, envelopes: list[Envelope]) -> None:
        invoices.invoices_updated(conn, [InvoiceUpdated.from_payload(e.payload) for e in envelopes])

    def on_allocated_run(conn: Connection, envelopes: list[Envelope]) -> None:
        messages = [PaymentAllocated.from_payload(e.payload) for e in envelopes]
        invoices.payments_allocated(conn, clock, messages)

    router.subscribe(InvoiceUpdated.MESSAGE_TYPE, CONSUMER, on_updated, batch=on_updated_run)
    router.subscribe(PaymentAllocated.MESSAGE_TYPE, CONSUMER, on_allocated, batch=on_allocated_run)


UPLOAD_SWEEP_S = 30.0
"""How often a serving process looks for bank upload jobs of its own that nobody runs."""


def jobs(
    db: Database, clock: Clock, settings: Settings | None = None
) -> list[tuple[str, float, Callable[[], object]]]:
    """The payments' scheduled job: bank uploads left queued (the process that took the upload
    stopped before it ran the job) or left importing by a process that died
    (:mod:`~fbs_debitor.payments.service.uploads`)."""
    settings = settings or Settings()
    return [("bank-uploads", UPLOAD_SWEEP_S, lambda: uploads.run_waiting(db, clock, settings))]
