"""Write-off (afskrivning): by rule (below the minimum after the last reminder, limitation three
years after the due date, deceased debtors) and by hand (staff, with reason and name).

Each write-off is a ``write_off`` posting (negative), a ``debtor_write_off`` row saying why and
by whom, and ``coverage.ClaimWrittenOff`` to the library (ordered per claim with the claim's own
coverage sequence, ``debtor_claim.coverage_sequence``, from 1). When the balance reaches zero
the claim ends ``written_off`` and ``coverage.ClaimClosed`` (outcome ``written_off``) follows
with the next sequence. They go through the outbox like every contract; the library applies them
to its fee (leg 4), lowering it by the amount and stopping at zero, which is why a write-off
settles the principal first (``ledger.principal_balances``).

The amount written off is the claim's balance in debtor, reminder fees and interest included;
``remaining_ore`` is what is left in debtor afterwards.

:func:`apply_write_offs` writes many at once (one statement per table); the dunning run and
:func:`run_write_offs` (in ``dunning``) decide which claims, :func:`write_off_by_hand` takes one
from staff.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from fbs_debitor.contracts.collection import Change
from fbs_debitor.contracts.coverage import ClaimClosed, ClaimWrittenOff
from fbs_debitor.contracts.sending import Outgoing, send_many
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.errors import ConflictError, NotFoundError, ValidationError
from fbs_debitor.core.ids import mask_cprs_in_text
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.model.allocation import Component
from fbs_debitor.debtor.model.billing import WriteOffRule, limitation_date
from fbs_debitor.debtor.model.claims import ClaimStatus
from fbs_debitor.debtor.model.ledger import Posting, PostingKind, fee_part_principal_first
from fbs_debitor.debtor.service.collection import report_change
from fbs_debitor.debtor.store.ledger import (
    BALANCE_ORE,
    PRINCIPAL_ORE,
    append_postings,
    with_postings,
)
from fbs_debitor.debtor.store.rules import lock_billing
from fbs_debitor.debtor.store.tables import accounts, claims, write_offs

SOURCE = "debtor"
LEG = "leg4"
SYSTEM = "system"
"""Who made a write-off by rule."""


@dataclass(frozen=True, slots=True)
class WriteOff:
    """One write-off to make.

    claim_pk / claim_id:  the claim's database id / the library's id.
    municipality:         the kommunekode.
    amount_ore:           how much to write off (> 0, at most the balance; with a
                          ``component``, at most what is left of that component).
    balance_ore:          the claim's balance before it.
    principal_ore:        what was left of the claim's principal before it (the rest of the
                          balance is debtor's fees and interest).
    coverage_sequence:    the last coverage sequence sent for the claim.
    rule / reason / by:   why, in words, and who (``system`` for a rule).
    component:            None: the principal first, then fees and interest (a claim written
                          off); FEES: only debtor's reminder fees and interest (a fee waived, the
                          library's amount untouched); PRINCIPAL: only the principal.
    """

    claim_pk: int
    claim_id: str
    municipality: str
    amount_ore: int
    balance_ore: int
    principal_ore: int
    coverage_sequence: int
    rule: WriteOffRule
    reason: str
    by: str = SYSTEM
    component: Component | None = None
    status_left: ClaimStatus = ClaimStatus.OPEN
    """The claim's status when something is left: ``open``, or ``handed_over`` for a claim PSRM
    holds (written off by PSRM or by staff, decision 0022)."""

    @property
    def remaining_ore(self) -> int:
        return self.balance_ore - self.amount_ore

    @property
    def fee_part_ore(self) -> int:
        """The fee part of the write-off posting (negative or 0)."""
        if self.component is Component.FEES:
            return -self.amount_ore
        if self.component is Component.PRINCIPAL:
            return 0
        return fee_part_principal_first(
            self.principal_ore, self.balance_ore - self.principal_ore, -self.amount_ore
        )

    @property
    def principal_part_ore(self) -> int:
        """How much of the library's principal it writes off (what the library hears of)."""
        return self.amount_ore + self.fee_part_ore


