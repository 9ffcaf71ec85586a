"""Unmatched payments, applied by a person.

A payment for which allocation finds no claim (no usable reference, or a FIK payment ID of no
invoice) is kept in ``debtor_payment`` with outcome ``unmatched``: real money, waiting for a
person. :func:`list_unmatched` shows what waits; :func:`assign` applies one payment to what the
person names, exactly one of:

* a debtor (CPR or CVR): the debtor's open claims, the rest credit on the account;
* an invoice's FIK payment ID: the invoice's claims (if it is settled, the debtor's other open
  claims), the rest credit;
* chosen claims (of one debtor): those claims, the rest credit.

The money goes through the one allocation path: a payment of its own on the internal channel
``staff`` (``payment_ref`` ``assigned:<original ref>``, same amount and booking date) through
:func:`fbs_debitor.debtor.service.allocation.allocate`, so the coverage postings, ``ClaimCovered`` /
``ClaimClosed`` to the library and ``InvoiceUpdated`` to the channels are the ones any payment
makes. What is left over is credit on the account; :mod:`fbs_debitor.debtor.service.credit` counts the
new row's credit (it is the real money, moved). The original row becomes ``assigned``, with
``credit_ore`` 0 and the account it went to, so the money is counted once; its reason tells who
assigned it when, to what, and why (CPR numbers masked). The channel then hears how its payment
went (``PaymentAllocated`` for the original reference), as if allocation had matched it.

Idempotent: the new payment's message id is derived from the municipality, the original
reference and the target (a debtor by its account id, never its number), so the same assignment
again returns the first result, and another target for an assigned payment is refused.

A bank reversal of the original payment (``PaymentReversed``) undoes the assigned payment too
(:func:`reverse_assigned`, called by the handler after allocation's own reversal).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Row, select, update

from fbs_debitor.contracts.payment import PaymentAllocated, PaymentReceived, PaymentReversed
from fbs_debitor.contracts.sending import send
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.errors import ConflictError, NotFoundError
from fbs_debitor.core.ids import mask_cprs_in_text
from fbs_debitor.core.money import Money
from fbs_debitor.core.text import readable
from fbs_debitor.debtor.model.claims import mask_debtor_id
from fbs_debitor.debtor.model.ledger import PostingKind
from fbs_debitor.debtor.service import allocation
from fbs_debitor.debtor.service.allocation import INTERNAL_CHANNELS
from fbs_debitor.debtor.store.tables import accounts, claims, payments, postings
from fbs_debitor.debtor.store.unmatched import Target, check_claims, clean_text, resolve_target
from fbs_debitor.messaging.store import outbox

UNMATCHED = "unmatched"
ASSIGNED = "assigned"
"""The outcome of an unmatched payment once a person applied it (the money is in the row
``assigned:<ref>``)."""
STAFF_CHANNEL = "staff"
"""The channel of the payment a person made of an unmatched one (internal: allocation sends no
``PaymentAllocated`` for it; :func:`assign` answers the original channel itself)."""
SOURCE = "debtor"
REF_MAX = 120
"""The longest ``payment_ref`` (column and contract)."""
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://fbs-debitor.dk/debtor/unmatched/assign")
_CHUNK = 900


@dataclass(frozen=True, slots=True)
class Assignment:
    """What applying an unmatched payment did (the first time, also when asked again)."""

    payment_ref: str
    """The original payment."""
    assigned_ref: str
    """The payment made of it on the channel ``staff``."""
    amount_ore: int
    outcome: str
    """``matched`` or ``partly_matched`` (what was over is credit on the account)."""
    covered_ore: int
    credit_ore: int
    claim_ids: tuple[str, ...]
    debtor: str
    """The account the money went to: a CPR masked, a CVR in full."""
    reason: str
    created: bool
    """False: this assignment was made before; the first result, unchanged."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"claim_ids": list(self.claim_ids)}


def assigned_ref(payment_ref: str, row_id: int) -> str:
    """The reference of the payment made of an unmatched one: ``assigned:<ref>``, or
    ``assigned:#<row id>`` when that would be longer than a reference may be."""
    ref = f"{ASSIGNED}:{payment_ref}"
    return ref if len(ref) <= REF_MAX else f"{ASSIGNED}:#{row_id}"


# -- the list -----------------------------------------------------------------------------------


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _payer_texts(conn: Connection, message_ids: Sequence[str]) -> dict[str, str]:
    """The payer text (remittance information) of each payment, from the ``PaymentReceived``
    that brought it (debtor does not keep it in its own table)."""
    out: dict[str, str] = {}
    for part in _chunks(sorted(set(message_ids))):
        rows = conn.execute(
            select(outbox.c.message_id, outbox.c.payload).where(outbox.c.message_id.in_(part))
        )
        for message_id, payload in rows:
            try:
                text = json.loads(payload).get("payer_text") or ""
            except (ValueError, AttributeError):
                text = ""
            out[message_id] = mask_cprs_in_text(str(text))
    return out


