"""Use cases of the debtor context's intake (leg 1: claims from the library).

Each function works inside the caller's transaction (``conn``) and takes the business clock.

Applying a registration message first checks everything it needs (the rules of
:mod:`fbs_debitor.debtor.model` and the claim's current state) and only then writes. A refused
message therefore changes nothing but its row in ``debtor_rejection``; an accepted one writes the
claim, its postings and events. Through the worker every outcome is answered to the library with
``RegistrationAccepted`` / ``RegistrationRejected`` (unordered messages, source ``debtor``); over
HTTP the HTTP response is the answer.

The read side (account and claim views, balances, the ledger guard) lives in
:mod:`fbs_debitor.debtor.store.ledger` and is re-exported here.

Free texts from the library (reasons) are stored with any CPR in them masked.

Leg 2 starts here too: in the municipality's ``immediate`` invoicing mode a new claim is invoiced
in the transaction that registers it (:func:`~fbs_debitor.debtor.service.invoicing.invoice_on_registration`),
and a claim that moves to another debtor leaves its invoice for one to the new debtor
(:func:`~fbs_debitor.debtor.service.invoicing.reinvoice_moved_claim`). A new claim of an account with credit
is paid from the credit first and invoiced for what is left
(:func:`~fbs_debitor.debtor.service.invoicing.invoice_after_credit`).

Minors (:mod:`fbs_debitor.debtor.model.minors`): a claim whose debtor is a person under 18 on the
message's date is registered ``held`` ("guardian required"): never invoiced, reminded or paid
from credit, its ledger kept. A ``ClaimDebtorChanged`` to a person of age releases it onto the
normal path; one to a minor holds an open claim. Staff list the held claims
(:mod:`fbs_debitor.debtor.service.holds`).

A claim handed over to collection takes write-ups, write-downs and cancellations like an open
one, and each is reported to collection (``service.collection``, decision 0022); a change of
debtor is refused for it (PSRM holds the claim against its debtor).

Ordering: the worker applies the messages of one claim in their sequence order. A refused
ClaimRegistered leaves no claim, so a corrected ClaimRegistered with a later sequence is accepted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pydantic
from sqlalchemy import Connection, update

from fbs_debitor.contracts.collection import Change
from fbs_debitor.contracts.registration import (
    ClaimCancelled,
    ClaimDebtorChanged,
    ClaimMessage,
    ClaimRegistered,
    ClaimWrittenDown,
    ClaimWrittenUp,
    RegistrationAccepted,
    RegistrationRejected,
)
from fbs_debitor.contracts.sending import Outgoing, send, send_many
from fbs_debitor.core.clock import Clock, business_date
from fbs_debitor.core.errors import ValidationError
from fbs_debitor.core.ids import mask_cprs_in_text
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.model.claims import (
    ClaimStatus,
    EventKind,
    Outcome,
    Refusal,
    accepted,
    check_registration,
    claim_exists,
    describe_contract_error,
    mask_debtor_id,
    parse_debtor,
    refused,
    require_open,
    require_positive,
    require_regulable,
    require_write_up,
)
from fbs_debitor.debtor.model.ledger import Posting, PostingKind
from fbs_debitor.debtor.model.minors import (
    GUARDIAN_REQUIRED,
    GUARDIAN_REQUIRED_TEXT,
    needs_guardian,
)
from fbs_debitor.debtor.model.regulation import plan_cancellation, plan_write_down
from fbs_debitor.debtor.service.collection import report_change
from fbs_debitor.debtor.service.invoicing import (
    NewClaim,
    RegistrationInvoices,
    invoice_after_credit,
    invoice_on_registration,
    reinvoice_moved_claim,
)
from fbs_debitor.debtor.service.regulation import apply_plan
from fbs_debitor.debtor.store import ledger
from fbs_debitor.debtor.store.tables import claims
from fbs_debitor.messaging.envelope import Envelope
from fbs_debitor.messaging.inbox import record_applied
from fbs_debitor.messaging.outbox import wall_now

SOURCE = "debtor"
"""The source of the messages debtor sends."""
CONSUMER = "debtor"
"""The consumer name debtor records applied messages under (worker and HTTP alike)."""
HTTP_SOURCE = "library-http"
"""The inbox source of messages that arrive over the HTTP service endpoint."""

_ONE_MS = timedelta(milliseconds=1)


# -- applying registration messages ---------------------------------------------------------------


def apply_registration_message(
    conn: Connection,
    clock: Clock,
    message: ClaimMessage,
    *,
    message_id: str,
    enqueued_at: datetime | None,
    sequence: int | None = None,
) -> Outcome:
    """Apply one registration message (or refuse it) and answer the library through the outbox.

    ``enqueued_at`` is the wall-clock time the library wrote the message (the start of leg 1;
    None if unknown); ``sequence`` its per-claim sequence number, if it came ordered.
    """
    outcome = apply_registration(
        conn, clock, message, message_id=message_id, enqueued_at=enqueued_at, sequence=sequence
    )
    answer(conn, clock, outcome)
    return outcome


def apply_registration(
    conn: Connection,
    clock: Clock,
    message: ClaimMessage,
    *,
    message_id: str,
    enqueued_at: datetime | None,
    sequence: int | None = None,
) -> Outcome:
    """Apply one registration message or refuse it, without answering (the caller answers)."""
    match message:
        case ClaimRegistered():
            return _register(conn, clock, message, message_id, enqueued_at, sequence)
        case ClaimWrittenDown():
            return _regulate(conn, clock, message, PostingKind.WRITE_DOWN, message_id, sequence)
        case ClaimWrittenUp():
            return _regulate(conn, clock, message, PostingKind.WRITE_UP, message_id, sequence)
        case ClaimCancelled():
            return _cancel(conn, clock, message, message_id, sequence)
        case ClaimDebtorChanged():
            return _change_debtor(conn, clock, message, message_id, sequence)
        case _:
            raise TypeError(f"{message.MESSAGE_TYPE} is not a registration message")


def receive_registration(
    conn: Connection, clock: Clock, message: ClaimMessage, *, message_id: str
) -> Outcome | None:
    """A registration message that came over HTTP: record it in the inbox and apply it, in the
    caller's transaction. None if that message id was applied before (nothing changes then).

    Its leg-1 delay is unknown (the sender's enqueue time is not ours), so ``leg1_ms`` stays None.
    """
    received_at = wall_now()
    envelope = Envelope(
        message_id=message_id,
        message_type=message.MESSAGE_TYPE,
        source=HTTP_SOURCE,
        municipality=message.municipality,
        payload={},
        occurred_at=message.occurred_at,
        enqueued_at=received_at,
    )
    if not record_applied(conn, CONSUMER, envelope):
        return None
    return apply_registration(conn, clock, message, message_id=message_id, enqueued_at=None)


def refuse_unreadable_message(
    conn: Connection,
    clock: Clock,
    *,
    municipality: str,
    message_id: str,
    message_type: str,
    payload: dict[str, Any],
    error: pydantic.ValidationError,
) -> Outcome | None:
    """Record a message whose payload does not read as its contract, and answer the library if
    the payload at least names the claim (else there is no one to answer; None)."""
    claim_id = payload.get("claim_id")
    claim_id = claim_id if isinstance(claim_id, str) and 0 < len(claim_id) <= 40 else ""
    outcome = Outcome(
        accepted=False,
        municipality=municipality,
        claim_id=claim_id,
        message_id=message_id,
        message_type=message_type[:120],
        code=Refusal.INVALID_MESSAGE.value,
        reason=describe_contract_error(error),
    )
    ledger.insert_rejections(conn, [outcome], clock.now())
    if not claim_id:
        return None
    answer(conn, clock, outcome)
    return outcome


# -- the five messages ----------------------------------------------------------------------------


def _register(
    conn: Connection,
    clock: Clock,
    msg: ClaimRegistered,
    message_id: str,
    enqueued_at: datetime | None,
    sequence: int | None,
) -> Outcome:
    """A new claim, with its account if the debtor has none, and its charge posting."""
    try:
        debtor, kind, amount = check_registration(msg)
        account_id, existing = ledger.lookup_for_registration(
            conn, msg.municipality, debtor.value, msg.claim_id
        )
        if existing is not None:
            raise claim_exists(msg.claim_id)
    except ValidationError as refusal:
        return _refuse(conn, clock, msg, message_id, refusal)
    now = clock.now()
    if account_id is None:
        account_id = ledger.insert_account(
            conn, msg.municipality, msg.debtor.id_type, debtor.value, now
        )
    held = needs_guardian(debtor, business_date(msg.occurred_at))
    invoiced = RegistrationInvoices({})
    if not held:  # a minor's claim is never invoiced: it waits for a guardian
        new = NewClaim(msg, account_id, msg.debtor.id_type, debtor.value, kind)
        invoiced = invoice_on_registration(conn, clock, [new])  # immediate mode only
    claim_pk = ledger.insert_registered_claim(
        conn,
        msg,
        account_id=account_id,
        kind=kind,
        registered_at=now,
        leg1_ms=None if enqueued_at is None else max(0, (wall_now() - enqueued_at) // _ONE_MS),
        sequence=sequence,
        message_id=message_id,
        invoice_id=invoiced.invoice_ids.get((msg.municipality, msg.claim_id)),
        status=ClaimStatus.HELD if held else ClaimStatus.OPEN,
    )
    if held:
        _event(conn, clock, msg, claim_pk, EventKind.HELD, message_id, held_detail())
    if invoiced.after_credit:  # the account has credit: it pays first, the invoice the rest
        invoice_after_credit(conn, clock, invoiced.after_credit)
    return accepted(msg, message_id, amount)


def _existing(conn: Connection, msg: ClaimMessage) -> Any:
    """The claim's state row (see ``ledger.claim_state``); refuses ``unknown-claim``."""
    state = ledger.claim_state(conn, msg.municipality, msg.claim_id)
    if state is None:
        raise ValidationError(
            f"Fordringen {msg.claim_id} findes ikke / unknown claim {msg.claim_id}",
            code=Refusal.UNKNOWN_CLAIM,
        )
    return state


def _regulate(
    conn: Connection,
    clock: Clock,
    msg: ClaimWrittenDown | ClaimWrittenUp,
    kind: PostingKind,
    message_id: str,
    sequence: int | None,
) -> Outcome:
    """A write-up (one posting) or a write-down (also below what is owed, after a payment: the
    excess becomes credit, ``service.regulation``)."""
    try:
        state = _existing(conn, msg)
        if kind is PostingKind.WRITE_DOWN:
            _require_regulable(state, msg.claim_id)
        else:
            require_regulable(ClaimStatus(state.status), msg.claim_id)
        amount = (
            require_positive(msg.amount_ore, "write-down")
            if kind is PostingKind.WRITE_DOWN
            else require_write_up(int(state.balance_ore), msg.amount_ore)
        )
        plan = (
            plan_write_down(ledger.claim_parts(conn, state.id), amount, msg.claim_id)
            if kind is PostingKind.WRITE_DOWN
            else None
        )
    except ValidationError as refusal:
        return _refuse(conn, clock, msg, message_id, refusal)
    if plan is None:
        _post(conn, clock, msg, state.id, kind, amount, message_id, msg.reason, Money.zero())
        _touch(conn, state.id, sequence)
        after = int(state.balance_ore) + amount.ore
        _report(conn, clock, msg, state, Change.WRITTEN_UP, after)
        return accepted(msg, message_id, Money(ore=after))
    apply_plan(conn, clock, msg, state, plan, message_id, msg.reason)
    _touch(conn, state.id, sequence, status=plan.status)
    after = int(state.balance_ore) + sum(ore for _, ore, _ in plan.postings)
    _report(conn, clock, msg, state, Change.WRITTEN_DOWN, after)
    return accepted(msg, message_id, Money(ore=after))


def _report(
    conn: Connection,
    clock: Clock,
    msg: ClaimWrittenDown | ClaimWrittenUp | ClaimCancelled,
    state: Any,
    change: Change,
    after: int,
) -> None:
    """A regulation of a claim PSRM holds goes to collection too (decision 0022)."""
    if state.status != ClaimStatus.HANDED_OVER.value:
        return
    report_change(
        conn,
        clock,
        int(state.id),
        municipality=msg.municipality,
        claim_id=msg.claim_id,
        change=change,
        amount_ore=after - int(state.balance_ore),
        effective_on=business_date(msg.occurred_at),
        remaining_ore=after,
        reason=mask_cprs_in_text(msg.reason),
    )


def _require_regulable(state: Any, claim_id: str) -> None:
    """A write-down or cancellation takes an open, held or handed-over claim and a paid one
    (whose payments then become credit); every other state is refused as :func:`require_open`
    says."""
    status = ClaimStatus(state.status)
    if status is not ClaimStatus.PAID:
        require_regulable(status, claim_id)


def _cancel(
    conn: Connection, clock: Clock, msg: ClaimCancelled, message_id: str, sequence: int | None
) -> Outcome:
    """A cancellation: what is left is cancelled, reminder fees and interest with it, and what
    was paid on the claim becomes credit (``model.regulation``); the claim ends cancelled."""
    try:
        state = _existing(conn, msg)
        _require_regulable(state, msg.claim_id)
    except ValidationError as refusal:
        return _refuse(conn, clock, msg, message_id, refusal)
    plan = plan_cancellation(ledger.claim_parts(conn, state.id))
    apply_plan(conn, clock, msg, state, plan, message_id, msg.reason)
    _touch(conn, state.id, sequence, status=ClaimStatus.CANCELLED)
    _report(conn, clock, msg, state, Change.CANCELLED, 0)
    _event(
        conn,
        clock,
        msg,
        state.id,
        EventKind.CANCELLED,
        message_id,
        {"reason": mask_cprs_in_text(msg.reason)},
    )
    return accepted(msg, message_id, Money.zero())


def _change_debtor(
    conn: Connection, clock: Clock, msg: ClaimDebtorChanged, message_id: str, sequence: int | None
) -> Outcome:
    """Move the claim to the account of the new debtor (opened if missing).

    The new debtor's age decides whether it is collected: a claim moved to a person under 18 is
    held (it leaves its invoice and gets no new one); a held claim whose debtor (a guardian, or
    the patron come of age) is of age is released, and invoiced on the normal path: at once in
    immediate mode, by the next collection in collected mode."""
    try:
        debtor = parse_debtor(msg.debtor.id_type, msg.debtor.id)
        state = _existing(conn, msg)
        status = ClaimStatus(state.status)
        require_open(status, msg.claim_id)
    except ValidationError as refusal:
        return _refuse(conn, clock, msg, message_id, refusal)
    account_id = ledger.find_account_id(conn, msg.municipality, debtor.value)
    if account_id is None:
        account_id = ledger.insert_account(
            conn, msg.municipality, msg.debtor.id_type, debtor.value, clock.now()
        )
    moved = account_id != state.account_id
    minor = needs_guardian(debtor, business_date(msg.occurred_at))
    new_debtor = mask_debtor_id(msg.debtor.id_type, debtor.value)
    if minor and status is ClaimStatus.OPEN:
        _touch(
            conn, state.id, sequence, account_id=account_id, status=ClaimStatus.HELD, uninvoice=True
        )
        _event(conn, clock, msg, state.id, EventKind.HELD, message_id, held_detail())
    elif not minor and status is ClaimStatus.HELD:
        _touch(conn, state.id, sequence, account_id=account_id, status=ClaimStatus.OPEN)
        _event(conn, clock, msg, state.id, EventKind.RELEASED, message_id, {"debtor": new_debtor})
        reinvoice_moved_claim(conn, clock, msg.municipality, state.id)
    elif moved:
        _touch(conn, state.id, sequence, account_id=account_id)
        if status is ClaimStatus.OPEN:
            reinvoice_moved_claim(conn, clock, msg.municipality, state.id)
    else:
        _touch(conn, state.id, sequence)  # the same debtor again: nothing to move
    if moved:
        detail = {
            "old_debtor": mask_debtor_id(state.id_type, state.debtor_id),
            "new_debtor": new_debtor,
            "reason": mask_cprs_in_text(msg.reason),
        }
        _event(conn, clock, msg, state.id, EventKind.DEBTOR_CHANGED, message_id, detail)
    return accepted(msg, message_id, Money(ore=int(state.balance_ore)))


def held_detail() -> dict[str, str]:
    """The detail of a ``held`` event: why the claim waits (a minor's claim, for a guardian)."""
    return {"reason": GUARDIAN_REQUIRED, "text": GUARDIAN_REQUIRED_TEXT}


# -- small writers --------------------------------------------------------------------------------


def _post(
    conn: Connection,
    clock: Clock,
    msg: ClaimMessage,
    claim_pk: int,
    kind: PostingKind,
    signed: Money,
    message_id: str,
    note: str,
    fee_part: Money,
) -> None:
    ledger.append_postings(
        conn,
        [
            Posting(
                kind=kind,
                amount=signed,
                effective_on=business_date(msg.occurred_at),
                booked_at=clock.now(),
                message_id=message_id,
                note=mask_cprs_in_text(note),
                claim_pk=claim_pk,
                municipality=msg.municipality,
                fee_part=fee_part,
            )
        ],
    )


def _touch(
    conn: Connection,
    claim_pk: int,
    sequence: int | None,
    *,
    status: ClaimStatus | None = None,
    account_id: int | None = None,
    uninvoice: bool = False,
) -> None:
    """Update the claim row: the last applied sequence, and a new status or account if given;
    ``uninvoice``: the claim leaves its invoice."""
    values: dict[str, Any] = {"invoice_id": None} if uninvoice else {}
    if sequence is not None:
        values["last_applied_sequence"] = sequence
    if status is not None:
        values["status"] = status.value
    if account_id is not None:
        values["account_id"] = account_id
    if values:
        conn.execute(update(claims).where(claims.c.id == claim_pk).values(**values))


def _event(
    conn: Connection,
    clock: Clock,
    msg: ClaimMessage,
    claim_pk: int,
    kind: EventKind,
    message_id: str,
    detail: dict[str, str],
) -> None:
    ledger.insert_event(
        conn,
        {
            "municipality": msg.municipality,
            "claim_pk": claim_pk,
            "kind": kind.value,
            "at": clock.now(),
            "message_id": message_id,
            "detail": detail,
        },
    )


def _refuse(
    conn: Connection, clock: Clock, msg: ClaimMessage, message_id: str, refusal: ValidationError
) -> Outcome:
    """Record the refusal; nothing else was written (every check runs before any write)."""
    outcome = refused(msg, message_id, refusal)
    ledger.insert_rejections(conn, [outcome], clock.now())
    return outcome


def answer(conn: Connection, clock: Clock, outcome: Outcome) -> None:
    """Tell the library how its message went: RegistrationAccepted or RegistrationRejected
    (unordered messages, source ``debtor``)."""
    send(conn, answer_message(clock, outcome), source=SOURCE)


def answer_many(conn: Connection, clock: Clock, outcomes: list[Outcome]) -> None:
    """:func:`answer` for many outcomes with one executemany (the bulk path)."""
    send_many(conn, [Outgoing(answer_message(clock, o)) for o in outcomes], source=SOURCE)


def answer_message(clock: Clock, outcome: Outcome) -> RegistrationAccepted | RegistrationRejected:
    """The answer to the library for one outcome."""
    if outcome.accepted:
        assert outcome.balance_ore is not None
        return RegistrationAccepted(
            municipality=outcome.municipality,
            occurred_at=clock.now(),
            claim_id=outcome.claim_id,
            accepted_message_id=outcome.message_id,
            accepted_type=outcome.message_type,
            debtor_balance_ore=outcome.balance_ore,
        )
    assert outcome.code is not None and outcome.reason is not None
    return RegistrationRejected(
        municipality=outcome.municipality,
        occurred_at=clock.now(),
        claim_id=outcome.claim_id,
        rejected_message_id=outcome.message_id,
        rejected_type=outcome.message_type,
        code=outcome.code,
        reason=outcome.reason,
    )
