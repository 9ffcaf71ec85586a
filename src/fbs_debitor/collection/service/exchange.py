"""The exchange with PSRM: submitting queued actions, and reading receipts and notifications.

* :func:`submit_queued` is the PSRM sender (the handler of ``PsrmActionQueued``): it submits the
  queued actions in one call and marks them sent, in the worker's transaction. When PSRM does
  not answer (``PsrmUnavailable``) it raises, the transaction rolls back and the outbox retries
  with backoff; an action already sent or decided is never sent again (a redelivery finds it no
  longer queued), and one sent twice after a crash is the same action in PSRM (its id).
* :func:`sync` reads the municipality's receipts and notifications page by page from the cursor
  it saved, applies each page in a transaction of its own with the new cursor, and skips what it
  applied before (PSRM's ids are unique keys here):

  - UDFOERT: the action is done; a create gives the claim PSRM's claim id;
  - AFVIST: the action is rejected; a rejected create returns the claim to the municipality
    (``ClaimReturned`` to debtor, the claim on the list for a person);
  - HOERING: the claim waits for Gældsstyrelsen's person;
  - AFREGNING: PSRM's settlement becomes a ``PaymentReceived`` (channel ``psrm``, the payment's
    own date) for the claim, so debtor covers it and the library sees it paid like any payment;
  - TILBAGESEND: the claim comes back (as AFVIST); AFSKRIVNING: debtor writes the amount off.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection

from fbs_debitor.collection.adapters.psrm.interface import Psrm
from fbs_debitor.collection.model.actions import WITH_PSRM, State, from_body
from fbs_debitor.collection.model.psrm import (
    Aktion,
    Kvittering,
    KvitteringStatus,
    Underretning,
    UnderretningType,
)
from fbs_debitor.collection.service.handover import SOURCE
from fbs_debitor.collection.store import claims as store
from fbs_debitor.contracts.collection import (
    PSRM_CHANNEL,
    ClaimReturned,
    ClaimWrittenOffInCollection,
)
from fbs_debitor.contracts.payment import PaymentReceived
from fbs_debitor.contracts.sending import send
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.db import Database

log = logging.getLogger(__name__)

PAGE = 500
RECEIPTS = "receipts"
NOTIFICATIONS = "notifications"
SETTLEMENT_LEG = "leg3"
"""A settlement is a payment into debtor: its delay counts on leg 3 like the other channels'."""


def submit_queued(conn: Connection, clock: Clock, psrm: Psrm, aktion_ids: Sequence[str]) -> int:
    """Submit the still-queued actions among ``aktion_ids`` (in their order); returns how many
    were sent. Raises the adapter's ``PsrmUnavailable`` to have the outbox retry."""
    rows = store.queued_actions(conn, aktion_ids)
    if not rows:
        return 0
    order = {a: i for i, a in enumerate(aktion_ids)}
    rows.sort(key=lambda r: order[r.aktion_id])
    received = set(psrm.submit([from_body(r.body) for r in rows]))
    store.mark_sent(conn, [int(r.id) for r in rows if r.aktion_id in received], clock.now())
    return len(received)


@dataclass
class SyncResult:
    """What one read of receipts and notifications applied (repeats not counted)."""

    receipts: int = 0
    done: int = 0
    rejected: int = 0
    hearings: int = 0
    notifications: int = 0
    settlements: int = 0
    settled_ore: int = 0
    returned: int = 0
    written_off_ore: int = 0

    def add(self, other: SyncResult) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sync(db: Database, clock: Clock, psrm: Psrm, municipality: str) -> SyncResult:
    """Read and apply every new receipt and notification of ``municipality``."""
    result = SyncResult()
    for feed in (RECEIPTS, NOTIFICATIONS):
        while True:
            with db.connect() as conn:
                position = store.cursor(conn, municipality, feed)
            if feed == RECEIPTS:
                page: Any = psrm.receipts(municipality, position, PAGE)
            else:
                page = psrm.notifications(municipality, position, PAGE)
            with db.begin() as conn:
                for item in page.items:
                    if feed == RECEIPTS:
                        apply_receipt(conn, clock, item, result)
                    else:
                        apply_notification(conn, clock, item, result)
                store.save_cursor(conn, municipality, feed, page.cursor, clock.now())
            if not page.more or not page.items:
                break
    return result


