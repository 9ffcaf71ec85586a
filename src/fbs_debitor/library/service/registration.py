"""The library's side of claim registration: changing a fee together with its history event and
its message to debtor, holding and releasing fees of unmapped kinds, and debtor's answers.

Messages about one claim carry the fee's next sequence number (``last_sequence + 1``); the
ClaimRegistered that starts the claim in debtor goes with ``leg="leg1"``. Everything happens in
the caller's transaction, so a fee's state, its history and what debtor was told never disagree.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from fbs_debitor.contracts.registration import (
    ClaimMessage,
    ClaimRegistered,
    Material,
    RegistrationAccepted,
    RegistrationRejected,
)
from fbs_debitor.contracts.sending import send
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.money import Money
from fbs_debitor.library.model import DebtorState, EventKind, Fee, FeeStatus, Patron, held_reason
from fbs_debitor.library.store import records, setup_copy
from fbs_debitor.library.store.setup_copy import KindMapping

SOURCE = "library"
CLOSED_BEFORE_SENT = "closed in the library before it was sent to debtor"
log = logging.getLogger(__name__)


def claim_registered(
    fee: Fee, patron: Patron, mapping: KindMapping, clock: Clock
) -> ClaimRegistered:
    """The ClaimRegistered of ``fee`` as it stands now: its open amount, the patron's debtor."""
    return ClaimRegistered(
        municipality=fee.municipality,
        occurred_at=clock.now(),
        claim_id=fee.claim_id,
        patron_id=str(patron.id),
        debtor=patron.debtor,
        claim_kind=fee.kind,
        debtor_classification=mapping.debtor_classification,
        psrm_claim_type=mapping.psrm_claim_type,
        amount_ore=fee.open.ore,
        created_on=fee.creation_date,
        due_date=fee.due_date,
        materials=[
            Material(
                item_number=m.item_number,
                record_id=m.record_id,
                title=m.title,
                material_group=m.material_group,
            )
            for m in fee.materials
        ],
        invoice_text=fee.reason_message,
        acknowledged=fee.acknowledged,
    )


def record(
    conn: Connection,
    clock: Clock,
    fee: Fee,
    kind: EventKind,
    text: str,
    *,
    delta: Money | None = None,
    message: ClaimMessage | None = None,
    values: dict[str, Any] | None = None,
) -> Fee:
    """Apply one change to ``fee`` and return the fee as it is now.

    ``values``: columns to set; ``delta``: the change of the open amount (an open fee that reaches
    0 is ``closed``); ``message``: sent to debtor with the next sequence number (a ClaimRegistered
    also makes the fee ``sent``). The history event records all of it. A held fee that stops
    being open will never be sent: it becomes ``not_sent``.
    """
    now = clock.now()
    changes: dict[str, Any] = dict(values or {})
    mid: str | None = None
    sequence: int | None = None
    if message is not None:
        sequence = fee.last_sequence + 1
        registering = isinstance(message, ClaimRegistered)
        mid = send(
            conn, message, source=SOURCE, sequence=sequence, leg="leg1" if registering else None
        )
        changes["last_sequence"] = sequence
        if registering:
            changes.update(
                debtor_state=DebtorState.SENT.value, debtor_reason=None, registration_message_id=mid
            )
    changes, changed = settle(fee, now, changes, delta)
    records.update_fee(conn, fee.id, changes)
    event = records.event_row(
        fee.municipality,
        fee.id,
        now,
        kind,
        text,
        amount_ore=0 if delta is None else delta.ore,
        message_id=mid,
        sequence=sequence,
    )
    records.insert_events(conn, [event])
    return changed


