"""Incoming contracts -> service calls, under the consumer name ``debtor``.

* the five registration messages (``contracts.registration.REGISTRATION_MESSAGES``): read the
  payload as its contract and apply it; a payload that does not read is refused (recorded and
  answered), never retried, because retrying cannot make it readable;
* ``tenants.MunicipalityConfigured.v1``: keep debtor's copy of the municipality's set-up.

Anything else a handler raises (a database error) makes the worker retry the message.
"""

from __future__ import annotations

import pydantic
from sqlalchemy import Connection

from fbs_debitor.contracts.registration import BY_TYPE, REGISTRATION_MESSAGES
from fbs_debitor.contracts.tenants import MunicipalityConfigured
from fbs_debitor.core.clock import Clock
from fbs_debitor.debtor import service
from fbs_debitor.debtor.bulk import Incoming, apply_registrations_bulk
from fbs_debitor.messaging import Envelope, Handler, Router
from fbs_debitor.messaging.router import BatchHandler

CONSUMER = service.CONSUMER


def registration_handler(clock: Clock) -> Handler:
    """The handler of the registration messages."""

    def handle(conn: Connection, envelope: Envelope) -> None:
        contract = BY_TYPE[envelope.message_type]
        try:
            message = contract.from_payload(envelope.payload)
        except pydantic.ValidationError as error:
            service.refuse_unreadable_message(
                conn,
                clock,
                municipality=envelope.municipality,
                message_id=envelope.message_id,
                message_type=envelope.message_type,
                payload=envelope.payload,
                error=error,
            )
            return
        service.apply_registration_message(
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
                service.refuse_unreadable_message(
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
        service.configure_municipality(conn, clock, message)

    return handle


def register(router: Router, clock: Clock) -> None:
    """Subscribe this context's handlers."""
    on_registration = registration_handler(clock)
    on_run = registration_batch_handler(clock)
    for contract in REGISTRATION_MESSAGES:
        router.subscribe(contract.MESSAGE_TYPE, CONSUMER, on_registration, batch=on_run)
    router.subscribe(MunicipalityConfigured.MESSAGE_TYPE, CONSUMER, config_handler(clock))
