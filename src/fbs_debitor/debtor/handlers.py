"""Incoming contracts -> service calls, under the consumer name ``debtor``.

* the five registration messages (``contracts.registration.REGISTRATION_MESSAGES``): read the
  payload as its contract and apply it; a payload that does not read is refused (recorded and
  answered), never retried, because retrying cannot make it readable;
* ``tenants.MunicipalityConfigured.v1``: keep debtor's copy of the municipality's set-up;
* ``payment.PaymentReceived/PaymentReversed.v1``: allocation (leg 3);
* ``collection.ClaimHandedOver/ClaimReturned/ClaimWrittenOffInCollection.v1``: the claim went to
  PSRM, came back, or PSRM wrote it off (``service.handover``, decision 0022).

Anything else a handler raises (a database error) makes the worker retry the message.

Scheduled jobs (:func:`jobs`, run by ``serve``): the invoicing run (collected mode, catch-up), the
dunning run and the letter delivery. Each run is idempotent for its date, so running them hourly
(letters: every minute) is harmless; each municipality gets a transaction of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pydantic
from sqlalchemy import Connection

from fbs_debitor.contracts.collection import (
    ClaimHandedOver,
    ClaimReturned,
    ClaimWrittenOffInCollection,
)
from fbs_debitor.contracts.payment import PaymentReceived, PaymentReversed
from fbs_debitor.contracts.registration import BY_TYPE, REGISTRATION_MESSAGES
from fbs_debitor.contracts.tenants import MunicipalityConfigured
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.db import Database
from fbs_debitor.debtor.adapters.address.configured import configured_lookup
from fbs_debitor.debtor.service import allocation, handover, intake, municipalities, unmatched
from fbs_debitor.debtor.service.bulk_intake import Incoming, apply_registrations_bulk
from fbs_debitor.debtor.service.dunning import DunningResult, run_dunning
from fbs_debitor.debtor.service.invoicing import InvoicingResult, run_invoicing
from fbs_debitor.debtor.service.letters import deliver_letters
from fbs_debitor.debtor.store.rules import billing_municipalities
from fbs_debitor.messaging.envelope import Envelope
from fbs_debitor.messaging.router import BatchHandler, Handler, Router
from fbs_debitor.settings import Settings

CONSUMER = intake.CONSUMER
LETTERS_PER_TICK = 500
"""Letters the scheduled delivery renders per run (a PDF takes a few tens of milliseconds)."""


def registration_handler(clock: Clock) -> Handler:
    """The handler of the registration messages."""

    def handle(conn: Connection, envelope: Envelope) -> None:
        contract = BY_TYPE[envelope.message_type]
        try:
            message = contract.from_payload(envelope.payload)
        except pydantic.ValidationError as error:
            intake.refuse_unreadable_message(
                conn,
                clock,
                municipality=envelope.municipality,
                message_id=envelope.message_id,
                message_type=envelope.message_type,
                payload=envelope.payload,
                error=error,
            )
            return
        intake.apply_registration_message(
            conn,
            clock,
            message,
            message_id=envelope.message_id,
            enqueued_at=envelope.enqueued_at,
            sequence=envelope.sequence,
        )

    return handle


def registration_batch_handler(clock: Clock) -> BatchHandler:
    """The worker's fast path: a run of registration messages through the bulk path."""

    def handle(conn: Connection, envelopes: list[Envelope]) -> None:
        items: list[Incoming] = []
        for envelope in envelopes:
            contract = BY_TYPE[envelope.message_type]
            try:
                message = contract.from_payload(envelope.payload)
            except pydantic.ValidationError as error:
                apply_registrations_bulk(conn, clock, items)
                items = []
                intake.refuse_unreadable_message(
                    conn,
                    clock,
                    municipality=envelope.municipality,
                    message_id=envelope.message_id,
                    message_type=envelope.message_type,
                    payload=envelope.payload,
                    error=error,
                )
                continue
            items.append(
                Incoming(message, envelope.message_id, envelope.enqueued_at, envelope.sequence)
            )
        apply_registrations_bulk(conn, clock, items)

    return handle


def config_handler(clock: Clock) -> Handler:
    """The handler of ``tenants.MunicipalityConfigured.v1``."""

    def handle(conn: Connection, envelope: Envelope) -> None:
        message = MunicipalityConfigured.from_payload(envelope.payload)
        municipalities.configure_municipality(conn, clock, message)

    return handle