def settle(
    fee: Fee, now: datetime, values: dict[str, Any], delta: Money | None
) -> tuple[dict[str, Any], Fee]:
    """The columns to write for a change of ``fee`` and the fee as it will be (pure).

    ``values``: columns set by the caller; ``delta``: the change of the open amount (an open fee
    that reaches 0 is ``closed`` unless ``values`` says otherwise). A held fee that stops being
    open will never be sent: it becomes ``not_sent``.
    """
    changes: dict[str, Any] = {"updated_at": now, **values}
    if delta is not None:
        changes["open_ore"] = (fee.open + delta).ore
        if "status" not in changes and changes["open_ore"] == 0:
            changes["status"] = FeeStatus.CLOSED.value
    status = FeeStatus(changes.get("status", fee.status.value))
    if status is not FeeStatus.OPEN and fee.debtor_state is DebtorState.HELD:
        changes.update(debtor_state=DebtorState.NOT_SENT.value, debtor_reason=CLOSED_BEFORE_SENT)
    return changes, replace(
        fee,
        open=Money(changes.get("open_ore", fee.open.ore)),
        status=status,
        debtor_state=DebtorState(changes.get("debtor_state", fee.debtor_state.value)),
        debtor_reason=changes.get("debtor_reason", fee.debtor_reason),
        moved_on=changes.get("moved_on", fee.moved_on),
        paid_date=changes.get("paid_date", fee.paid_date),
        last_sequence=changes.get("last_sequence", fee.last_sequence),
        registration_message_id=changes.get("registration_message_id", fee.registration_message_id),
        in_collection=changes.get("in_collection", fee.in_collection),
    )


def send_or_hold(
    conn: Connection, clock: Clock, fee: Fee, patron: Patron, maps: dict[str, KindMapping]
) -> Fee:
    """Register ``fee`` with debtor now, or hold it until its kind is mapped."""
    mapping = maps.get(fee.kind)
    if mapping is None:
        why = held_reason(fee.kind, fee.municipality)
        values = {"debtor_state": DebtorState.HELD.value, "debtor_reason": why}
        return record(conn, clock, fee, EventKind.HELD, why, values=values)
    message = claim_registered(fee, patron, mapping, clock)
    text = f"registered with debtor ({fee.open} open)"
    return record(conn, clock, fee, EventKind.SENT, text, message=message)


def map_kind(
    conn: Connection,
    clock: Clock,
    municipality: str,
    kind: str,
    mapping: KindMapping,
    mapped_at: datetime,
) -> int:
    """Keep the copy of one kind's mapping and send every fee held for it at once; returns how
    many were sent. A mapping older than the one kept changes nothing."""
    if not setup_copy.save_mapping(conn, municipality, kind, mapping, mapped_at):
        return 0
    held = records.held_fees(conn, municipality, kind)
    patrons = records.patrons_by_id(conn, municipality, (f.patron_id for f in held))
    for fee in held:
        send_or_hold(conn, clock, fee, patrons[fee.patron_id], {kind: mapping})
    return len(held)


# -- debtor's answers ----------------------------------------------------------------------------


def _fee_id(claim_id: str) -> int | None:
    """The fee id a claim id names (None: it names no fee of the library)."""
    return int(claim_id) if claim_id.isdigit() else None


def _short(message_type: str) -> str:
    """``registration.ClaimWrittenDown.v1`` -> ``ClaimWrittenDown``."""
    parts = message_type.split(".")
    return parts[1] if len(parts) == 3 else message_type


def registration_accepted(conn: Connection, clock: Clock, answer: RegistrationAccepted) -> None:
    """Debtor applied a message. An accepted ClaimRegistered makes the fee ``registered`` if it is
    the registration the fee awaits; every confirmation keeps debtor's balance of the claim."""
    fee_id, now = _fee_id(answer.claim_id), clock.now()
    balance = answer.debtor_balance_ore
    municipality, mid = answer.municipality, answer.accepted_message_id
    if answer.accepted_type == ClaimRegistered.MESSAGE_TYPE:
        kind, text = EventKind.REGISTERED, f"debtor registered the claim (balance {balance} øre)"
        done = fee_id is not None and records.apply_answer(
            conn, "registered", municipality, fee_id, now, message_id=mid, balance_ore=balance
        )
    else:
        short = _short(answer.accepted_type)
        kind, text = EventKind.CONFIRMED, f"debtor applied {short} (balance {balance} øre)"
        done = fee_id is not None and records.apply_answer(
            conn, "balance", municipality, fee_id, now, balance_ore=balance
        )
    _history(conn, clock, answer, fee_id if done else None, kind, text, mid)


