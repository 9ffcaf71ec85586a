"""Changes in debtor to claims PSRM holds become PSRM actions (``model.actions.action_for``):
a write-down or a local payment NEDSKRIV, a write-up or a bounced local payment OPSKRIV, a
cancellation or a write-off TILBAGEKALD.

A change to a claim PSRM does not hold (returned, released, recalled already) sends nothing: PSRM
knows nothing of it to change. A recall takes what PSRM holds by our books; what PSRM collected
before the recall still comes in its settlement and is never lost (debtor keeps it as credit
when the claim has nothing left to cover).
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection

from fbs_debitor.collection.model.actions import WITH_PSRM, State, action_for
from fbs_debitor.collection.model.psrm import Aktion, FordringAktion
from fbs_debitor.collection.service.handover import SOURCE, action_row, aktion_id
from fbs_debitor.collection.store import claims as store
from fbs_debitor.contracts.collection import HandedOverClaimChanged, PsrmActionQueued
from fbs_debitor.contracts.sending import send
from fbs_debitor.core.clock import Clock

log = logging.getLogger(__name__)


def apply_change(conn: Connection, clock: Clock, change: HandedOverClaimChanged) -> str | None:
    """Queue the PSRM action for a change debtor reported; returns its aktion id (None: nothing
    to send)."""
    held = store.held_claim(conn, change.municipality, change.claim_id, lock=True)
    if held is None or held.state not in WITH_PSRM:
        log.info(
            "change %s of claim %s not sent: PSRM does not hold it",
            change.change.value,
            change.claim_id,
        )
        return None
    aktion, code, sign = action_for(change.change)
    if aktion is not Aktion.TILBAGEKALD and change.amount_ore == 0:
        return None
    now = clock.now()
    action_sequence = held.action_sequence + 1
    action = FordringAktion(
        aktion_id=aktion_id(held.municipality, held.claim_id, action_sequence),
        municipality=held.municipality,
        reference=held.claim_id,
        aktion=aktion,
        virkningsdato=change.effective_on,
        beloeb_ore=None if aktion is Aktion.TILBAGEKALD else change.amount_ore,
        aarsagskode=code,
    )
    if aktion is Aktion.TILBAGEKALD:
        _, holds, _ = store.psrm_balances_of(conn, held.municipality, held.claim_id)
        effect = -holds
    else:
        effect = sign * change.amount_ore
    store.insert_actions(conn, [action_row(action, effect, change.change.value, now)])
    values: dict[str, object] = {"action_sequence": action_sequence}
    if aktion is Aktion.TILBAGEKALD:
        values["state"] = State.RECALLED.value
    store.set_claim(conn, held.id, now, **values)
    send(
        conn,
        PsrmActionQueued(
            municipality=held.municipality,
            occurred_at=now,
            claim_id=held.claim_id,
            aktion_id=action.aktion_id,
        ),
        source=SOURCE,
        sequence=action_sequence,
    )
    return action.aktion_id