def _masked_debtors(conn: Connection, account_ids: Sequence[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for part in _chunks(sorted(set(account_ids))):
        rows = conn.execute(
            select(accounts.c.id, accounts.c.id_type, accounts.c.debtor_id).where(
                accounts.c.id.in_(part)
            )
        )
        out.update((int(i), mask_debtor_id(t, d)) for i, t, d in rows)
    return out


def list_unmatched(
    conn: Connection, municipality: str, *, limit: int | None = None, offset: int = 0
) -> list[dict[str, Any]]:
    """The payments waiting for a person, oldest first: unmatched, not reversed, from a real
    channel. ``debtor`` (masked) is set when allocation knew the account (a settled invoice's
    payment ID): the money is credit on that account until someone assigns it elsewhere. Payer
    text and reason have CPR numbers masked. ``limit`` and ``offset`` page through them."""
    rows = list(
        conn.execute(
            select(payments)
            .where(
                payments.c.municipality == municipality,
                payments.c.outcome == UNMATCHED,
                payments.c.reversed.is_(False),
                payments.c.channel.not_in(sorted(INTERNAL_CHANNELS)),
            )
            .order_by(payments.c.id)
            .limit(limit)
            .offset(offset)
        )
    )
    texts = _payer_texts(conn, [r.message_id for r in rows])
    debtors = _masked_debtors(conn, [int(r.account_id) for r in rows if r.account_id is not None])
    return [
        {
            "payment_ref": r.payment_ref,
            "channel": r.channel,
            "booked_on": r.booked_on.isoformat(),
            "amount_ore": int(r.amount_ore),
            "amount": Money(ore=int(r.amount_ore)).to_json_str(),
            "payment_id": r.payment_id,
            "payer_text": texts.get(r.message_id, ""),
            "debtor": None if r.account_id is None else debtors.get(int(r.account_id)),
            "reason": mask_cprs_in_text(r.reason),
            "received_at": r.received_at,
        }
        for r in rows
    ]


# -- applying it --------------------------------------------------------------------------------


def _message_id(municipality: str, payment_ref: str, target: Target) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{municipality}\n{payment_ref}\n{target.key}"))


def _payment(conn: Connection, municipality: str, payment_ref: str, *, lock: bool) -> Any:
    query = select(payments).where(
        payments.c.municipality == municipality, payments.c.payment_ref == payment_ref
    )
    return conn.execute(query.with_for_update() if lock else query).first()


def _claims_paid(conn: Connection, message_id: str) -> tuple[str, ...]:
    """The library ids of the claims the payment with ``message_id`` covered, in its order."""
    rows = conn.execute(
        select(claims.c.claim_id)
        .join_from(postings, claims, postings.c.claim_pk == claims.c.id)
        .where(
            postings.c.message_id == message_id,
            postings.c.kind == PostingKind.COVERAGE.value,
        )
        .order_by(postings.c.id)
    )
    return tuple(dict.fromkeys(rows.scalars()))


def _result(conn: Connection, original: Row[Any], made: Row[Any], created: bool) -> Assignment:
    debtor = _masked_debtors(conn, [int(made.account_id)])[int(made.account_id)]
    return Assignment(
        payment_ref=original.payment_ref,
        assigned_ref=made.payment_ref,
        amount_ore=int(made.amount_ore),
        outcome=made.outcome,
        covered_ore=int(made.covered_ore),
        credit_ore=int(made.credit_ore),
        claim_ids=_claims_paid(conn, made.message_id),
        debtor=debtor,
        reason=made.reason,
        created=created,
    )


def assign(
    conn: Connection,
    clock: Clock,
    municipality: str,
    payment_ref: str,
    *,
    debtor: str | None = None,
    payment_id: str | None = None,
    claim_ids: Sequence[str] = (),
    by: str,
    note: str,
) -> Assignment:
    """Apply the unmatched payment ``payment_ref`` to a debtor, an invoice's payment ID or
    chosen claims (exactly one); see the module docstring.

    Raises ValidationError (no or several target kinds, a malformed value, an empty ``by`` or
    ``note``); NotFoundError for an unknown payment (``unknown-payment``), debtor without
    account (``unknown-debtor``), payment ID (``unknown-payment-id``) or claim
    (``unknown-claim``); ConflictError for a reversed payment (``payment-reversed``), one
    assigned to another target (``payment-assigned``), one allocation matched
    (``payment-not-unmatched``) or a chosen claim that is not open (``claim-not-open``)."""
    by = clean_text(by, "by", 100)
    note = clean_text(note, "note", 500, multiline=True)
    if not readable(payment_ref, REF_MAX):
        raise NotFoundError("no such payment", code="unknown-payment")
    original = _payment(conn, municipality, payment_ref, lock=True)
    if original is None or original.channel in INTERNAL_CHANNELS:
        raise NotFoundError(f"no payment {payment_ref!r}", code="unknown-payment")
    if original.reversed:
        raise ConflictError(
            f"the payment {payment_ref!r} was reversed: there is no money to apply",
            code="payment-reversed",
        )
    target = resolve_target(conn, municipality, debtor, payment_id, claim_ids)
    message_id = _message_id(municipality, payment_ref, target)
    new_ref = assigned_ref(payment_ref, int(original.id))
    if original.outcome == ASSIGNED:
        made = _payment(conn, municipality, new_ref, lock=False)
        if made is not None and made.message_id == message_id:
            return _result(conn, original, made, created=False)
        raise ConflictError(
            f"the payment {payment_ref!r} was assigned already, to something else: "
            f"{mask_cprs_in_text(original.reason)}",
            code="payment-assigned",
        )
    if original.outcome != UNMATCHED:
        raise ConflictError(
            f"the payment {payment_ref!r} was allocated ({original.outcome}), it is not waiting",
            code="payment-not-unmatched",
        )
    if target.claim_ids:
        check_claims(conn, municipality, target.claim_ids)
    return _apply(conn, clock, original, target, new_ref, message_id, by=by, note=note)


def _apply(
    conn: Connection,
    clock: Clock,
    original: Row[Any],
    target: Target,
    new_ref: str,
    message_id: str,
    *,
    by: str,
    note: str,
) -> Assignment:
    municipality, amount = original.municipality, int(original.amount_ore)
    now = clock.now()
    done = allocation.allocate(
        conn,
        clock,
        PaymentReceived(
            municipality=municipality,
            occurred_at=now,
            payment_ref=new_ref,
            channel=STAFF_CHANNEL,
            booked_on=original.booked_on,
            amount_ore=amount,
            payment_id=target.payment_id,
            debtor=target.debtor,
            claim_ids=list(target.claim_ids),
            payer_text=f"{original.payment_ref} assigned by {by}",
        ),
        message_id,
    )
    made = _payment(conn, municipality, new_ref, lock=False)
    if done is None or made is None:  # a row assigned:<ref> without an assigned original
        raise ConflictError(
            f"{new_ref} exists already; the payment cannot be assigned again",
            code="payment-assigned",
        )
    if made.account_id is None:  # the pre-checks make this impossible; never lose the money
        raise ConflictError(
            f"{target.text} names no open claim and no debtor account", code="assign-found-nothing"
        )
    outcome, reason = done.outcome, done.reason
    if done.covered_ore + done.credit_ore != amount or int(made.amount_ore) != amount:
        raise RuntimeError(f"{new_ref}: covered and credit do not add up to {amount} øre")
    assignment = (
        f"assigned on {clock.today().isoformat()} by {by} to {target.text} as {new_ref} "
        f"({outcome}: covered {done.covered_ore} øre, credit {done.credit_ore} øre): {note}"
    )
    conn.execute(
        update(payments)
        .where(payments.c.id == original.id)
        .values(
            outcome=ASSIGNED,
            credit_ore=0,
            account_id=made.account_id,
            reason=mask_cprs_in_text(f"{original.reason}; {assignment}"),
        )
    )
    send(
        conn,
        PaymentAllocated(
            municipality=municipality,
            occurred_at=now,
            payment_ref=original.payment_ref,
            outcome=outcome,
            covered_ore=done.covered_ore,
            credit_ore=done.credit_ore,
            reason=mask_cprs_in_text(f"assigned by {by}: {reason}"),
            claim_ids=list(done.claim_ids),
        ),
        source=SOURCE,
    )
    made = _payment(conn, municipality, new_ref, lock=False)
    return _result(conn, original, made, created=True)


# -- a reversal of the original -----------------------------------------------------------------


def reverse_assigned(conn: Connection, clock: Clock, message: PaymentReversed) -> bool:
    """When the bank reverses a payment a person assigned, reverse the payment made of it too
    (its coverage, and its credit no longer counts). False if the payment was not assigned or
    that payment was reversed before. Call it after :func:`allocation.reverse` of ``message``."""
    original = _payment(conn, message.municipality, message.payment_ref, lock=False)
    if original is None or original.outcome != ASSIGNED:
        return False
    return allocation.reverse(
        conn,
        clock,
        PaymentReversed(
            municipality=message.municipality,
            occurred_at=message.occurred_at,
            payment_ref=assigned_ref(original.payment_ref, int(original.id)),
            reversal_ref=message.reversal_ref,
            amount_ore=message.amount_ore,
            reason=message.reason,
        ),
    )