def reason_for(
    rule: WriteOffRule,
    *,
    due_date: date | None = None,
    acknowledged_on: date | None = None,
    below_ore: int = 0,
) -> str:
    """The reason text of a write-off by rule (Danish, as the library shows it). Limitation names
    the law, the day the claim lapsed, its own due date and the debtor's latest acknowledgement
    (``billing.limitation_date``)."""
    match rule:
        case WriteOffRule.LIMITATION:
            if due_date is None:
                return "Forældet efter forældelsesloven § 3"
            lapsed = limitation_date(due_date, acknowledged_on).isoformat()
            since = f"forfald {due_date.isoformat()}"
            if acknowledged_on is not None and acknowledged_on > due_date:
                since += f", afbrudt ved erkendelse {acknowledged_on.isoformat()} (§ 14)"
            return f"Forældet {lapsed} efter forældelsesloven § 3 ({since})"
        case WriteOffRule.BELOW_MINIMUM:
            return f"Restbeløb under {Money(ore=below_ore)} efter sidste rykker"
        case WriteOffRule.DECEASED:
            return "Debitor er død"
        case _:
            return "Afskrevet"


_MARK_CLAIM = (
    update(claims)
    .where(claims.c.id == bindparam("claim_pk"))
    .values(status=bindparam("new_status"), coverage_sequence=bindparam("sequence"))
)


def apply_write_offs(
    conn: Connection, clock: Clock, on: date, items: Sequence[WriteOff]
) -> list[str]:
    """Make the write-offs: postings, reasons, claim states and messages, one statement per
    table; returns the ids of the messages sent (ClaimWrittenOff, ClaimClosed) in order."""
    if not items:
        return []
    now = clock.now()
    append_postings(
        conn,
        [
            Posting(
                kind=PostingKind.WRITE_OFF,
                amount=Money(ore=-w.amount_ore),
                effective_on=on,
                booked_at=now,
                note=w.reason,
                claim_pk=w.claim_pk,
                municipality=w.municipality,
                fee_part=Money(ore=w.fee_part_ore),
            )
            for w in items
        ],
    )
    conn.execute(
        write_offs.insert(),
        [
            {
                "municipality": w.municipality,
                "claim_pk": w.claim_pk,
                "amount_ore": w.amount_ore,
                "rule": w.rule.value,
                "reason": w.reason,
                "by": w.by,
                "component": None if w.component is None else w.component.value,
                "effective_on": on,
                "at": now,
            }
            for w in items
        ],
    )
    messages: list[Outgoing] = []
    marks: list[dict[str, Any]] = []
    for w in items:
        sequence = w.coverage_sequence
        if w.principal_part_ore > 0:  # the library hears of its own amount, not of our fees
            sequence += 1
            messages.append(
                Outgoing(
                    ClaimWrittenOff(
                        municipality=w.municipality,
                        occurred_at=now,
                        claim_id=w.claim_id,
                        amount_ore=w.principal_part_ore,
                        reason=w.reason,
                        remaining_ore=w.remaining_ore,
                    ),
                    sequence,
                )
            )
        closed = w.remaining_ore == 0
        if closed:
            sequence += 1
            messages.append(
                Outgoing(
                    ClaimClosed(
                        municipality=w.municipality,
                        occurred_at=now,
                        claim_id=w.claim_id,
                        outcome=ClaimStatus.WRITTEN_OFF.value,
                    ),
                    sequence,
                )
            )
        marks.append(
            {
                "claim_pk": w.claim_pk,
                "new_status": (ClaimStatus.WRITTEN_OFF if closed else w.status_left).value,
                "sequence": sequence,
            }
        )
    conn.execute(_MARK_CLAIM, marks)
    return send_many(conn, messages, source=SOURCE, leg=LEG)


def deceased_write_offs(conn: Connection, municipality: str) -> list[WriteOff]:
    """Write-offs for every open claim with a positive balance of a deceased debtor (invoiced
    or not). One query."""
    balance = BALANCE_ORE
    rows = conn.execute(
        select(claims.c.id, claims.c.claim_id, claims.c.coverage_sequence, balance, PRINCIPAL_ORE)
        .select_from(with_postings(claims.join(accounts, accounts.c.id == claims.c.account_id)))
        .where(
            claims.c.municipality == municipality,
            claims.c.status == ClaimStatus.OPEN.value,
            accounts.c.deceased_on.is_not(None),
        )
        .group_by(claims.c.id)
        .having(balance > 0)
        .order_by(claims.c.id)
    )
    reason = reason_for(WriteOffRule.DECEASED)
    return [
        WriteOff(
            claim_pk=int(pk),
            claim_id=cid,
            municipality=municipality,
            amount_ore=int(total),
            balance_ore=int(total),
            principal_ore=int(principal),
            coverage_sequence=int(seq),
            rule=WriteOffRule.DECEASED,
            reason=reason,
        )
        for pk, cid, seq, total, principal in rows
    ]


