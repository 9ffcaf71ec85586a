"""Debtor's reports to the collection context about claims PSRM holds (decision 0022).

A claim in ``handed_over`` that changes in debtor is reported at once with
``collection.HandedOverClaimChanged``, ordered per claim on ``collection-report:<m>:<claim>``
with the claim's own counter (``debtor_claim.collection_sequence``): the library's write-down,
write-up or cancellation, a payment that reached the municipality instead of PSRM (any channel
but ``psrm``), the reversal of such a payment, and a write-off by staff. Collection turns each
into NEDSKRIV, OPSKRIV or TILBAGEKALD. PSRM's own settlements (channel ``psrm``) and PSRM's own
write-offs are never reported back.

The hand-over itself, the return and PSRM's write-off (collection -> debtor) are in
:mod:`~fbs_debitor.debtor.service.handover`.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from fbs_debitor.contracts.collection import Change, HandedOverClaimChanged
from fbs_debitor.contracts.sending import send
from fbs_debitor.core.clock import Clock
from fbs_debitor.debtor.store.collection import next_collection_sequence

SOURCE = "debtor"


def changed_message(
    clock: Clock,
    *,
    municipality: str,
    claim_id: str,
    change: Change,
    amount_ore: int,
    effective_on: date,
    remaining_ore: int,
    reason: str = "",
) -> HandedOverClaimChanged:
    """The report of one change of a claim PSRM holds (amounts in øre, ``amount_ore`` >= 0)."""
    return HandedOverClaimChanged(
        municipality=municipality,
        occurred_at=clock.now(),
        claim_id=claim_id,
        change=change,
        amount_ore=abs(amount_ore),
        effective_on=effective_on,
        remaining_ore=max(remaining_ore, 0),
        reason=reason[:500],
    )


def report_change(
    conn: Connection,
    clock: Clock,
    claim_pk: int,
    *,
    municipality: str,
    claim_id: str,
    change: Change,
    amount_ore: int,
    effective_on: date,
    remaining_ore: int,
    reason: str = "",
) -> str:
    """Send one report with the claim's next collection sequence; returns the message id."""
    message = changed_message(
        clock,
        municipality=municipality,
        claim_id=claim_id,
        change=change,
        amount_ore=amount_ore,
        effective_on=effective_on,
        remaining_ore=remaining_ore,
        reason=reason,
    )
    return send(conn, message, source=SOURCE, sequence=next_collection_sequence(conn, claim_pk))
