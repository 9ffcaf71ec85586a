"""Incoming contracts -> service calls, and the scheduled jobs of the collection context.

Consumers:

* ``psrm`` (the PSRM sender): ``collection.PsrmActionQueued`` -> submit the queued actions (one
  call for a run of them); PSRM not answering raises, so the outbox retries with backoff;
* ``collection``: ``collection.HandedOverClaimChanged`` (from debtor) -> the PSRM action it means.

Jobs (``serve``): the hand-over run of today for every municipality (each in a transaction of its
own; a repeated run hands nothing over twice) and the read of receipts and notifications.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Connection

from fbs_debitor.collection.adapters.psrm.interface import PsrmError
from fbs_debitor.collection.service.exchange import SyncResult, submit_queued, sync
from fbs_debitor.collection.service.handover import HandoverResult, run_handover
from fbs_debitor.collection.service.regulation import apply_change
from fbs_debitor.collection.service.wiring import Wiring
from fbs_debitor.collection.store import claims as store
from fbs_debitor.contracts.collection import HandedOverClaimChanged, PsrmActionQueued
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.db import Database
from fbs_debitor.messaging.envelope import Envelope
from fbs_debitor.messaging.router import Router

log = logging.getLogger(__name__)

CONSUMER = "collection"
SENDER = "psrm"


def register(router: Router, clock: Clock, wiring: Wiring) -> None:
    """Subscribe this context's handlers."""

    def on_queued(conn: Connection, envelope: Envelope) -> None:
        message = PsrmActionQueued.from_payload(envelope.payload)
        submit_queued(conn, clock, wiring.psrm, [message.aktion_id])

    def on_queued_run(conn: Connection, envelopes: list[Envelope]) -> None:
        ids = [PsrmActionQueued.from_payload(e.payload).aktion_id for e in envelopes]
        submit_queued(conn, clock, wiring.psrm, ids)

    def on_change(conn: Connection, envelope: Envelope) -> None:
        apply_change(conn, clock, HandedOverClaimChanged.from_payload(envelope.payload))

    router.subscribe(PsrmActionQueued.MESSAGE_TYPE, SENDER, on_queued, batch=on_queued_run)
    router.subscribe(HandedOverClaimChanged.MESSAGE_TYPE, CONSUMER, on_change)


def handover_job(db: Database, clock: Clock, wiring: Wiring) -> list[HandoverResult]:
    """The hand-over run of today for every municipality, each in a transaction of its own."""
    on = clock.today()
    with db.connect() as conn:
        municipalities = wiring.municipalities(conn)
    results = []
    for m in municipalities:
        with db.begin() as conn:
            results.append(run_handover(conn, clock, on, m, wiring.facts))
    return results


def sync_job(db: Database, clock: Clock, wiring: Wiring) -> SyncResult:
    """Read receipts and notifications of every municipality collection holds claims of; a
    PSRM that does not answer is tried again on the next tick."""
    total = SyncResult()
    with db.connect() as conn:
        municipalities = store.municipalities(conn)
    for m in municipalities:
        try:
            total.add(sync(db, clock, wiring.psrm, m))
        except PsrmError:
            log.warning("PSRM did not answer for municipality %s; trying again later", m)
    return total


def jobs(
    db: Database, clock: Clock, wiring: Wiring, *, handover_s: float, sync_s: float
) -> list[tuple[str, float, Callable[[], object]]]:
    """The collection's scheduled jobs: (name, interval in seconds, job)."""
    return [
        ("psrm-handover", handover_s, lambda: handover_job(db, clock, wiring)),
        ("psrm-sync", sync_s, lambda: sync_job(db, clock, wiring)),
    ]
