"""Write-downs and cancellations from the library, also of claims already (partly) paid: the
part of the payments a claim no longer needs becomes credit on the debtor account, never kept
and never refused (:mod:`~fbs_debitor.debtor.model.regulation`, decision 0016).

The credit is recorded as a row of ``debtor_payment`` on the internal channel ``regulation``
(``payment_ref`` ``regulation:<message id>``), so the account's credit (``service.credit``:
the credit of its payments, less what credit paid and what was refunded) counts it like an
overpayment: it pays the account's next claim or is refunded by staff.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert

from fbs_debitor.contracts.registration import ClaimMessage
from fbs_debitor.core.clock import Clock, business_date
from fbs_debitor.core.ids import mask_cprs_in_text
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.model.ledger import Posting
from fbs_debitor.debtor.model.regulation import RegulationPlan
from fbs_debitor.debtor.store.ledger import append_postings
from fbs_debitor.debtor.store.tables import payments

REGULATION_CHANNEL = "regulation"
"""The channel of credit that a regulation made of what was paid (inside debtor)."""


def apply_plan(
    conn: Connection,
    clock: Clock,
    msg: ClaimMessage,
    state: Any,
    plan: RegulationPlan,
    message_id: str,
    note: str,
) -> None:
    """Book the plan's postings on the claim (``state``: its ``claim_state`` row) and record
    the credit it makes on the claim's account."""
    on, now = business_date(msg.occurred_at), clock.now()
    append_postings(
        conn,
        [
            Posting(
                kind=kind,
                amount=Money(ore=ore),
                effective_on=on,
                booked_at=now,
                message_id=message_id,
                note=mask_cprs_in_text(note),
                claim_pk=int(state.id),
                municipality=msg.municipality,
                fee_part=Money(ore=fee_part),
            )
            for kind, ore, fee_part in plan.postings
        ],
    )
    if plan.to_credit:
        record_credit(
            conn,
            municipality=msg.municipality,
            payment_ref=f"{REGULATION_CHANNEL}:{message_id}",
            account_id=int(state.account_id),
            on=on,
            amount_ore=plan.to_credit,
            reason=(
                f"paid {Money(ore=plan.to_credit)} more than claim {msg.claim_id} owes after "
                f"the library's {msg.MESSAGE_TYPE.split('.')[1]}: kept as credit"
            ),
            message_id=message_id,
            at=now,
        )


def record_credit(
    conn: Connection,
    *,
    municipality: str,
    payment_ref: str,
    account_id: int,
    on: date,
    amount_ore: int,
    reason: str,
    message_id: str,
    at: datetime,
) -> None:
    """The one writer of a ``regulation`` credit row on the account: ``amount_ore`` more credit
    (negative: credit taken back, e.g. a returned payment whose claim was cancelled since)."""
    conn.execute(
        insert(payments).values(
            municipality=municipality,
            payment_ref=payment_ref,
            channel=REGULATION_CHANNEL,
            booked_on=on,
            amount_ore=amount_ore,
            payment_id=None,
            account_id=account_id,
            outcome="partly_matched",
            covered_ore=0,
            credit_ore=amount_ore,
            reason=reason,
            message_id=message_id,
            received_at=at,
            reversed=False,
        )
    )
