"""What debtor reads and counts for state collection (decision 0022): the facts of every open
claim for the hand-over run, set-based, and the small per-claim reads of the hand-over and its
reports.

:func:`load_facts` is one grouped query per municipality (claims, their accounts and invoices,
the claim's postings, one grouped subquery of the invoices' reminders and one of the delivered
letters that announced hand-over), plus the two small reads limitation needs
(``candidates.agreements_covering`` and, for the rare claim with a reversal,
``candidates.payments_standing``) and the accounts' newest payment agreements. Nothing is read
per claim.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, String, and_, case, func, select, type_coerce, update

from fbs_debitor.contracts.collection import PSRM_CHANNEL, CollectionFacts
from fbs_debitor.core.clock import business_date
from fbs_debitor.debtor.model.billing import claim_parts, limitation_date, reminder_pay_by
from fbs_debitor.debtor.model.claims import ClaimStatus, EventKind
from fbs_debitor.debtor.model.ledger import PostingKind
from fbs_debitor.debtor.store.candidates import (
    ANY_REVERSAL,
    LAST_PAID_ON,
    LIMITATION_FROM,
    acknowledged_on,
    agreements_covering,
    payments_standing,
)
from fbs_debitor.debtor.store.ledger import BALANCE_ORE
from fbs_debitor.debtor.store.tables import (
    accounts,
    claims,
    events,
    invoices,
    letters,
    payments,
    postings,
    reminders,
)

REGULATION_CHANNEL = "regulation"
"""The internal channel of credit rows a regulation or reversal made (``service.regulation``):
they share a payment's message id, so joins from a posting to its payment skip them."""
REMINDER_LETTER = "reminder"
"""``debtor_letter.kind`` of a reminder letter."""


class _Dates(dict[Any, date | None]):
    """Driver values of date columns (a date, ISO text, or None) -> date, each parsed once."""

    def __missing__(self, value: Any) -> date | None:
        parsed = (
            value
            if value is None or isinstance(value, date)
            else date.fromisoformat(str(value)[:10])
        )
        self[value] = parsed
        return parsed


def _reminded(municipality: str) -> Any:
    """Per invoice with reminders: the highest step sent and the date of the latest."""
    return (
        select(
            reminders.c.invoice_id,
            func.max(reminders.c.step_number).label("last_step"),
            func.max(reminders.c.reminder_date).label("last_on"),
        )
        .where(reminders.c.municipality == municipality)
        .group_by(reminders.c.invoice_id)
        .subquery("reminded")
    )


def _announced(municipality: str) -> Any:
    """Per invoice: when the first *delivered* letter of a reminder that announces hand-over was
    delivered (a letter still pending told the debtor nothing)."""
    return (
        select(
            letters.c.invoice_id,
            func.min(letters.c.delivered_at).label("announced_at"),
        )
        .select_from(
            letters.join(
                reminders,
                and_(
                    reminders.c.invoice_id == letters.c.invoice_id,
                    reminders.c.step_number == letters.c.reminder_number,
                ),
            )
        )
        .where(
            letters.c.municipality == municipality,
            letters.c.kind == REMINDER_LETTER,
            letters.c.status == "delivered",
            letters.c.delivered_at.is_not(None),
            reminders.c.announces_collection.is_(True),
        )
        .group_by(letters.c.invoice_id)
        .subquery("announced")
    )


def _query(municipality: str) -> Any:
    kind, amount = postings.c.kind, postings.c.amount_ore
    reminded, announced = _reminded(municipality), _announced(municipality)
    balance = func.sum(amount)
    return (
        select(
            claims.c.id,
            claims.c.claim_id,
            claims.c.account_id,
            claims.c.claim_kind,
            claims.c.legal_basis,
            claims.c.psrm_claim_type,
            claims.c.acknowledged,
            type_coerce(claims.c.created_on, String),
            claims.c.invoice_text,
            type_coerce(func.max(invoices.c.due_date), String),
            type_coerce(func.max(invoices.c.last_timely_payment_date), String),
            accounts.c.id_type,
            accounts.c.debtor_id,
            type_coerce(accounts.c.deceased_on, String),
            balance,
            func.sum(amount - postings.c.fee_part_ore),
            func.sum(case((kind == PostingKind.REMINDER_FEE.value, amount), else_=0)),
            func.sum(case((kind == PostingKind.INTEREST.value, amount), else_=0)),
            func.max(reminded.c.last_step),
            type_coerce(func.max(reminded.c.last_on), String),
            func.max(announced.c.announced_at),
            type_coerce(func.coalesce(LIMITATION_FROM, func.max(invoices.c.due_date)), String),
            type_coerce(LAST_PAID_ON, String),
            ANY_REVERSAL,
        )
        .select_from(
            claims.join(accounts, accounts.c.id == claims.c.account_id)
            .join(postings, postings.c.claim_pk == claims.c.id)
            .outerjoin(invoices, invoices.c.id == claims.c.invoice_id)
            .outerjoin(reminded, reminded.c.invoice_id == claims.c.invoice_id)
            .outerjoin(announced, announced.c.invoice_id == claims.c.invoice_id)
        )
        .where(claims.c.municipality == municipality, claims.c.status == ClaimStatus.OPEN.value)
        .group_by(claims.c.id, accounts.c.id)
        .having(balance > 0)
        .order_by(claims.c.id)
    )