def write_off_by_hand(
    conn: Connection,
    clock: Clock,
    municipality: str,
    claim_id: str,
    *,
    amount: Money | None,
    reason: str,
    by: str,
    component: Component | None = None,
) -> dict[str, Any]:
    """Staff write off (part of) an open claim, or one handed over to collection (then the
    write-off is reported to collection, ``written_off``, decision 0022): ``amount`` (None: all
    that is left of it, or of the ``component``), with the reason and who did it (both required,
    stored; CPR numbers in the reason masked).

    ``component`` None writes off the claim, the principal first; ``Component.FEES`` waives only
    debtor's reminder fees and interest (the library's amount is untouched and the library hears
    nothing); ``Component.PRINCIPAL`` only the library's amount, leaving the fees owed.

    Raises NotFoundError for an unknown claim, ConflictError for a claim that is not open or
    has nothing left (of the component), ValidationError for an amount that is not 1 øre to what
    is left."""
    reason, by = mask_cprs_in_text(reason.strip()), by.strip()
    if not reason:
        raise ValidationError("a write-off needs a reason", code="write-off-reason")
    if not by or len(by) > 100:
        raise ValidationError(
            "a write-off needs the name of who makes it (1 to 100 characters)",
            code="write-off-by",
        )
    lock_billing(conn, municipality)
    row = conn.execute(
        select(
            claims.c.id,
            claims.c.status,
            claims.c.coverage_sequence,
            BALANCE_ORE,
            PRINCIPAL_ORE,
        )
        .select_from(with_postings())
        .where(claims.c.municipality == municipality, claims.c.claim_id == claim_id)
        .group_by(claims.c.id)
    ).first()
    if row is None:
        raise NotFoundError(f"unknown claim {claim_id}", code="unknown-claim")
    pk, status, coverage_sequence, total, principal_total = row
    balance = Money(ore=int(total))
    principal = Money(ore=int(principal_total))
    if status not in (ClaimStatus.OPEN.value, ClaimStatus.HANDED_OVER.value):
        raise ConflictError(
            f"claim {claim_id} is {status}; only an open or handed-over claim can be written off",
            code="claim-not-open",
        )
    left = {
        None: balance,
        Component.FEES: balance - principal,
        Component.PRINCIPAL: principal,
    }[component]
    what = {None: "", Component.FEES: " in fees and interest", Component.PRINCIPAL: " principal"}
    if not left.is_positive() or not balance.is_positive():
        raise ConflictError(
            f"claim {claim_id} has nothing{what[component]} left to write off", code="claim-paid"
        )
    amount = left if amount is None else amount
    if not amount.is_positive() or amount > left:
        raise ValidationError(
            f"the write-off must be between 0,01 kr. and the {left}{what[component]} left, "
            f"got {amount}",
            code="write-off-amount",
        )
    item = WriteOff(
        claim_pk=int(pk),
        claim_id=claim_id,
        municipality=municipality,
        amount_ore=amount.ore,
        balance_ore=balance.ore,
        principal_ore=principal.ore,
        coverage_sequence=int(coverage_sequence),
        rule=WriteOffRule.MANUAL,
        reason=reason,
        by=by,
        component=component,
        status_left=ClaimStatus(status),
    )
    message_ids = apply_write_offs(conn, clock, clock.today(), [item])
    if status == ClaimStatus.HANDED_OVER.value:  # PSRM holds it: collection recalls it
        message_ids.append(
            report_change(
                conn,
                clock,
                int(pk),
                municipality=municipality,
                claim_id=claim_id,
                change=Change.WRITTEN_OFF,
                amount_ore=item.amount_ore,
                effective_on=clock.today(),
                remaining_ore=item.remaining_ore,
                reason=reason,
            )
        )
    return {
        "claim_id": claim_id,
        "written_off_ore": item.amount_ore,
        "component": None if component is None else component.value,
        "principal_written_off_ore": item.principal_part_ore,
        "fees_written_off_ore": -item.fee_part_ore,
        "remaining_ore": item.remaining_ore,
        "status": (ClaimStatus.WRITTEN_OFF if item.remaining_ore == 0 else item.status_left).value,
        "reason": reason,
        "by": by,
        "messages": message_ids,
    }
