"""Applying many registration messages at once, for a consumer that receives them in batches.

:func:`apply_registrations_bulk` has the outcomes and effects of calling
:func:`~fbs_debitor.debtor.service.intake.apply_registration_message` on each item in turn (a test holds
the two paths to the same state), but writes each run of consecutive ``ClaimRegistered`` with one
lookup per table and one multi-row statement per table (executemany / insertmanyvalues). Any other
message is applied by the single path in its place in the order, after the run before it. The
answers go out after the whole batch (they are unordered anyway). In immediate invoicing mode the
run's invoices, letters and InvoiceIssued messages are written set-based too (one statement per
table), before the claims, whose rows then carry their invoice id; the claims of accounts with
credit are invoiced after they are inserted, once the credit paid what it can
(:func:`~fbs_debitor.debtor.service.invoicing.invoice_after_credit`). A claim whose debtor is a
minor is inserted ``held``, with its ``held`` event, and not invoiced, as on the single path.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Connection

from fbs_debitor.contracts.registration import ClaimKind, ClaimMessage, ClaimRegistered
from fbs_debitor.core.clock import Clock, business_date
from fbs_debitor.core.errors import ValidationError
from fbs_debitor.core.ids import Cpr, Cvr
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.model.claims import (
    ClaimStatus,
    EventKind,
    Outcome,
    accepted,
    check_registration,
    claim_exists,
    refused,
)
from fbs_debitor.debtor.model.minors import needs_guardian
from fbs_debitor.debtor.service import intake
from fbs_debitor.debtor.service.invoicing import (
    NewClaim,
    invoice_after_credit,
    invoice_on_registration,
)
from fbs_debitor.debtor.store import ledger, registrations
from fbs_debitor.messaging.outbox import wall_now

_ONE_MS = timedelta(milliseconds=1)


class Incoming(NamedTuple):
    """One message of a batch: the contract, its message id, the wall-clock time the sender
    enqueued it (None if unknown) and its per-claim sequence (None if unordered)."""

    message: ClaimMessage
    message_id: str
    enqueued_at: datetime | None
    sequence: int | None = None


def apply_registrations_bulk(
    conn: Connection, clock: Clock, items: Sequence[Incoming]
) -> list[Outcome]:
    """Apply (or refuse) every item in order and answer each; returns the outcomes in order."""
    outcomes: list[Outcome] = []
    run: list[Incoming] = []
    for item in items:
        if isinstance(item.message, ClaimRegistered):
            run.append(item)
            continue
        outcomes += _register_run(conn, clock, run)
        run = []
        outcomes.append(
            intake.apply_registration(
                conn,
                clock,
                item.message,
                message_id=item.message_id,
                enqueued_at=item.enqueued_at,
                sequence=item.sequence,
            )
        )
    outcomes += _register_run(conn, clock, run)
    intake.answer_many(conn, clock, outcomes)
    return outcomes


class _Planned(NamedTuple):
    item: Incoming
    message: ClaimRegistered
    debtor: Cpr | Cvr
    kind: ClaimKind
    held: bool
    """The debtor is a minor: the claim is held, not invoiced (``model.minors``)."""


def _register_run(conn: Connection, clock: Clock, run: list[Incoming]) -> list[Outcome]:
    """A run of ClaimRegistered: check all, look up all, then insert per table in one go."""
    if not run:
        return []
    now = clock.now()
    checked: list[_Planned | tuple[Incoming, ValidationError]] = []
    for item in run:
        message = item.message
        assert isinstance(message, ClaimRegistered)
        try:
            debtor, kind, _ = check_registration(message)
        except ValidationError as error:
            checked.append((item, error))
            continue
        held = needs_guardian(debtor, business_date(message.occurred_at))
        checked.append(_Planned(item, message, debtor, kind, held))
    planned = [p for p in checked if isinstance(p, _Planned)]
    existing = registrations.existing_claims(
        conn, {(p.message.municipality, p.message.claim_id) for p in planned}
    )
    account_keys = {(p.message.municipality, p.debtor.value) for p in planned}
    account_ids = registrations.account_ids(conn, account_keys)

    outcomes: list[Outcome] = []
    rejections: list[Outcome] = []
    creating: list[_Planned] = []
    created: set[registrations.Key] = set()
    for entry in checked:
        if isinstance(entry, _Planned):
            key = (entry.message.municipality, entry.message.claim_id)
            if key not in existing and key not in created:
                created.add(key)
                creating.append(entry)
                outcomes.append(
                    accepted(
                        entry.message, entry.item.message_id, Money(ore=entry.message.amount_ore)
                    )
                )
                continue
            item, refusal = entry.item, claim_exists(key[1])
        else:
            item, refusal = entry
        outcome = refused(item.message, item.message_id, refusal)
        rejections.append(outcome)
        outcomes.append(outcome)

    new_accounts = {
        (p.message.municipality, p.debtor.value): {
            "municipality": p.message.municipality,
            "id_type": p.message.debtor.id_type,
            "debtor_id": p.debtor.value,
            "created_at": now,
        }
        for p in creating
        if (p.message.municipality, p.debtor.value) not in account_ids
    }
    account_ids.update(registrations.insert_accounts(conn, list(new_accounts.values())))
    invoiced = invoice_on_registration(  # immediate mode: one invoice per claim, set-based
        conn,
        clock,
        [
            NewClaim(
                p.message,
                account_ids[(p.message.municipality, p.debtor.value)],
                p.message.debtor.id_type,
                p.debtor.value,
                p.kind,
            )
            for p in creating
            if not p.held
        ],
    )
    wall = wall_now()
    claim_pks = registrations.insert_claims(
        conn,
        [
            ledger.claim_row(
                p.message,
                account_id=account_ids[(p.message.municipality, p.debtor.value)],
                kind=p.kind,
                registered_at=now,
                leg1_ms=None
                if p.item.enqueued_at is None
                else max(0, (wall - p.item.enqueued_at) // _ONE_MS),
                sequence=p.item.sequence,
                invoice_id=invoiced.invoice_ids.get((p.message.municipality, p.message.claim_id)),
                status=ClaimStatus.HELD if p.held else ClaimStatus.OPEN,
            )
            for p in creating
        ],
    )
    ledger.append_postings(
        conn,
        [
            ledger.charge_posting(
                p.message,
                claim_pks[(p.message.municipality, p.message.claim_id)],
                now,
                p.item.message_id,
            )
            for p in creating
        ],
    )
    for p in creating:
        if p.held:  # rare: one event row each
            ledger.insert_event(
                conn,
                {
                    "municipality": p.message.municipality,
                    "claim_pk": claim_pks[(p.message.municipality, p.message.claim_id)],
                    "kind": EventKind.HELD.value,
                    "at": now,
                    "message_id": p.item.message_id,
                    "detail": intake.held_detail(),
                },
            )
    ledger.insert_rejections(conn, rejections, now)
    if invoiced.after_credit:  # accounts with credit: it pays first, the invoices the rest
        invoice_after_credit(conn, clock, invoiced.after_credit)
    return outcomes
