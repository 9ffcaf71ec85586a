"""What debtor does when the collection context hands a claim over to PSRM, gets it back, or
hears that PSRM wrote it off (decision 0022). One call per message, in the caller's transaction;
the three messages arrive ordered per claim (``collection:<m>:<claim>``).

* :func:`hand_over` (``ClaimHandedOver``): an open claim that owes something becomes
  ``handed_over`` (event ``handed_over``): no more reminders, interest or write-off by rule, and
  the library hears ``ClaimCollectionChanged(in_collection=True)``. If the claim changed between
  the hand-over run and this message, the difference goes back at once as one
  ``HandedOverClaimChanged``. A claim that is no longer open, or owes nothing, is not marked: the
  whole amount handed over is reported back (paid: ``covered``; cancelled: ``cancelled``;
  written off: ``written_off``; held for a guardian: ``cancelled``), so collection recalls it.
* :func:`take_back` (``ClaimReturned``): a handed-over claim is ``open`` again (event
  ``returned`` with PSRM's code and reason) and the library hears
  ``ClaimCollectionChanged(in_collection=False)``. Its reminder steps are done, so it is not
  reminded again; staff may write it off by hand.
* :func:`write_off_in_collection` (``ClaimWrittenOffInCollection``): a write-off of that
  amount (rule ``collection``) with the usual ``ClaimWrittenOff`` / ``ClaimClosed`` to the
  library; never reported back.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from sqlalchemy import Connection, select, update

from fbs_debitor.contracts.collection import (
    PSRM_CHANNEL,
    Change,
    ClaimHandedOver,
    ClaimReturned,
    ClaimWrittenOffInCollection,
)
from fbs_debitor.contracts.coverage import ClaimCollectionChanged
from fbs_debitor.contracts.sending import send
from fbs_debitor.core.clock import Clock, business_date
from fbs_debitor.debtor.model.billing import WriteOffRule
from fbs_debitor.debtor.model.claims import ClaimStatus, EventKind
from fbs_debitor.debtor.model.ledger import PostingKind
from fbs_debitor.debtor.service.collection import report_change
from fbs_debitor.debtor.service.writeoff import WriteOff, apply_write_offs
from fbs_debitor.debtor.store import ledger
from fbs_debitor.debtor.store.collection import (
    in_collection,
    next_coverage_sequence,
    postings_since,
)
from fbs_debitor.debtor.store.ledger import BALANCE_ORE, PRINCIPAL_ORE, with_postings
from fbs_debitor.debtor.store.tables import claims

log = logging.getLogger(__name__)

SOURCE = "debtor"
PSRM = "psrm"
"""Who made a write-off that PSRM made (``debtor_write_off.by``)."""

_LOWERING = {
    PostingKind.COVERAGE.value: Change.COVERED,
    PostingKind.WRITE_DOWN.value: Change.WRITTEN_DOWN,
    PostingKind.CANCELLATION.value: Change.CANCELLED,
    PostingKind.WRITE_OFF.value: Change.WRITTEN_OFF,
}
_RAISING = {
    PostingKind.WRITE_UP.value: Change.WRITTEN_UP,
    PostingKind.REVERSAL.value: Change.COVERAGE_REVERSED,
}
_NOT_OPEN = {
    ClaimStatus.PAID: Change.COVERED,
    ClaimStatus.CANCELLED: Change.CANCELLED,
    ClaimStatus.WRITTEN_OFF: Change.WRITTEN_OFF,
    ClaimStatus.HELD: Change.CANCELLED,
}
"""The report that recalls a claim that was no longer open when the hand-over arrived."""


def _event(
    conn: Connection,
    clock: Clock,
    municipality: str,
    claim_pk: int,
    kind: EventKind,
    message_id: str,
    detail: dict[str, str],
) -> None:
    ledger.insert_event(
        conn,
        {
            "municipality": municipality,
            "claim_pk": claim_pk,
            "kind": kind.value,
            "at": clock.now(),
            "message_id": message_id,
            "detail": detail,
        },
    )


def _tell_library(
    conn: Connection,
    clock: Clock,
    municipality: str,
    claim_id: str,
    claim_pk: int,
    *,
    on: bool,
    reason: str = "",
) -> None:
    send(
        conn,
        ClaimCollectionChanged(
            municipality=municipality,
            occurred_at=clock.now(),
            claim_id=claim_id,
            in_collection=on,
            reason=reason,
        ),
        source=SOURCE,
        sequence=next_coverage_sequence(conn, claim_pk),
        leg="leg4",
    )


def _what_changed(rows: list[Any], lowered: bool, default: Change) -> tuple[Change, date | None]:
    """The kind of change of the latest posting since the run that moved the balance the way it
    went (a payment by PSRM itself is none of debtor's changes), and its business date."""
    kinds = _LOWERING if lowered else _RAISING
    for kind, _, effective_on, channel in reversed(rows):
        if kind in kinds and not (kind == PostingKind.COVERAGE.value and channel == PSRM_CHANNEL):
            return kinds[kind], effective_on
        if kind == PostingKind.TO_CREDIT.value and lowered:  # a write-down below what was paid
            return Change.WRITTEN_DOWN, effective_on
    return default, None


def hand_over(conn: Connection, clock: Clock, msg: ClaimHandedOver, message_id: str) -> None:
    """Apply ``ClaimHandedOver`` (module docstring)."""
    state = ledger.claim_state(conn, msg.municipality, msg.claim_id)
    if state is None:
        log.warning("hand-over of unknown claim %s of %s", msg.claim_id, msg.municipality)
        return
    status, pk = ClaimStatus(state.status), int(state.id)
    if status is ClaimStatus.HANDED_OVER:
        return  # handed over already (PSRM holds it)
    handed = msg.principal_ore + msg.fees_ore + msg.interest_ore
    balance = int(state.balance_ore)
    marked = status is ClaimStatus.OPEN and balance > 0
    detail = {
        "handed_over_on": msg.handed_over_on.isoformat(),
        "psrm_claim_type": msg.psrm_claim_type,
        "principal_ore": str(msg.principal_ore),
        "fees_ore": str(msg.fees_ore),
        "interest_ore": str(msg.interest_ore),
        "marked": "yes" if marked else "no",
    }
    _event(conn, clock, msg.municipality, pk, EventKind.HANDED_OVER, message_id, detail)
    since = postings_since(conn, pk, msg.occurred_at)
    if marked:
        conn.execute(
            update(claims).where(claims.c.id == pk).values(status=ClaimStatus.HANDED_OVER.value)
        )
        _tell_library(conn, clock, msg.municipality, msg.claim_id, pk, on=True)
        if balance == handed:
            return
        lowered = balance < handed
        default = Change.WRITTEN_DOWN if lowered else Change.WRITTEN_UP
        change, on = _what_changed(since, lowered, default)
        reason = "ændret i debitor efter overdragelseskørslen"
    else:
        change, on = _what_changed(since, True, _NOT_OPEN.get(status, Change.CANCELLED))
        if status in (ClaimStatus.CANCELLED, ClaimStatus.WRITTEN_OFF, ClaimStatus.HELD):
            change = _NOT_OPEN[status]
        balance = 0  # nothing of it is PSRM's: collection recalls it
        reason = f"fordringen er {status.value} i debitor: tilbagekaldes"
    report_change(
        conn,
        clock,
        pk,
        municipality=msg.municipality,
        claim_id=msg.claim_id,
        change=change,
        amount_ore=balance - handed,
        effective_on=on or clock.today(),
        remaining_ore=balance,
        reason=reason,
    )


def take_back(conn: Connection, clock: Clock, msg: ClaimReturned, message_id: str) -> None:
    """Apply ``ClaimReturned`` (module docstring)."""
    state = ledger.claim_state(conn, msg.municipality, msg.claim_id)
    if state is None:
        log.warning("return of unknown claim %s of %s", msg.claim_id, msg.municipality)
        return
    pk = int(state.id)
    was_in = in_collection(conn, pk)
    detail = {"code": msg.code, "reason": msg.reason}
    _event(conn, clock, msg.municipality, pk, EventKind.RETURNED, message_id, detail)
    if state.status == ClaimStatus.HANDED_OVER.value:
        conn.execute(update(claims).where(claims.c.id == pk).values(status=ClaimStatus.OPEN.value))
    if was_in:
        reason = f"{msg.code}: {msg.reason}" if msg.reason else msg.code
        _tell_library(conn, clock, msg.municipality, msg.claim_id, pk, on=False, reason=reason)


def write_off_in_collection(
    conn: Connection, clock: Clock, msg: ClaimWrittenOffInCollection, message_id: str
) -> None:
    """Apply ``ClaimWrittenOffInCollection`` (module docstring): at most what the claim owes
    (PSRM may know less of a payment made here since)."""
    row = conn.execute(
        select(claims.c.id, claims.c.status, claims.c.coverage_sequence, BALANCE_ORE, PRINCIPAL_ORE)
        .select_from(with_postings())
        .where(claims.c.municipality == msg.municipality, claims.c.claim_id == msg.claim_id)
        .group_by(claims.c.id)
    ).first()
    takes = (ClaimStatus.HANDED_OVER.value, ClaimStatus.OPEN.value)
    if row is None or row.status not in takes or int(row[3]) <= 0:
        log.warning(
            "PSRM's write-off of %s of %s: the claim owes nothing in debtor (%s)",
            msg.claim_id,
            msg.municipality,
            "unknown" if row is None else row.status,
        )
        return
    pk, status, coverage_sequence, balance, principal = row
    item = WriteOff(
        claim_pk=int(pk),
        claim_id=msg.claim_id,
        municipality=msg.municipality,
        amount_ore=min(msg.amount_ore, int(balance)),
        balance_ore=int(balance),
        principal_ore=int(principal),
        coverage_sequence=int(coverage_sequence),
        rule=WriteOffRule.COLLECTION,
        reason=f"Afskrevet under inddrivelse (Gældsstyrelsen): {msg.reason}",
        by=PSRM,
        status_left=ClaimStatus(status),
    )
    apply_write_offs(conn, clock, business_date(msg.occurred_at), [item])
