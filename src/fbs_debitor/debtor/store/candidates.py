"""What the dunning run and the write-off rules look at, read set-based: ONE query per
municipality loads every open claim with a positive balance on an invoice past its last timely
payment date, with the invoice, the debtor, the claim's balance components from its postings
and the invoice's reminders so far (one grouped subquery of ``debtor_reminder`` per invoice:
the last step and its date, and the fee-bearing letters and the date of the latest, which the
civil guard counts per letter). Decisions are then made in Python (``billing``); nothing is
read per claim, except the postings of the few claims a reminder letter needs split after a
payment (``settled_postings``).

Two small reads go with it: the accounts under a payment agreement and the deceased accounts
(few rows each).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Connection, String, and_, case, func, select, type_coerce

from fbs_debitor.contracts.registration import LegalBasis
from fbs_debitor.debtor.model.claims import ClaimStatus
from fbs_debitor.debtor.model.ledger import PRINCIPAL_KINDS, PostingKind
from fbs_debitor.debtor.store.tables import (
    accounts,
    claims,
    invoices,
    payment_agreements,
    postings,
    reminders,
)

_BASIS = {b.value: b for b in LegalBasis}
_PRINCIPAL = [k.value for k in PRINCIPAL_KINDS] + [PostingKind.WRITE_OFF.value]
"""What interest runs on: charge and regulations, less what was written off (a write-off settles
the principal first, as the library applies it)."""


class Candidate(NamedTuple):
    """One open claim with a positive balance on an invoice whose SRB has passed (a named
    tuple: the run makes hundreds of thousands).

    claim_pk / claim_id:   the claim's database id / the library's id.
    claim_kind / basis:    the sortiment kind and its legal basis (public or civil).
    text / materials:      the invoice text and the materials (JSON text) for letters.
    coverage_sequence:     the last coverage-message sequence sent for the claim.
    balance_ore:           the sum of its postings (> 0).
    principal_ore:         charge + write-ups - write-downs - write-offs, at least 0 (interest
                           is on this only).
    interest_ore:          interest posted so far.
    fee_reminders:         reminder fee postings on this claim so far (the letters that charged
                           their fee on it; the civil guard counts the invoice's fee-bearing
                           letters, ``InvoiceCandidates.fee_letters``, and this for a claim that
                           came from another invoice).
    last_fee_on:           the date of the latest reminder fee posting, if any.
    fees_ore:              reminder fees posted so far.
    settled:               postings that settle part of it (coverage, reversal, write-off,
                           cancellation): a letter then needs the split of ``settled_postings``;
                           without, principal, fees and interest are the sums posted.
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
    fees_ore: int
    settled: int


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


_SETTLING = [
    PostingKind.COVERAGE.value,
    PostingKind.REVERSAL.value,
    PostingKind.WRITE_OFF.value,
    PostingKind.CANCELLATION.value,
]


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
            func.sum(case((kind.in_(_PRINCIPAL), amount), else_=0)),
            func.sum(case((kind == PostingKind.INTEREST.value, amount), else_=0)),
            func.sum(case((kind == fee, 1), else_=0)),
            type_coerce(func.max(case((kind == fee, postings.c.effective_on), else_=None)), String),
            func.sum(case((kind == fee, amount), else_=0)),
            func.sum(case((kind.in_(_SETTLING), 1), else_=0)),
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
        fees_ore,
        settled,
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
                int(fees_ore),
                int(settled),
            )
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


def settled_postings(
    conn: Connection, claim_pks: Iterable[int], chunk: int = 500
) -> dict[int, list[tuple[PostingKind, int]]]:
    """Claim database id -> its postings as (kind, øre) in booking order, for the claims a
    reminder letter must split after a payment (``Candidate.settled``; few)."""
    pks = sorted(set(claim_pks))
    out: dict[int, list[tuple[PostingKind, int]]] = {pk: [] for pk in pks}
    kinds = {k.value: k for k in PostingKind}
    for start in range(0, len(pks), chunk):
        rows = conn.execute(
            select(postings.c.claim_pk, postings.c.kind, postings.c.amount_ore)
            .where(postings.c.claim_pk.in_(pks[start : start + chunk]))
            .order_by(postings.c.id)
        )
        for pk, kind, ore in rows:
            out[int(pk)].append((kinds[kind], int(ore)))
    return out
