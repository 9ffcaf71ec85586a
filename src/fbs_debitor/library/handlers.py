"""Incoming contracts -> service calls (consumer ``library``).

* ``tenants.MunicipalityConfigured.v1``: the library's copy of the set-up (agency id, cutoff);
* ``tenants.SortimentMapped.v1``: the copy of one kind's mapping; fees held for it go at once;
* ``registration.RegistrationAccepted.v1`` / ``RegistrationRejected.v1``: debtor's answers;
* ``coverage.ClaimCovered/ClaimWrittenOff/CoverageReversed/ClaimClosed.v1``: leg 4;
* ``coverage.ClaimCollectionChanged.v1``: the fee went to state collection or came back.
"""

from __future__ import annotations

from sqlalchemy import Connection

from fbs_debitor.contracts.coverage import (
    ClaimClosed,
    ClaimCollectionChanged,
    ClaimCovered,
    ClaimWrittenOff,
    CoverageMessage,
    CoverageReversed,
)
from fbs_debitor.contracts.registration import RegistrationAccepted, RegistrationRejected
from fbs_debitor.contracts.tenants import MunicipalityConfigured, SortimentMapped
from fbs_debitor.core.clock import Clock
from fbs_debitor.library.service import accounts, coverage, registration
from fbs_debitor.library.store.setup_copy import KindMapping, MunicipalityCopy
from fbs_debitor.messaging.envelope import Envelope
from fbs_debitor.messaging.router import Router

CONSUMER = "library"
COVERAGE_BY_TYPE: dict[str, type[CoverageMessage]] = {
    c.MESSAGE_TYPE: c
    for c in (
        ClaimCovered,
        ClaimWrittenOff,
        CoverageReversed,
        ClaimClosed,
        ClaimCollectionChanged,
    )
}


def register(router: Router, clock: Clock) -> None:
    """Subscribe this context's handlers."""

    def on_configured(conn: Connection, envelope: Envelope) -> None:
        message = MunicipalityConfigured.from_payload(envelope.payload)
        copy = MunicipalityCopy(
            municipality=message.municipality,
            name=message.name,
            agency_id=message.agency_id,
            cutoff_date=message.cutoff_date,
        )
        accounts.save_municipality(conn, copy, message.occurred_at)

    def on_mapped(conn: Connection, envelope: Envelope) -> None:
        message = SortimentMapped.from_payload(envelope.payload)
        mapping = KindMapping(message.debtor_classification, message.psrm_claim_type)
        registration.map_kind(
            conn, clock, message.municipality, message.claim_kind, mapping, message.occurred_at
        )

    def on_accepted(conn: Connection, envelope: Envelope) -> None:
        answer = RegistrationAccepted.from_payload(envelope.payload)
        registration.registration_accepted(conn, clock, answer)

    def on_accepted_run(conn: Connection, envelopes: list[Envelope]) -> None:
        answers = [RegistrationAccepted.from_payload(e.payload) for e in envelopes]
        registration.registrations_accepted_bulk(conn, clock, answers)

    def on_rejected(conn: Connection, envelope: Envelope) -> None:
        answer = RegistrationRejected.from_payload(envelope.payload)
        registration.registration_rejected(conn, clock, answer)

    def on_coverage(conn: Connection, envelope: Envelope) -> None:
        contract = COVERAGE_BY_TYPE[envelope.message_type]
        coverage.apply_coverage(conn, clock, contract.from_payload(envelope.payload))

    def on_coverage_run(conn: Connection, envelopes: list[Envelope]) -> None:
        messages = [COVERAGE_BY_TYPE[e.message_type].from_payload(e.payload) for e in envelopes]
        coverage.apply_coverage_many(conn, clock, messages)

    for contract in COVERAGE_BY_TYPE.values():
        router.subscribe(contract.MESSAGE_TYPE, CONSUMER, on_coverage, batch=on_coverage_run)
    router.subscribe(MunicipalityConfigured.MESSAGE_TYPE, CONSUMER, on_configured)
    router.subscribe(SortimentMapped.MESSAGE_TYPE, CONSUMER, on_mapped)
    router.subscribe(
        RegistrationAccepted.MESSAGE_TYPE, CONSUMER, on_accepted, batch=on_accepted_run
    )
    router.subscribe(RegistrationRejected.MESSAGE_TYPE, CONSUMER, on_rejected)