@contextmanager
def _bulk_read(conn: Connection) -> Iterator[None]:
    """Hold the cyclic garbage collector while 200,000 facts are built (none is cyclic; its full
    collections would scan them over and over) and, on SQLite, give the connection a 128 MB page
    cache for the read; both restored afterwards (as the dunning run does)."""
    was_enabled = gc.isenabled()
    gc.disable()
    before = None
    if conn.dialect.name == "sqlite":
        before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        conn.exec_driver_sql("PRAGMA cache_size=-131072")
    try:
        yield
    finally:
        if before is not None:
            conn.exec_driver_sql(f"PRAGMA cache_size={int(before)}")
        if was_enabled:
            gc.enable()


def load_facts(
    conn: Connection, municipality: str, agreements: dict[int, date]
) -> list[CollectionFacts]:
    """The facts of every open claim of ``municipality`` with a positive balance, in claim order
    (module docstring: one grouped query and a few small reads). ``agreements``: account id ->
    the end of its newest payment agreement.

    The balance is split as a letter splits it (``billing.claim_parts``); the date to pay by of
    the last reminder is dunning's (``billing.reminder_pay_by``); the limitation date is the
    write-off rule's (``billing.limitation_date`` from the claim's own due date and its latest
    acknowledgement)."""
    with _bulk_read(conn):
        return _facts(conn, municipality, agreements)


def _facts(
    conn: Connection, municipality: str, agreements: dict[int, date]
) -> list[CollectionFacts]:
    dates = _Dates()
    agreed = agreements_covering(conn, municipality)
    rows = conn.execute(_query(municipality)).all()
    standing: dict[int, date] = {}
    reversed_ = [int(r[0]) for r in rows if r[-1]]
    if reversed_:  # a reversed payment acknowledges nothing: the latest that stands counts
        standing = payments_standing(conn, reversed_)
    announced: dict[datetime, date] = {}
    out: list[CollectionFacts] = []
    for (
        claim_pk,
        claim_id,
        account_id,
        claim_kind,
        legal_basis,
        psrm_claim_type,
        acknowledged,
        created_on,
        text,
        due_date,
        srb,
        id_type,
        debtor_id,
        deceased_on,
        balance_ore,
        principal_ore,
        fees_ore,
        interest_ore,
        last_step,
        last_on,
        announced_at,
        limitation_from,
        last_paid_on,
        any_reversal,
    ) in rows:
        principal, fees, interest = claim_parts(
            int(balance_ore), max(int(principal_ore), 0), int(fees_ore), int(interest_ore)
        )
        paid_on = standing.get(claim_pk) if any_reversal else dates[last_paid_on]
        since = dates[limitation_from]
        last_reminder = dates[last_on]
        told: date | None = None
        if announced_at is not None:
            told = announced.get(announced_at)
            if told is None:
                told = announced[announced_at] = business_date(announced_at)
        created = dates[created_on]
        assert created is not None
        out.append(
            CollectionFacts(
                municipality=municipality,
                claim_id=claim_id,
                claim_kind=claim_kind,
                legal_basis=legal_basis,
                psrm_claim_type=psrm_claim_type,
                acknowledged=bool(acknowledged),
                created_on=created,
                due_date=dates[due_date],
                last_timely_payment_date=dates[srb],
                principal_ore=principal,
                fees_ore=fees if fees > 0 else 0,
                interest_ore=interest if interest > 0 else 0,
                reminders_sent=int(last_step or 0),
                last_reminder_pay_by=(
                    None if last_reminder is None else reminder_pay_by(last_reminder)
                ),
                announced_on=told,
                agreement_until=agreements.get(account_id),
                limitation_date=(
                    None
                    if since is None
                    else limitation_date(since, acknowledged_on(paid_on, agreed.get(claim_pk)))
                ),
                debtor_id_type=id_type,
                debtor_id=debtor_id,
                deceased_on=dates[deceased_on],
                text=text,
            )
        )
    return out


# -- the hand-over and its reports ---------------------------------------------------------------


def next_collection_sequence(conn: Connection, claim_pk: int) -> int:
    """Count one more report to collection about the claim; returns its sequence (from 1)."""
    conn.execute(
        update(claims)
        .where(claims.c.id == claim_pk)
        .values(collection_sequence=claims.c.collection_sequence + 1)
    )
    return int(
        conn.execute(
            select(claims.c.collection_sequence).where(claims.c.id == claim_pk)
        ).scalar_one()
    )