def register(router: Router, clock: Clock) -> None:
    """Subscribe this context's handlers."""
    on_registration = registration_handler(clock)
    on_run = registration_batch_handler(clock)
    for contract in REGISTRATION_MESSAGES:
        router.subscribe(contract.MESSAGE_TYPE, CONSUMER, on_registration, batch=on_run)
    router.subscribe(MunicipalityConfigured.MESSAGE_TYPE, CONSUMER, config_handler(clock))

    def on_payment(conn: Connection, envelope: Envelope) -> None:
        allocation.allocate(
            conn, clock, PaymentReceived.from_payload(envelope.payload), envelope.message_id
        )

    def on_payments(conn: Connection, envelopes: list[Envelope]) -> None:
        allocation.allocate_many(
            conn,
            clock,
            [(PaymentReceived.from_payload(e.payload), e.message_id) for e in envelopes],
        )

    def on_reversal(conn: Connection, envelope: Envelope) -> None:
        message = PaymentReversed.from_payload(envelope.payload)
        allocation.reverse(conn, clock, message)
        # a payment a person assigned: its money went on as ``assigned:<ref>``; undo that too
        unmatched.reverse_assigned(conn, clock, message)

    router.subscribe(PaymentReceived.MESSAGE_TYPE, CONSUMER, on_payment, batch=on_payments)
    router.subscribe(PaymentReversed.MESSAGE_TYPE, CONSUMER, on_reversal)

    def on_handed_over(conn: Connection, envelope: Envelope) -> None:
        message = ClaimHandedOver.from_payload(envelope.payload)
        handover.hand_over(conn, clock, message, envelope.message_id)

    def on_returned(conn: Connection, envelope: Envelope) -> None:
        message = ClaimReturned.from_payload(envelope.payload)
        handover.take_back(conn, clock, message, envelope.message_id)

    def on_written_off(conn: Connection, envelope: Envelope) -> None:
        message = ClaimWrittenOffInCollection.from_payload(envelope.payload)
        handover.write_off_in_collection(conn, clock, message, envelope.message_id)

    router.subscribe(ClaimHandedOver.MESSAGE_TYPE, CONSUMER, on_handed_over)
    router.subscribe(ClaimReturned.MESSAGE_TYPE, CONSUMER, on_returned)
    router.subscribe(ClaimWrittenOffInCollection.MESSAGE_TYPE, CONSUMER, on_written_off)


def invoicing_job(db: Database, clock: Clock) -> InvoicingResult:
    """Run the invoicing of today for every municipality, each in a transaction of its own."""
    on = clock.today()
    total = InvoicingResult(on=on)
    with db.connect() as conn:
        municipalities = billing_municipalities(conn)
    for m in municipalities:
        with db.begin() as conn:
            r = run_invoicing(conn, clock, on, m)
        total = InvoicingResult(
            on=on,
            invoices=total.invoices + r.invoices,
            claims=total.claims + r.claims,
            municipalities=total.municipalities + r.municipalities,
            skipped=total.skipped + r.skipped,
        )
    return total


def dunning_job(db: Database, clock: Clock) -> list[DunningResult]:
    """Run the dunning of today for every municipality, each in a transaction of its own."""
    on = clock.today()
    with db.connect() as conn:
        municipalities = billing_municipalities(conn)
    results = []
    for m in municipalities:
        with db.begin() as conn:
            results.append(run_dunning(conn, clock, on, m))
    return results


def jobs(
    db: Database, clock: Clock, settings: Settings | None = None
) -> list[tuple[str, float, Callable[[], object]]]:
    """The debtor's scheduled jobs: (name, interval in seconds, job). The letters go to
    ``settings.letter_dir``, addressed by the look-up ``settings.address_lookup`` chooses."""
    settings = settings or Settings()
    letter_dir = Path(settings.letter_dir)
    lookup = configured_lookup(settings, clock)
    return [
        ("invoicing", 3600.0, lambda: invoicing_job(db, clock)),
        ("dunning", 3600.0, lambda: dunning_job(db, clock)),
        # at most LETTERS_PER_TICK a minute, so a large run's letters drain over the following
        # ticks instead of one endless call
        (
            "letters",
            60.0,
            lambda: deliver_letters(db, clock, letter_dir, lookup=lookup, limit=LETTERS_PER_TICK),
        ),
    ]
