"""What the dunning run and the write-off rules look at, read set-based: ONE query per
municipality loads every open claim with a positive balance on an invoice past its last timely
payment date, with the invoice, the debtor, the claim's balance components from its postings
and the invoice's reminders so far (one grouped subquery of ``debtor_reminder`` per invoice:
the last step and its date, and the fee-bearing letters and the date of the latest, which the
civil guard counts per letter). Decisions are then made in Python (``billing``); nothing is
read per claim.

Two small reads go with it: the accounts under a payment agreement and the deceased accounts
(few rows each). Limitation (decision 0015) adds two more, made inside :func:`load_candidates`:
the payment agreements that acknowledged a claim (:func:`agreements_covering`) and, for the rare
claim with a reversed posting, its latest payment that stands (:func:`payments_standing`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Connection, String, and_, case, exists, func, select, type_coerce

from fbs_debitor.contracts.registration import LegalBasis
from fbs_debitor.core.clock import business_date
from fbs_debitor.debtor.model.claims import ClaimStatus, EventKind
from fbs_debitor.debtor.model.ledger import PostingKind
from fbs_debitor.debtor.store.tables import (
    accounts,
    claims,
    events,
    invoices,
    payment_agreements,
    postings,
    reminders,
    write_offs,
)

_BASIS = {b.value: b for b in LegalBasis}


class Candidate(NamedTuple):
    """One open claim with a positive balance on an invoice whose SRB has passed (a named
    tuple: the run makes hundreds of thousands).

    claim_pk / claim_id:   the claim's database id / the library's id.
    claim_kind / basis:    the sortiment kind and its legal basis (public or civil).
    text / materials:      the invoice text and the materials (JSON text) for letters.
    coverage_sequence:     the last coverage-message sequence sent for the claim.
    balance_ore:           the sum of its postings (> 0).
    principal_ore:         what is left of the principal: charge and regulations less what
                           payments, write-offs and cancellations took of it (each posting's
                           fee part says); interest runs on this only (gebyrloven § 3).
    interest_ore:          interest posted so far.
    fee_reminders:         reminder fee postings on this claim so far (the letters that charged
                           their fee on it; the civil guard counts the invoice's fee-bearing
                           letters, ``InvoiceCandidates.fee_letters``, and this for a claim that
                           came from another invoice).
    last_fee_on:           the date of the latest reminder fee posting, if any.
    limitation_from:       the claim's own due date, limitation runs from it (the library's,
                           else its first invoice's: :data:`LIMITATION_FROM`).
    acknowledged_on:       the debtor's latest acknowledgement of the claim (a part payment
                           that stands, a payment agreement covering it), if any
                           (:func:`acknowledged_on`).
    fees_ore:              reminder fees posted so far (with ``interest_ore`` and what is left
                           of debtor's own part, ``balance_ore - principal_ore``, a letter
                           splits what is left into fees and interest: ``billing.claim_parts``).
    """

    claim_pk: int
    claim_id: str
    claim_kind: str
    basis: LegalBasis
    text: str
    materials: str
    coverage_sequence: int
    balance_ore: int
    principal_ore: int
    interest_ore: int
    fee_reminders: int
    last_fee_on: date | None
    limitation_from: date
    acknowledged_on: date | None
    fees_ore: int


@dataclass(frozen=True, slots=True)
class InvoiceCandidates:
    """An invoice past its SRB with its open claims.

    reminders_sent:    the highest reminder step it has had (0: none).
    last_reminder_on:  the date of its latest reminder, if any.
    fee_letters:       its reminders with a fee (each a fee-bearing reminder of every claim on
                       it, renteloven § 9 b).
    last_fee_letter_on: the date of the latest of those, if any.
    """

    invoice_id: int
    account_id: int
    id_type: str
    debtor_id: str
    payment_id: str
    creditor_number: str
    due_date: date
    srb: date
    reminders_sent: int
    last_reminder_on: date | None
    fee_letters: int
    last_fee_letter_on: date | None
    claims: list[Candidate]


def _reminders_so_far(municipality: str) -> Any:
    """Per invoice of the municipality with reminders: the last step, its date, the number of
    fee-bearing reminders and the date of the latest (one grouped pass over its reminders)."""
    with_fee = reminders.c.fee_total_ore > 0
    return (
        select(
            reminders.c.invoice_id,
            func.max(reminders.c.step_number).label("last_step"),
            func.max(reminders.c.reminder_date).label("last_on"),
            func.sum(case((with_fee, 1), else_=0)).label("fee_letters"),
            func.max(case((with_fee, reminders.c.reminder_date), else_=None)).label("last_fee_on"),
        )
        .where(reminders.c.municipality == municipality)
        .group_by(reminders.c.invoice_id)
        .subquery("reminded")
    )


def _query(municipality: str, on: date) -> Any:
    kind, amount = postings.c.kind, postings.c.amount_ore
    fee = PostingKind.REMINDER_FEE.value
    reminded = _reminders_so_far(municipality)
    balance = func.sum(amount)
    return (
        select(
            invoices.c.id,
            invoices.c.account_id,
            accounts.c.id_type,
            accounts.c.debtor_id,
            invoices.c.payment_id,
            invoices.c.creditor_number,
            # dates as the driver gives them (ISO text on SQLite); ``_Dates`` reads them, once
            # per distinct value, instead of a parse per row
            type_coerce(invoices.c.due_date, String),
            type_coerce(invoices.c.last_timely_payment_date, String),
            # one value per invoice (max over the claim's posting rows: PostgreSQL asks for an
            # aggregate or a GROUP BY column)
            func.max(reminded.c.last_step),
            type_coerce(func.max(reminded.c.last_on), String),
            func.max(reminded.c.fee_letters),
            type_coerce(func.max(reminded.c.last_fee_on), String),
            claims.c.id,
            claims.c.claim_id,
            claims.c.claim_kind,
            claims.c.legal_basis,
            claims.c.invoice_text,
            claims.c.materials,
            claims.c.coverage_sequence,
            balance,
            func.sum(amount - postings.c.fee_part_ore),
            func.sum(case((kind == PostingKind.INTEREST.value, amount), else_=0)),
            func.sum(case((kind == fee, 1), else_=0)),
            type_coerce(func.max(case((kind == fee, postings.c.effective_on), else_=None)), String),
            type_coerce(LIMITATION_FROM, String),
            type_coerce(LAST_PAID_ON, String),
            ANY_REVERSAL,
            func.sum(case((kind == fee, amount), else_=0)),
        )
        .select_from(
            claims.join(invoices, invoices.c.id == claims.c.invoice_id)
            .join(accounts, accounts.c.id == invoices.c.account_id)
            .join(postings, postings.c.claim_pk == claims.c.id)
            .outerjoin(reminded, reminded.c.invoice_id == invoices.c.id)
        )
        .where(
            claims.c.municipality == municipality,
            claims.c.status == ClaimStatus.OPEN.value,
            invoices.c.last_timely_payment_date < on,
        )
        .group_by(claims.c.id, invoices.c.id, accounts.c.id)
        .having(balance > 0)
    )


# -- limitation (decision 0015) ---------------------------------------------------------------

LIMITATION_FROM: Any = func.coalesce(claims.c.due_date, claims.c.first_invoice_due_date)
"""The claim's own due date, limitation runs from it: the library's, else the due date of its
first invoice when a change of debtor took it off that one. Neither: the claim is on its first
invoice (read that invoice's due date) or was never invoiced (no due date yet)."""

LAST_PAID_ON: Any = func.max(
    case((postings.c.kind == PostingKind.COVERAGE.value, postings.c.effective_on), else_=None)
)
"""The booking date of a claim's latest coverage posting (a part payment acknowledges the claim,
forældelsesloven § 14): an aggregate over the claim's postings, like the balance."""

ANY_REVERSAL: Any = func.max(case((postings.c.kind == PostingKind.REVERSAL.value, 1), else_=0))
"""1 if the claim has a reversal posting: its latest coverage may have been reversed (a payment
the bank returned or that was matched to the wrong claim acknowledges nothing), so
:func:`payments_standing` reads it again."""


def acknowledged_on(paid_on: date | None, agreed_on: date | None) -> date | None:
    """The debtor's latest acknowledgement: the later of the latest part payment that stands and
    the latest payment agreement covering the claim (None: neither)."""
    if paid_on is None:
        return agreed_on
    if agreed_on is None:
        return paid_on
    return max(paid_on, agreed_on)


def agreements_covering(conn: Connection, municipality: str) -> dict[int, date]:
    """Open claim database id -> the day (Copenhagen) of the latest payment agreement that covers
    it: one made for the account the claim is on, when it was on it (at or after its
    registration, and no change of debtor since). A few rows: only the claims of accounts that
    ever had an agreement. An agreement made by an earlier debtor of the claim does not count
    (the new debtor did not acknowledge it); the claim's own part payments do, whoever paid."""
    pa = payment_agreements
    moved_since = exists().where(
        events.c.claim_pk == claims.c.id,
        events.c.kind == EventKind.DEBTOR_CHANGED.value,
        events.c.at > pa.c.created_at,
    )
    rows = conn.execute(
        select(claims.c.id, func.max(pa.c.created_at))
        .select_from(pa.join(claims, claims.c.account_id == pa.c.account_id))
        .where(
            pa.c.municipality == municipality,
            claims.c.status == ClaimStatus.OPEN.value,
            pa.c.created_at >= claims.c.registered_at,
            ~moved_since,
        )
        .group_by(claims.c.id)
    )
    return {int(claim_pk): business_date(created_at) for claim_pk, created_at in rows}


def payments_standing(conn: Connection, claim_pks: Sequence[int]) -> dict[int, date]:
    """Claim database id -> the booking date of its latest coverage posting that was not
    reversed, for the given claims (those with a reversal: few); a claim without one is
    missing."""
    out: dict[int, date] = {}
    pks = sorted(set(claim_pks))
    reversal = postings.alias("reversal")
    for start in range(0, len(pks), 900):
        rows = conn.execute(
            select(postings.c.claim_pk, func.max(postings.c.effective_on))
            .where(
                postings.c.claim_pk.in_(pks[start : start + 900]),
                postings.c.kind == PostingKind.COVERAGE.value,
                ~exists().where(
                    reversal.c.claim_pk == postings.c.claim_pk,
                    reversal.c.reverses == postings.c.id,
                ),
            )
            .group_by(postings.c.claim_pk)
        )
        out.update((int(claim_pk), paid_on) for claim_pk, paid_on in rows)
    return out


class _Dates(dict[Any, date | None]):
    """Driver values of date columns (a date, ISO text, or None) -> date, each parsed once."""

    def __missing__(self, value: Any) -> date | None:
        if value is None or isinstance(value, date):
            parsed: date | None = value
        else:
            parsed = date.fromisoformat(str(value)[:10])
        self[value] = parsed
        return parsed


def load_candidates(conn: Connection, municipality: str, on: date) -> list[InvoiceCandidates]:
    """Every invoice of ``municipality`` whose SRB is before ``on`` with its open claims of
    positive balance, in invoice order (claims in claim order). One query."""
    dates = _Dates()
    by_invoice: dict[int, InvoiceCandidates] = {}
    agreed = agreements_covering(conn, municipality)
    reversed_: list[tuple[InvoiceCandidates, int]] = []
    for (
        invoice_id,
        account_id,
        id_type,
        debtor_id,
        payment_id,
        creditor_number,
        due_date,
        srb,
        last_step,
        last_reminder,
        fee_letters,
        last_fee_letter,
        claim_pk,
        claim_id,
        claim_kind,
        legal_basis,
        text,
        materials,
        coverage_sequence,
        balance_ore,
        principal_ore,
        interest_ore,
        fee_reminders,
        last_fee_on,
        limitation_from,
        last_paid_on,
        any_reversal,
        fees_ore,
    ) in conn.execute(_query(municipality, on)).all():
        invoice = by_invoice.get(invoice_id)
        if invoice is None:
            due = dates[due_date]
            last_timely = dates[srb]
            assert due is not None and last_timely is not None
            invoice = by_invoice[invoice_id] = InvoiceCandidates(
                invoice_id=invoice_id,
                account_id=account_id,
                id_type=id_type,
                debtor_id=debtor_id,
                payment_id=payment_id,
                creditor_number=creditor_number,
                due_date=due,
                srb=last_timely,
                reminders_sent=last_step or 0,
                last_reminder_on=dates[last_reminder],
                fee_letters=int(fee_letters or 0),
                last_fee_letter_on=dates[last_fee_letter],
                claims=[],
            )
        invoice.claims.append(
            Candidate(
                claim_pk,
                claim_id,
                claim_kind,
                _BASIS[legal_basis],
                text,
                materials,
                coverage_sequence,
                int(balance_ore),
                max(0, int(principal_ore)),
                int(interest_ore),
                int(fee_reminders),
                dates[last_fee_on],
                dates[limitation_from] or invoice.due_date,
                acknowledged_on(dates[last_paid_on], agreed.get(claim_pk)),
                int(fees_ore),
            )
        )
        if any_reversal:
            reversed_.append((invoice, len(invoice.claims) - 1))
    if reversed_:
        standing = payments_standing(conn, [i.claims[n].claim_pk for i, n in reversed_])
        for invoice, n in reversed_:
            c = invoice.claims[n]
            paid_on = standing.get(c.claim_pk)
            invoice.claims[n] = c._replace(
                acknowledged_on=acknowledged_on(paid_on, agreed.get(c.claim_pk))
            )
    out = [by_invoice[i] for i in sorted(by_invoice)]
    for invoice in out:
        if len(invoice.claims) > 1:
            invoice.claims.sort()
    return out


def agreements_until(conn: Connection, municipality: str) -> dict[int, date]:
    """Account id -> the ``until`` of its newest payment agreement (few rows)."""
    newest = (
        select(func.max(payment_agreements.c.id))
        .where(payment_agreements.c.municipality == municipality)
        .group_by(payment_agreements.c.account_id)
    )
    rows = conn.execute(
        select(payment_agreements.c.account_id, payment_agreements.c.until).where(
            payment_agreements.c.id.in_(newest)
        )
    )
    return {int(a): u for a, u in rows}


def deceased_accounts(conn: Connection, municipality: str) -> dict[int, date]:
    """Account id -> date of death, for the municipality's accounts flagged deceased."""
    rows = conn.execute(
        select(accounts.c.id, accounts.c.deceased_on).where(
            and_(accounts.c.municipality == municipality, accounts.c.deceased_on.is_not(None))
        )
    )
    return {int(a): d for a, d in rows}


def iter_claims(groups: list[InvoiceCandidates]) -> Iterator[tuple[InvoiceCandidates, Candidate]]:
    """Every (invoice, claim) pair of ``groups``."""
    for invoice in groups:
        for claim in invoice.claims:
            yield invoice, claim


def principal_histories(
    conn: Connection, municipality: str, on: date
) -> dict[int, list[tuple[date, int]]]:
    """Claim database id -> the (effective date, øre) changes of its principal, for the open
    public claims on invoices past their SRB whose principal changed since it was charged (a
    payment, a regulation): interest is charged month by month on what was outstanding then
    (``model.interest.interest_on_history``). A payment counts from its booking date, also one
    that reached debtor after interest was charged (even one booked before the due date), and
    a reversal from the day of the payment it reverses: a returned payment never paid anything.
    Every other claim's principal was the same all along, so it is left out. Two queries, the
    second for the few claims found."""
    principal_part = postings.c.amount_ore - postings.c.fee_part_ore
    reversed_ = postings.alias("reversed")
    changed = conn.execute(
        select(postings.c.claim_pk)
        .select_from(
            postings.join(claims, claims.c.id == postings.c.claim_pk).join(
                invoices, invoices.c.id == claims.c.invoice_id
            )
        )
        .where(
            claims.c.municipality == municipality,
            claims.c.status == ClaimStatus.OPEN.value,
            claims.c.legal_basis == LegalBasis.PUBLIC.value,
            invoices.c.last_timely_payment_date < on,
            postings.c.kind != PostingKind.CHARGE.value,
            principal_part != 0,
        )
        .distinct()
    ).scalars()
    pks = sorted({int(pk) for pk in changed})
    out: dict[int, list[tuple[date, int]]] = {pk: [] for pk in pks}
    dates = _Dates()
    for start in range(0, len(pks), 900):
        rows = conn.execute(
            select(
                postings.c.claim_pk,
                type_coerce(
                    func.coalesce(reversed_.c.effective_on, postings.c.effective_on), String
                ),
                principal_part,
            )
            .select_from(postings.outerjoin(reversed_, reversed_.c.id == postings.c.reverses))
            .where(postings.c.claim_pk.in_(pks[start : start + 900]), principal_part != 0)
        )
        for pk, on_text, ore in rows:
            day = dates[on_text]
            assert day is not None
            out[int(pk)].append((day, int(ore)))
    return out


def interest_corrections(conn: Connection, municipality: str) -> dict[int, int]:
    """Claim database id -> interest taken back so far (write-offs by rule
    ``interest_correction``), in øre; few rows."""
    rows = conn.execute(
        select(write_offs.c.claim_pk, func.sum(write_offs.c.amount_ore))
        .where(
            write_offs.c.municipality == municipality,
            write_offs.c.rule == "interest_correction",
        )
        .group_by(write_offs.c.claim_pk)
    )
    return {int(pk): int(total) for pk, total in rows}