def registrations_accepted_bulk(
    conn: Connection, clock: Clock, answers: Sequence[RegistrationAccepted]
) -> None:
    """:func:`registration_accepted` for a run of answers, in order, with one read and a few
    executemany writes instead of two statements per answer (the registration hot path)."""
    now = clock.now()
    keys = {
        (a.municipality, fee_id) for a in answers if (fee_id := _fee_id(a.claim_id)) is not None
    }
    state = records.answer_state(conn, keys)
    changes: dict[str, list[dict[str, object]]] = {"registered": [], "balance": []}
    events = []
    for answer in answers:
        fee_id = _fee_id(answer.claim_id)
        key = (answer.municipality, fee_id if fee_id is not None else -1)
        current = state.get(key)
        balance, mid = answer.debtor_balance_ore, answer.accepted_message_id
        params: dict[str, object] = {
            "b_municipality": answer.municipality,
            "b_fee_id": fee_id,
            "b_now": now,
            "b_message_id": mid,
            "b_balance": balance,
        }
        if answer.accepted_type == ClaimRegistered.MESSAGE_TYPE:
            kind, text = (
                EventKind.REGISTERED,
                f"debtor registered the claim (balance {balance} øre)",
            )
            done = current == (DebtorState.SENT.value, mid)
            if done:
                state[key] = (DebtorState.REGISTERED.value, mid)
                changes["registered"].append(params)
        else:
            short = _short(answer.accepted_type)
            kind, text = EventKind.CONFIRMED, f"debtor applied {short} (balance {balance} øre)"
            done = current is not None
            if done:
                changes["balance"].append(params)
        if done and fee_id is not None:
            events.append(
                records.event_row(answer.municipality, fee_id, now, kind, text, message_id=mid)
            )
        else:
            _history(conn, clock, answer, None, kind, text, mid)
    records.apply_answers(conn, "registered", changes["registered"])
    records.apply_answers(conn, "balance", changes["balance"])
    records.insert_events(conn, events)


def registration_rejected(conn: Connection, clock: Clock, answer: RegistrationRejected) -> None:
    """Debtor refused a message and changed nothing. A refused ClaimRegistered makes the fee
    ``rejected`` with debtor's reason on it; a refused later message is noted on the fee
    (``debtor_note``) and in its history."""
    fee_id, now = _fee_id(answer.claim_id), clock.now()
    municipality, mid = answer.municipality, answer.rejected_message_id
    text = f"debtor rejected {_short(answer.rejected_type)} [{answer.code}]: {answer.reason}"
    if fee_id is None:
        done = False
    elif answer.rejected_type == ClaimRegistered.MESSAGE_TYPE:
        done = records.apply_answer(
            conn, "rejected", municipality, fee_id, now, message_id=mid, text=answer.reason
        )
    else:
        done = records.apply_answer(conn, "note", municipality, fee_id, now, text=text)
    _history(conn, clock, answer, fee_id if done else None, EventKind.REJECTED, text, mid)


def _history(
    conn: Connection,
    clock: Clock,
    answer: RegistrationAccepted | RegistrationRejected,
    fee_id: int | None,
    kind: EventKind,
    text: str,
    message_id: str,
) -> None:
    """Add the answer to the history of the fee it changed (``fee_id``); an answer that changed
    no fee (no such fee, or it answers a superseded registration) is logged and dropped."""
    if fee_id is None:
        log.warning(
            "ignoring %s about claim %s of %s: no such fee, or it answers a superseded message",
            answer.MESSAGE_TYPE,
            answer.claim_id,
            answer.municipality,
        )
        return
    event = records.event_row(
        answer.municipality, fee_id, clock.now(), kind, text, message_id=message_id
    )
    records.insert_events(conn, [event])
