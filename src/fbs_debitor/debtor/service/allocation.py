"""Allocation (afstemning) of payments from the channels (leg 3) and coverage back to the
library (leg 4).

A payment is applied once per ``payment_ref``. Which claims it pays:

1. the claims the payer chose (``claim_ids``: cash register, portal); when they are paid already
   (a second receipt for the same slip), the debtor's other open claims, then credit;
2. else the claims on the invoice its FIK payment ID (or invoice id) names;
3. else, when the channel knows the debtor, the debtor's open claims;
4. else nothing: the payment is kept *unmatched*, with its reason, for a person.

Claims are paid oldest due date first, then oldest created, then by claim id; within a claim,
interest and reminder fees before the principal (``model.principal_and_fees``). What is left over
is *credit* on the debtor account (outcome ``partly_matched``; so is all of a payment whose debtor
is known but owes nothing now, such as a second payment of a settled invoice); the library hears only of the
principal it knows (``ClaimCovered``, and ``ClaimClosed`` when nothing is left). Every affected
invoice's amount due goes back to the channels (``InvoiceUpdated``), and the channel hears how its
payment went (``PaymentAllocated``).

Claims handed over to collection (decision 0022) are paid like open ones: a payment that reaches
the municipality (any channel but ``psrm``) covers them and is reported to collection
(``HandedOverClaimChanged``, change ``covered``, the payment's own date), as is the reversal of
such a payment (``coverage_reversed``). PSRM's settlement (channel ``psrm``, naming its claim)
covers exactly that claim and is never reported back; for a claim closed since, it is credit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    select,
    update,
)

from fbs_debitor.contracts.collection import PSRM_CHANNEL, Change
from fbs_debitor.contracts.coverage import (
    ClaimClosed,
    ClaimCovered,
    CoverageReversed,
    InvoiceUpdated,
)
from fbs_debitor.contracts.payment import PaymentAllocated, PaymentReceived, PaymentReversed
from fbs_debitor.contracts.sending import Outgoing, send, send_many
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.fastsql import insert_dicts, update_rows
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.model.allocation import Component, plan_allocation
from fbs_debitor.debtor.model.billing import WriteOffRule
from fbs_debitor.debtor.model.claims import ClaimStatus
from fbs_debitor.debtor.model.ledger import Posting, PostingKind, principal_and_fees
from fbs_debitor.debtor.service.collection import changed_message, report_change
from fbs_debitor.debtor.service.regulation import REGULATION_CHANNEL, record_credit
from fbs_debitor.debtor.store.allocation import AllocationState, ClaimState
from fbs_debitor.debtor.store.collection import in_collection
from fbs_debitor.debtor.store.ledger import append_postings, claim_balances
from fbs_debitor.debtor.store.tables import claims, invoices, payments, postings, write_offs

SOURCE = "debtor"
INTERNAL_CHANNELS = frozenset({"credit", "staff"})
"""Channels inside debtor (an account's credit paying a claim; staff applying an unmatched
payment): no PaymentAllocated goes out for the internal reference."""


@dataclass(frozen=True, slots=True)
class Allocation:
    """What one payment did: ``covered`` per library claim id (all components), the credit."""

    payment_ref: str
    outcome: str
    covered_ore: int
    credit_ore: int
    reason: str
    claim_ids: tuple[str, ...]


def _ledger(conn: Connection, claim_pk: int) -> list[tuple[int, int]]:
    rows = conn.execute(
        select(postings.c.amount_ore, postings.c.fee_part_ore)
        .where(postings.c.claim_pk == claim_pk)
        .order_by(postings.c.id)
    )
    return [(int(a), int(f)) for a, f in rows]


def _targets(
    state: AllocationState, msg: PaymentReceived
) -> tuple[list[ClaimState], int | None, str]:
    """The open claims the payment is for (in allocation order), the account, and how they
    were found."""
    m = msg.municipality
    if msg.claim_ids:
        chosen = state.chosen(m, msg.claim_ids)
        if chosen:
            return chosen, chosen[0].account_id, "the claims the payer chose"
        if msg.channel == PSRM_CHANNEL:  # PSRM's money for a claim closed since: credit
            return [], state.account_of(m, msg.claim_ids), "PSRM's settlement of a closed claim"
        # paid already (another receipt for the same slip): the money is still the debtor's
        account = state.account_of(m, msg.claim_ids)
        if account is None and msg.debtor is not None:
            account = state.accounts.get((m, msg.debtor.id))
        if account is not None:
            return (
                state.open_claims_of_account(account),
                account,
                "the claims the payer chose are paid: the debtor's open claims",
            )
        return [], None, "the claims the payer chose"
    invoice_id: int | None = None
    if msg.payment_id:
        invoice_id = state.invoice_by_payment_id.get((m, msg.payment_id))
    elif msg.invoice_id and msg.invoice_id.isdigit():
        found = state.invoices.get(int(msg.invoice_id))
        invoice_id = found.id if found is not None and found.municipality == m else None
    if invoice_id is not None:
        invoice = state.invoices[invoice_id]
        rows = sorted(
            (c for c in state.invoice_claims(invoice_id) if c.is_payable), key=ClaimState.order_key
        )
        if not rows:  # the invoice is settled already: the debtor's other open claims
            rows = state.open_claims_of_account(invoice.account_id)
        return (
            rows,
            invoice.account_id,
            f"invoice with payment ID {msg.payment_id or msg.invoice_id}",
        )
    if msg.debtor is not None:
        account = state.accounts.get((m, msg.debtor.id))
        if account is not None:
            return state.open_claims_of_account(account), account, "the debtor's open claims"
    if msg.payment_id:
        return [], None, f"payment ID {msg.payment_id} belongs to no invoice"
    return [], None, "no usable payment reference"


@dataclass
class _Run:
    """What a run of payments writes, collected in order and written in bulk at the end.

    The messages go out grouped by receiver (the library's coverage, then the channels'
    invoice updates, then the channels' allocation answers), each group in the run's order, so
    that the worker hands each receiver one long run instead of alternating runs of one or two;
    the order that matters (per claim, per invoice) is kept within each group.
    """

    postings: list[Posting] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    write_offs: list[dict[str, Any]] = field(default_factory=list)
    coverage: list[Outgoing] = field(default_factory=list)
    invoices: list[Outgoing] = field(default_factory=list)
    answers: list[Outgoing] = field(default_factory=list)
    reports: list[Outgoing] = field(default_factory=list)
    """Reports to collection of local payments on claims PSRM holds (decision 0022)."""


def allocate(
    conn: Connection, clock: Clock, msg: PaymentReceived, message_id: str
) -> Allocation | None:
    """Apply one payment (None: this ``payment_ref`` was applied before)."""
    return allocate_many(conn, clock, [(msg, message_id)])[0]


def allocate_many(
    conn: Connection, clock: Clock, items: Sequence[tuple[PaymentReceived, str]]
) -> list[Allocation | None]:
    """Apply payments in order, with the same effect as :func:`allocate` on each in turn, but
    with a few bulk reads and one executemany per table (the leg-3 hot path)."""
    if not items:
        return []
    state = AllocationState.read(conn, payments, [m for m, _ in items])
    run = _Run()
    results = [_apply(state, run, clock, msg, message_id) for msg, message_id in items]
    append_postings(conn, run.postings)
    insert_dicts(conn, payments, run.payments)
    insert_dicts(conn, write_offs, run.write_offs)
    changed = [
        {
            "id": c.pk,
            "status": c.status,
            "coverage_sequence": c.coverage_sequence,
            "collection_sequence": c.collection_sequence,
        }
        for c in state.claims.values()
        if c.changed
    ]
    update_rows(conn, claims, ["id"], changed)
    messages = run.coverage + run.invoices + run.answers + run.reports
    if messages:
        send_many(conn, messages, source=SOURCE)
    return results


def _apply(
    state: AllocationState, run: _Run, clock: Clock, msg: PaymentReceived, message_id: str
) -> Allocation | None:
    key = (msg.municipality, msg.payment_ref)
    if key in state.applied_refs:
        return None
    state.applied_refs.add(key)
    rows, account_id, how = _targets(state, msg)
    now = clock.now()
    # claims PSRM holds that a payment to the municipality covers are reported to collection
    reported = (
        [] if msg.channel == PSRM_CHANNEL else [(c, c.balance) for c in rows if c.handed_over]
    )
    plan = plan_allocation([c.open_claim(msg.booked_on) for c in rows], Money(ore=msg.amount_ore))
    remaining, due_total = plan.remainder.ore, plan.due.ore
    paid: list[str] = []
    invoice_ids: set[int] = set()
    covered_claims = plan.per_claim()
    for pk, amount in plan.waived:
        claim = state.claims[pk]
        _waive_late_fees(run, now, msg, message_id, claim, amount)
        if pk not in covered_claims:  # nothing covered: close it here if the waiver settled it
            if claim.invoice_id is not None:
                invoice_ids.add(claim.invoice_id)
            _close_if_paid(run, now, claim)
    for pk, (fees, principal) in covered_claims.items():
        claim = state.claims[pk]
        paid.append(claim.claim_id)
        if claim.invoice_id is not None:
            invoice_ids.add(claim.invoice_id)
        _cover(run, now, msg, message_id, claim, fees, principal)
    for claim, before in reported:
        if claim.balance != before:
            run.reports.append(
                Outgoing(
                    changed_message(
                        clock,
                        municipality=claim.municipality,
                        claim_id=claim.claim_id,
                        change=Change.COVERED,
                        amount_ore=before - claim.balance,
                        effective_on=msg.booked_on,
                        remaining_ore=claim.balance,
                        reason=f"{msg.channel} {msg.payment_ref}",
                    ),
                    sequence=claim.next_collection_sequence(),
                )
            )
    covered = msg.amount_ore - remaining
    if not rows and account_id is None:
        outcome, reason = "unmatched", how
    elif not rows:  # the debtor is known and owes nothing now: all of it is credit
        outcome, reason = "partly_matched", f"overpaid by {remaining} øre, kept as credit: {how}"
    elif remaining == 0 and covered == due_total:
        outcome, reason = "matched", f"paid in full: {how}"
    elif remaining > 0:
        outcome, reason = "partly_matched", f"overpaid by {remaining} øre, kept as credit: {how}"
    else:
        outcome, reason = "partly_matched", f"underpaid by {due_total - covered} øre: {how}"
    run.payments.append(
        {
            "municipality": msg.municipality,
            "payment_ref": msg.payment_ref,
            "channel": msg.channel,
            "booked_on": msg.booked_on,
            "amount_ore": msg.amount_ore,
            "payment_id": msg.payment_id,
            "account_id": account_id,
            "outcome": outcome,
            "covered_ore": covered,
            "credit_ore": remaining,
            "reason": reason,
            "message_id": message_id,
            "received_at": now,
            "reversed": False,
        }
    )
    for invoice_id in sorted(invoice_ids):
        invoice = state.invoice(invoice_id)
        due = sum(max(c.balance, 0) for c in state.invoice_claims(invoice_id))
        run.invoices.append(
            Outgoing(
                InvoiceUpdated(
                    municipality=msg.municipality,
                    occurred_at=now,
                    invoice_id=str(invoice_id),
                    payment_id=invoice.payment_id,
                    amount_due_ore=due,
                    status="open" if due > 0 else "paid",
                )
            )
        )
    if msg.channel not in INTERNAL_CHANNELS:
        run.answers.append(
            Outgoing(
                PaymentAllocated(
                    municipality=msg.municipality,
                    occurred_at=now,
                    payment_ref=msg.payment_ref,
                    outcome=outcome,
                    covered_ore=covered,
                    credit_ore=remaining,
                    reason=reason,
                    claim_ids=paid,
                )
            )
        )
    return Allocation(msg.payment_ref, outcome, covered, remaining, reason, tuple(paid))


def _cover(
    run: _Run,
    now: datetime,
    msg: PaymentReceived,
    message_id: str,
    claim: ClaimState,
    fees: Money,
    principal: Money,
) -> None:
    """Book one claim's coverage (one posting) and tell the library of its principal part."""
    before, _ = claim.principal_and_fees()
    pay = fees + principal
    run.postings.append(
        Posting(
            kind=PostingKind.COVERAGE,
            amount=-pay,
            effective_on=msg.booked_on,
            booked_at=now,
            message_id=message_id,
            note=f"{msg.channel} {msg.payment_ref}",
            claim_pk=claim.pk,
            municipality=claim.municipality,
            fee_part=-fees,
        )
    )
    claim.ledger.append((-pay.ore, -fees.ore))
    if principal.is_positive():
        run.coverage.append(
            Outgoing(
                ClaimCovered(
                    municipality=claim.municipality,
                    occurred_at=now,
                    claim_id=claim.claim_id,
                    amount_ore=principal.ore,
                    payment_date=msg.booked_on,
                    channel=msg.channel,
                    payment_reference=msg.payment_ref,
                    remaining_ore=max(before - principal.ore, 0),
                ),
                sequence=claim.next_sequence(),
                leg="leg4",
            )
        )
    _close_if_paid(run, now, claim)


def _waive_late_fees(
    run: _Run, now: datetime, msg: PaymentReceived, message_id: str, claim: ClaimState, fees: Money
) -> None:
    """The payment settled what the claim owed on its day: the reminder fees and interest that
    arose later are written off (rule ``paid_in_time``), never covered."""
    reason = (
        f"Betalt rettidigt {msg.booked_on.isoformat()} ({msg.payment_ref}): rykkergebyr og "
        "renter efter betalingsdagen bortfalder"
    )
    run.postings.append(
        Posting(
            kind=PostingKind.WRITE_OFF,
            amount=-fees,
            effective_on=msg.booked_on,
            booked_at=now,
            message_id=message_id,
            note=reason,
            claim_pk=claim.pk,
            municipality=claim.municipality,
            fee_part=-fees,
        )
    )
    claim.ledger.append((-fees.ore, -fees.ore))
    run.write_offs.append(
        {
            "municipality": claim.municipality,
            "claim_pk": claim.pk,
            "amount_ore": fees.ore,
            "rule": WriteOffRule.PAID_IN_TIME.value,
            "reason": reason,
            "by": "system",
            "component": Component.FEES.value,
            "effective_on": msg.booked_on,
            "at": now,
        }
    )


def _close_if_paid(run: _Run, now: datetime, claim: ClaimState) -> None:
    """A claim that owes nothing any more is paid; the library hears ``ClaimClosed``."""
    if claim.balance == 0 and claim.is_payable:
        claim.status = ClaimStatus.PAID.value
        claim.changed = True
        run.coverage.append(
            Outgoing(
                ClaimClosed(
                    municipality=claim.municipality,
                    occurred_at=now,
                    claim_id=claim.claim_id,
                    outcome="paid",
                ),
                sequence=claim.next_sequence(),
                leg="leg4",
            )
        )


def _next_sequence(conn: Connection, row: Any) -> int:
    seq = int(row.coverage_sequence) + 1
    conn.execute(update(claims).where(claims.c.id == row.id).values(coverage_sequence=seq))
    return seq


def invoice_updated(conn: Connection, clock: Clock, municipality: str, invoice_id: int) -> None:
    """Tell the channels what is due on the invoice now."""
    invoice = conn.execute(select(invoices).where(invoices.c.id == invoice_id)).one()
    pks = conn.execute(select(claims.c.id).where(claims.c.invoice_id == invoice_id)).scalars()
    due = sum(max(b.ore, 0) for b in claim_balances(conn, list(pks)).values())
    send(
        conn,
        InvoiceUpdated(
            municipality=municipality,
            occurred_at=clock.now(),
            invoice_id=str(invoice_id),
            payment_id=invoice.payment_id,
            amount_due_ore=due,
            status="open" if due > 0 else "paid",
        ),
        source=SOURCE,
    )


def reverse(conn: Connection, clock: Clock, msg: PaymentReversed) -> bool:
    """Undo the coverage of a reversed payment (False: unknown or already reversed).

    Every coverage posting of the payment gets a ``reversal`` posting; the library hears of the
    principal part (``CoverageReversed``); a paid claim opens again. So does every ``paid_in_time``
    write-off it made: nothing was paid in time, so the reminder fees and interest it waived are
    owed again (not on a claim cancelled since: those fell with it).

    What it paid on a claim that was cancelled since (or written down to zero) became credit
    then (``service.regulation``): that claim is left as it is (it owes nothing) and the amount is
    taken back from the account's credit instead, by a ``regulation`` row with a negative credit
    (the account may go short, as for a reversed overpayment whose credit was used: decision
    0007). Nothing is refunded of money that never came.
    """
    payment = conn.execute(
        select(payments).where(
            payments.c.municipality == msg.municipality,
            payments.c.payment_ref == msg.payment_ref,
        )
    ).first()
    if payment is None or payment.reversed:
        return False
    covered = list(
        conn.execute(
            select(postings)
            .where(
                postings.c.municipality == msg.municipality,
                postings.c.kind.in_([PostingKind.COVERAGE.value, PostingKind.WRITE_OFF.value]),
                postings.c.message_id == payment.message_id,
            )
            .order_by(postings.c.id)
        )
    )
    from_credit: dict[int, int] = {}  # account id -> øre the claims had moved to credit
    for posting in covered:
        row = conn.execute(select(claims).where(claims.c.id == posting.claim_pk)).one()
        if row.status == ClaimStatus.CANCELLED.value:
            if posting.kind == PostingKind.COVERAGE.value:
                account_id = int(row.account_id)
                from_credit[account_id] = from_credit.get(account_id, 0) - int(posting.amount_ore)
            continue
        before, before_fees = principal_and_fees(_ledger(conn, row.id))
        held_by_psrm = row.status == ClaimStatus.HANDED_OVER.value or (
            row.status == ClaimStatus.PAID.value and in_collection(conn, int(row.id))
        )
        append_postings(
            conn,
            [
                Posting(
                    kind=PostingKind.REVERSAL,
                    amount=Money(ore=-int(posting.amount_ore)),
                    effective_on=clock.today(),
                    booked_at=clock.now(),
                    reverses=int(posting.id),
                    note=f"reversal {msg.reversal_ref} of {msg.payment_ref}: {msg.reason}",
                    claim_pk=int(row.id),
                    municipality=row.municipality,
                    fee_part=Money(ore=-int(posting.fee_part_ore)),
                )
            ],
        )
        after, after_fees = principal_and_fees(_ledger(conn, row.id))
        if row.status == ClaimStatus.PAID.value:
            reopened = ClaimStatus.HANDED_OVER if held_by_psrm else ClaimStatus.OPEN
            conn.execute(update(claims).where(claims.c.id == row.id).values(status=reopened.value))
        if held_by_psrm and payment.channel != PSRM_CHANNEL:
            report_change(
                conn,
                clock,
                int(row.id),
                municipality=row.municipality,
                claim_id=row.claim_id,
                change=Change.COVERAGE_REVERSED,
                amount_ore=after + after_fees - before - before_fees,
                effective_on=clock.today(),
                remaining_ore=after + after_fees,
                reason=msg.reason or "reversed by the bank",
            )
        if after > before:
            send(
                conn,
                CoverageReversed(
                    municipality=row.municipality,
                    occurred_at=clock.now(),
                    claim_id=row.claim_id,
                    amount_ore=after - before,
                    payment_reference=msg.payment_ref,
                    reason=msg.reason or "reversed by the bank",
                    remaining_ore=after,
                ),
                source=SOURCE,
                sequence=_next_sequence(conn, row),
                leg="leg4",
            )
        if row.invoice_id is not None:
            invoice_updated(conn, clock, row.municipality, row.invoice_id)
    for account_id, ore in sorted(from_credit.items()):
        record_credit(
            conn,
            municipality=msg.municipality,
            payment_ref=f"{REGULATION_CHANNEL}:{msg.reversal_ref}:{account_id}",
            account_id=account_id,
            on=clock.today(),
            amount_ore=-ore,
            reason=(
                f"{msg.payment_ref} reversed: the {Money(ore=ore)} it paid on claims "
                "cancelled since had become credit, taken back"
            ),
            message_id=payment.message_id,
            at=clock.now(),
        )
    conn.execute(update(payments).where(payments.c.id == payment.id).values(reversed=True))
    return True


def unmatched_payments(conn: Connection, municipality: str) -> list[dict[str, Any]]:
    """Payments no claim could be found for: real money waiting for a person."""
    rows = conn.execute(
        select(payments)
        .where(payments.c.municipality == municipality, payments.c.outcome == "unmatched")
        .order_by(payments.c.id)
    )
    return [
        {
            "payment_ref": r.payment_ref,
            "channel": r.channel,
            "booked_on": r.booked_on.isoformat(),
            "amount_ore": r.amount_ore,
            "payment_id": r.payment_id,
            "reason": r.reason,
        }
        for r in rows
    ]