def apply_receipt(conn: Connection, clock: Clock, receipt: Kvittering, result: SyncResult) -> None:
    """Apply one receipt once (a repeat changes nothing)."""
    now = clock.now()
    fresh = store.insert_receipt(
        conn,
        {
            "municipality": receipt.municipality,
            "kvittering_id": receipt.kvittering_id,
            "aktion_id": receipt.aktion_id,
            "claim_id": receipt.reference,
            "status": receipt.status.value,
            "code": receipt.aarsag_kode,
            "text": receipt.aarsag_tekst,
            "decided_at": receipt.tidspunkt,
            "received_at": now,
        },
    )
    if not fresh or receipt.status is KvitteringStatus.MODTAGET:
        return
    result.receipts += 1
    action = store.action_by_id(conn, receipt.aktion_id)
    if action is None:
        log.warning("receipt %s for an action we never sent", receipt.kvittering_id)
        return
    store.decide_action(
        conn,
        int(action.id),
        receipt.status,
        receipt.tidspunkt,
        receipt.aarsag_kode,
        receipt.aarsag_tekst,
    )
    counter = {
        KvitteringStatus.UDFOERT: "done",
        KvitteringStatus.AFVIST: "rejected",
        KvitteringStatus.HOERING: "hearings",
    }[receipt.status]
    setattr(result, counter, getattr(result, counter) + 1)
    if action.aktion != Aktion.OPRETFORDRING.value:
        return  # a rejected write-down or recall waits on the action list for a person
    held = store.held_claim(conn, receipt.municipality, receipt.reference, lock=True)
    if held is None or store.latest_create(conn, held.municipality, held.claim_id) != (
        receipt.aktion_id
    ):
        return  # the answer to an earlier submission of a claim handed over again since
    if receipt.status is KvitteringStatus.UDFOERT:
        values: dict[str, Any] = {"psrm_claim_id": receipt.psrm_fordring_id}
        if held.state in WITH_PSRM:
            values["state"] = State.DONE.value
        store.set_claim(conn, held.id, now, **values)
    elif receipt.status is KvitteringStatus.HOERING:
        if held.state in WITH_PSRM:
            store.set_claim(conn, held.id, now, state=State.HEARING.value)
    elif held.state in WITH_PSRM:
        _return(conn, clock, held, receipt.aarsag_kode or "AFVIST", receipt.aarsag_tekst)


def apply_notification(
    conn: Connection, clock: Clock, note: Underretning, result: SyncResult
) -> None:
    """Apply one notification once (a repeat changes nothing)."""
    now = clock.now()
    fresh = store.insert_notification(
        conn,
        {
            "municipality": note.municipality,
            "underretning_id": note.underretning_id,
            "type": note.type.value,
            "claim_id": note.reference,
            "psrm_claim_id": note.psrm_fordring_id,
            "amount_ore": note.beloeb_ore,
            "betalingsdato": note.betalingsdato,
            "afregningsdato": note.afregningsdato,
            "text": note.tekst,
            "received_at": now,
        },
    )
    if not fresh:
        return
    result.notifications += 1
    held = store.held_claim(conn, note.municipality, note.reference, lock=True)
    if note.type is UnderretningType.AFREGNING:
        result.settlements += 1
        result.settled_ore += note.beloeb_ore
        if note.beloeb_ore > 0:
            # money is never dropped: a claim we do not know still pays into debtor (unmatched,
            # for a person), a recalled or closed one becomes the debtor's credit there
            send(
                conn,
                PaymentReceived(
                    municipality=note.municipality,
                    occurred_at=now,
                    payment_ref=f"psrm:{note.underretning_id}",
                    channel=PSRM_CHANNEL,
                    booked_on=note.betalingsdato,
                    amount_ore=note.beloeb_ore,
                    claim_ids=[note.reference] if held is not None else [],
                    payer_text=f"Afregning fra Gældsstyrelsen ({note.psrm_fordring_id})"[:140],
                ),
                source=SOURCE,
                leg=SETTLEMENT_LEG,
            )
        return
    if held is None:
        log.warning("notification %s about a claim we never handed over", note.underretning_id)
        return
    if note.type is UnderretningType.TILBAGESEND:
        if held.state in WITH_PSRM:
            result.returned += 1
            _return(conn, clock, held, "TILBAGESEND", note.tekst or "Returneret af Gældsstyrelsen")
        return
    if note.beloeb_ore > 0:  # AFSKRIVNING
        result.written_off_ore += note.beloeb_ore
        sequence = held.sequence + 1
        store.set_claim(conn, held.id, now, sequence=sequence)
        send(
            conn,
            ClaimWrittenOffInCollection(
                municipality=held.municipality,
                occurred_at=now,
                claim_id=held.claim_id,
                amount_ore=note.beloeb_ore,
                reason=(note.tekst or "Afskrevet af Gældsstyrelsen")[:500],
            ),
            source=SOURCE,
            sequence=sequence,
        )


def _return(conn: Connection, clock: Clock, held: store.HeldClaim, code: str, text: str) -> None:
    sequence = held.sequence + 1
    store.set_claim(
        conn,
        held.id,
        clock.now(),
        state=State.RETURNED.value,
        return_code=code[:40],
        return_reason=text,
        sequence=sequence,
    )
    send(
        conn,
        ClaimReturned(
            municipality=held.municipality,
            occurred_at=clock.now(),
            claim_id=held.claim_id,
            code=code[:40],
            reason=text[:500],
        ),
        source=SOURCE,
        sequence=sequence,
    )