def next_coverage_sequence(conn: Connection, claim_pk: int) -> int:
    """Count one more coverage message to the library about the claim; returns its sequence."""
    conn.execute(
        update(claims)
        .where(claims.c.id == claim_pk)
        .values(coverage_sequence=claims.c.coverage_sequence + 1)
    )
    return int(
        conn.execute(select(claims.c.coverage_sequence).where(claims.c.id == claim_pk)).scalar_one()
    )


def in_collection(conn: Connection, claim_pk: int) -> bool:
    """Whether PSRM holds the claim: its latest hand-over or return event is a hand-over that
    marked it (a claim paid while handed over is still PSRM's until collection recalls it)."""
    row = conn.execute(
        select(events.c.kind, events.c.detail)
        .where(
            events.c.claim_pk == claim_pk,
            events.c.kind.in_([EventKind.HANDED_OVER.value, EventKind.RETURNED.value]),
        )
        .order_by(events.c.id.desc())
        .limit(1)
    ).first()
    return (
        row is not None
        and row.kind == EventKind.HANDED_OVER.value
        and '"marked": "yes"' in row.detail
    )


def postings_since(conn: Connection, claim_pk: int, since: datetime) -> list[Any]:
    """The claim's postings booked at or after ``since`` as (kind, amount, effective date, the
    channel of the payment of a coverage, else None), in booking order. Usually none: the
    payments' channels are read only when there is a coverage among them."""
    rows = list(
        conn.execute(
            select(
                postings.c.kind,
                postings.c.amount_ore,
                postings.c.effective_on,
                postings.c.message_id,
                postings.c.municipality,
            )
            .where(postings.c.claim_pk == claim_pk, postings.c.booked_at >= since)
            .order_by(postings.c.id)
        )
    )
    paid = {r.message_id for r in rows if r.kind == PostingKind.COVERAGE.value and r.message_id}
    channels: dict[str, str] = {}
    if paid:
        channels = {
            message_id: channel
            for message_id, channel in conn.execute(
                select(payments.c.message_id, payments.c.channel).where(
                    payments.c.municipality == rows[0].municipality,
                    payments.c.message_id.in_(sorted(paid)),
                    payments.c.channel != REGULATION_CHANNEL,
                )
            )
        }
    return [
        (r.kind, int(r.amount_ore), r.effective_on, channels.get(r.message_id or "")) for r in rows
    ]


def last_coverage_on(conn: Connection, claim_pk: int) -> date | None:
    """The booking date of the claim's latest coverage posting (None: never covered)."""
    found: date | None = conn.execute(
        select(func.max(postings.c.effective_on)).where(
            postings.c.claim_pk == claim_pk, postings.c.kind == PostingKind.COVERAGE.value
        )
    ).scalar()
    return found


def handed_over_balances(conn: Connection, municipality: str) -> dict[str, tuple[int, int]]:
    """Claim id -> (balance now, total covered by PSRM's settlements), for every claim of the
    municipality that is or was handed over (it has a ``handed_over`` event). Two queries."""
    handed = (
        select(events.c.claim_pk)
        .where(
            events.c.municipality == municipality,
            events.c.kind == EventKind.HANDED_OVER.value,
        )
        .distinct()
        .subquery("handed")
    )
    balances = {
        int(pk): (cid, int(total))
        for pk, cid, total in conn.execute(
            select(claims.c.id, claims.c.claim_id, BALANCE_ORE)
            .select_from(
                claims.join(handed, handed.c.claim_pk == claims.c.id).outerjoin(
                    postings, postings.c.claim_pk == claims.c.id
                )
            )
            .group_by(claims.c.id, claims.c.claim_id)
        )
    }
    # PSRM's coverage: the coverage postings of payments on channel psrm, less their reversals
    reversal = postings.alias("reversal")
    psrm: dict[int, int] = {}
    for pk, total in conn.execute(
        select(postings.c.claim_pk, func.sum(postings.c.amount_ore))
        .select_from(
            postings.join(handed, handed.c.claim_pk == postings.c.claim_pk).join(
                payments,
                and_(
                    payments.c.message_id == postings.c.message_id,
                    payments.c.municipality == postings.c.municipality,
                ),
            )
        )
        .where(
            postings.c.kind == PostingKind.COVERAGE.value,
            payments.c.channel == PSRM_CHANNEL,
            ~select(reversal.c.id).where(reversal.c.reverses == postings.c.id).exists(),
        )
        .group_by(postings.c.claim_pk)
    ):
        psrm[int(pk)] = -int(total)
    return {cid: (balance, psrm.get(pk, 0)) for pk, (cid, balance) in balances.items()}
