"""Leg 2: invoices (opkrævninger) with a FIK +71 payment slip, and the InvoiceIssued message that
makes their claims payable in the payment channels.

An invoice groups open claims of one debtor account. It gets a unique payment ID
(``PaymentId.generate(seq)`` from the municipality's counter), its issue date, the due date
``next_bank_day(issue + payment_term_days)``, the last timely payment date (SRB, = the due date)
and the municipality's creditor number. Issuing writes the invoice row, its letter (an outbox
row; the PDF comes later) and ``coverage.InvoiceIssued`` (leg 2 ends there), all in the
caller's transaction. The amount due is never stored: it is the sum of the balances of the claims
that point at the invoice (``issued_total_ore`` is only what the letter said).

Two modes (``DebtorRules.invoicing_mode``):

* ``immediate``: each new claim is invoiced in the transaction that registers it, on the single
  path (:func:`invoice_on_registration` from ``service``) and the bulk path alike (``bulk``: one
  statement per table for the whole run);
* ``collected``: :func:`run_invoicing`, every ``collect_every_days``, invoices each account's open,
  uninvoiced claims together when their total reaches ``collect_min_total_ore``.

:func:`run_invoicing` also catches up in immediate mode: claims registered before the
municipality's set-up reached debtor (no creditor number yet) or while it collected are
invoiced one by one. Claims of a deceased debtor are not invoiced (they are written off).

A **time-barred** claim (``billing.time_barred``: 3 years after its own due date or the debtor's
latest acknowledgement, decision 0015) is never invoiced, on any path. :func:`run_invoicing`
writes it off by rule ``limitation`` instead (``ClaimWrittenOff`` to the library), unless the
municipality turned ``write_off_limitation`` off or a payment agreement runs: then it waits,
uninvoiced, for a person (``InvoicingResult.time_barred_held``). The other paths (registration,
credit, a change of debtor) only leave it uninvoiced; the next run writes it off.

Credit pays the next claim (:mod:`~fbs_debitor.debtor.service.credit`): before an invoice is made for an
account with credit, the credit pays the account's open claims; a claim it pays in full gets no
invoice, and the invoice shows only what is left. Which accounts have credit is one bulk query
per run (immediate mode: per registration or batch), so the common case costs almost nothing. In
immediate mode the claims of an account with credit are invoiced after they are inserted
(:func:`invoice_after_credit`), since the credit can pay only a claim that exists.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, func, select, update

from fbs_debitor.contracts.coverage import InvoiceIssued
from fbs_debitor.contracts.registration import ClaimKind, ClaimRegistered
from fbs_debitor.contracts.sending import Outgoing, send_many
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.fastsql import allocate_ids, bind_value, fast_insert
from fbs_debitor.core.fik import PaymentId, validate_creditor_number
from fbs_debitor.debtor.model.billing import due_date_for, time_barred
from fbs_debitor.debtor.model.claims import ClaimStatus, mask_debtor_id
from fbs_debitor.debtor.model.rules import InvoicingMode
from fbs_debitor.debtor.service.credit import accounts_with_credit, apply_credit
from fbs_debitor.debtor.service.limitation import split_time_barred, write_off_time_barred
from fbs_debitor.debtor.store.candidates import ANY_REVERSAL, LAST_PAID_ON, LIMITATION_FROM
from fbs_debitor.debtor.store.invoices import allocate_payment_sequences
from fbs_debitor.debtor.store.ledger import BALANCE_ORE, with_postings
from fbs_debitor.debtor.store.letters import LETTER_COLUMNS, PENDING, encode_letter, letter_data
from fbs_debitor.debtor.store.rules import (
    BillingSetup,
    billing_municipalities,
    load_setup,
    lock_billing,
)
from fbs_debitor.debtor.store.tables import (
    accounts,
    claims,
    invoice_runs,
    invoices,
    letters,
)

SOURCE = "debtor"
LEG = "leg2"


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One claim on an invoice: the library's claim id, the text, its balance at issue (øre)
    and the titles of its materials."""

    claim_id: str
    text: str
    amount_ore: int
    materials: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class InvoiceGroup:
    """The claims of one account that go on one invoice."""

    account_id: int
    debtor_masked: str
    lines: tuple[InvoiceLine, ...]

    @property
    def total_ore(self) -> int:
        return sum(line.amount_ore for line in self.lines)


@dataclass(frozen=True, slots=True)
class InvoicingResult:
    """What one invoicing run did: invoices issued and claims put on them, per municipality
    run (``skipped``: collected mode not due yet); time-barred claims written off instead of
    invoiced, and those held for a person (``write_off_limitation`` off, or an agreement runs)."""

    on: date
    invoices: int = 0
    claims: int = 0
    municipalities: int = 0
    skipped: int = 0
    time_barred_written_off: int = 0
    time_barred_held: int = 0


class NewClaim(NamedTuple):
    """A claim being registered (not inserted yet) that immediate mode invoices."""

    message: ClaimRegistered
    account_id: int
    id_type: str
    debtor_id: str
    kind: ClaimKind


class RegistrationInvoices(NamedTuple):
    """What :func:`invoice_on_registration` did: (municipality, claim id) -> invoice id of the
    claims it invoiced, and the claims whose account has credit (immediate mode), which
    :func:`invoice_after_credit` invoices once they are inserted."""

    invoice_ids: dict[tuple[str, str], int]
    after_credit: tuple[NewClaim, ...] = ()


# -- the payment ID counter -----------------------------------------------------------------------


# -- issuing ----------------------------------------------------------------------------------------

_INVOICE_COLUMNS = (
    "id",
    "municipality",
    "account_id",
    "payment_id",
    "creditor_number",
    "issue_date",
    "due_date",
    "last_timely_payment_date",
    "issued_total_ore",
    "created_at",
)


def issue_invoices(
    conn: Connection, clock: Clock, setup: BillingSetup, groups: Sequence[InvoiceGroup]
) -> list[int]:
    """Issue one invoice per group (issue date: today on ``clock``) with its letter and its
    InvoiceIssued message; returns the invoice ids in the order of ``groups``. The caller points
    the claims at them (new claims: in their rows; existing ones: :func:`_attach`).

    One bulk insert per table (``fastsql``), whatever the number of groups."""
    if not groups:
        return []
    m = setup.municipality
    now = clock.now()
    issued = clock.today()
    due = due_date_for(issued, setup.rules.payment_term_days)
    creditor = validate_creditor_number(setup.creditor_number)
    first = allocate_payment_sequences(conn, m, len(groups))
    payment_ids = [PaymentId.generate(first + i).value for i in range(len(groups))]
    ids = allocate_ids(conn, invoices, len(groups))
    created = bind_value(conn, invoices.c.created_at, now)
    issued_value = bind_value(conn, invoices.c.issue_date, issued)
    due_value = bind_value(conn, invoices.c.due_date, due)
    invoice_rows = []
    letter_rows = []
    messages = []
    for group, pid, invoice_id in zip(groups, payment_ids, ids, strict=True):
        total = group.total_ore
        invoice_rows.append(
            (
                invoice_id,
                m,
                group.account_id,
                pid,
                creditor,
                issued_value,
                due_value,
                due_value,
                total,
                created,
            )
        )
        data = letter_data(
            kind="invoice",
            municipality_name=setup.name,
            debtor_masked=group.debtor_masked,
            letter_date=issued,
            due_date=due,
            last_timely_payment_date=due,
            payment_id=pid,
            creditor_number=creditor,
            code_line=f"+71<{pid}+{creditor}<",
            lines=[(f"{x.text} ({x.claim_id})", x.amount_ore, x.materials) for x in group.lines],
            reference=f"Opkrævning nr. {invoice_id}",
        )
        letter_rows.append(
            (
                m,
                "invoice",
                invoice_id,
                group.account_id,
                None,
                issued_value,
                encode_letter(data),
                PENDING,
                created,
            )
        )
        messages.append(
            Outgoing(
                InvoiceIssued(
                    municipality=m,
                    occurred_at=now,
                    invoice_id=str(invoice_id),
                    payment_id=pid,
                    creditor_number=creditor,
                    debtor_id_masked=group.debtor_masked,
                    amount_ore=total,
                    due_date=due,
                    last_timely_payment_date=due,
                    claim_ids=[x.claim_id for x in group.lines],
                )
            )
        )
    fast_insert(conn, invoices, _INVOICE_COLUMNS, invoice_rows)
    fast_insert(conn, letters, LETTER_COLUMNS, letter_rows)
    send_many(conn, messages, source=SOURCE, leg=LEG)
    return ids


def _titles(materials: Sequence[Any]) -> tuple[str, ...]:
    """The titles of a claim's materials (the item number where a title is missing)."""
    out = []
    for m in materials:
        title = m.get("title") if isinstance(m, dict) else getattr(m, "title", None)
        number = m.get("item_number") if isinstance(m, dict) else getattr(m, "item_number", "")
        out.append(str(title or number or ""))
    return tuple(t for t in out if t)


def invoice_on_registration(
    conn: Connection, clock: Clock, new: Sequence[NewClaim]
) -> RegistrationInvoices:
    """Immediate mode: one invoice per claim being registered, issued before the claims are
    inserted (their rows then carry the invoice id). Returns (municipality, claim id) -> invoice
    id; claims of a municipality in collected mode or without a set-up yet get none (the
    invoicing run takes them). Claims of an account with credit get none either: they come back
    in ``after_credit``, for :func:`invoice_after_credit` once they are inserted."""
    out: dict[tuple[str, str], int] = {}
    later: list[NewClaim] = []
    by_municipality: dict[str, list[NewClaim]] = {}
    for item in new:
        by_municipality.setdefault(item.message.municipality, []).append(item)
    for municipality, all_items in by_municipality.items():
        setup = load_setup(conn, municipality)
        if setup is None or setup.rules.invoicing_mode is not InvoicingMode.IMMEDIATE:
            continue
        today = clock.today()
        # a claim time-barred already (an old balance moved to debtor) is not invoiced: it is
        # inserted uninvoiced and the invoicing run writes it off (or holds it)
        all_items = [i for i in all_items if not time_barred(today, i.message.due_date, None)]
        credit = accounts_with_credit(conn, municipality, {i.account_id for i in all_items})
        items = [i for i in all_items if i.account_id not in credit]
        later += [i for i in all_items if i.account_id in credit]
        groups = [
            InvoiceGroup(
                account_id=item.account_id,
                debtor_masked=mask_debtor_id(item.id_type, item.debtor_id),
                lines=(
                    InvoiceLine(
                        claim_id=item.message.claim_id,
                        text=item.message.invoice_text or item.kind.danish,
                        amount_ore=item.message.amount_ore,
                        materials=_titles(item.message.materials),
                    ),
                ),
            )
            for item in items
        ]
        ids = issue_invoices(conn, clock, setup, groups)
        for item, invoice_id in zip(items, ids, strict=True):
            out[(municipality, item.message.claim_id)] = invoice_id
    return RegistrationInvoices(out, tuple(later))


def invoice_after_credit(conn: Connection, clock: Clock, later: Sequence[NewClaim]) -> None:
    """Immediate mode, claims of accounts with credit (``RegistrationInvoices.after_credit``),
    now inserted with their charge: the credit pays the accounts' open claims, and each of these
    claims with something left gets its invoice for what is left."""
    by_municipality: dict[str, list[NewClaim]] = {}
    for item in later:
        by_municipality.setdefault(item.message.municipality, []).append(item)
    for municipality, items in by_municipality.items():
        setup = load_setup(conn, municipality)
        assert setup is not None  # invoice_on_registration found it
        apply_credit(conn, clock, municipality, {i.account_id for i in items})
        rows = _uninvoiced(conn, municipality, claim_ids=[i.message.claim_id for i in items])
        rows, _ = split_time_barred(conn, municipality, rows, clock.today())
        _invoice_rows(conn, clock, setup, _groups(rows, InvoicingMode.IMMEDIATE, 0))


# -- claims that are in debtor already ------------------------------------------------------------

_ATTACH = (
    update(claims)
    .where(claims.c.id == bindparam("claim_pk"))
    .values(invoice_id=bindparam("invoice"))
)


def _attach(conn: Connection, pairs: list[tuple[int, int]]) -> None:
    """Point claims at their invoices: (claim database id, invoice id) pairs, one executemany."""
    if pairs:
        conn.execute(_ATTACH, [{"claim_pk": c, "invoice": i} for c, i in pairs])


def _uninvoiced(
    conn: Connection,
    municipality: str,
    claim_pk: int | None = None,
    *,
    claim_ids: Sequence[str] | None = None,
) -> list[Any]:
    """Open, not-invoiced claims with a positive balance, of living debtors, by account then
    claim (one query). With ``claim_pk``: only that claim; with ``claim_ids``: only those."""
    balance = BALANCE_ORE
    query = (
        select(
            claims.c.id,
            claims.c.claim_id,
            claims.c.account_id,
            claims.c.claim_kind,
            claims.c.invoice_text,
            claims.c.materials,
            accounts.c.id_type,
            accounts.c.debtor_id,
            balance.label("balance_ore"),
            claims.c.coverage_sequence,
            LIMITATION_FROM.label("limitation_from"),
            LAST_PAID_ON.label("last_paid_on"),
            ANY_REVERSAL.label("any_reversal"),
        )
        .select_from(with_postings(claims.join(accounts, accounts.c.id == claims.c.account_id)))
        .where(
            claims.c.municipality == municipality,
            claims.c.status == ClaimStatus.OPEN.value,
            claims.c.invoice_id.is_(None),
            accounts.c.deceased_on.is_(None),
        )
        .group_by(claims.c.id, accounts.c.id)
        .having(balance > 0)
        .order_by(claims.c.account_id, claims.c.id)
    )
    if claim_pk is not None:
        query = query.where(claims.c.id == claim_pk)
    if claim_ids is not None:
        query = query.where(claims.c.claim_id.in_(claim_ids))
    return list(conn.execute(query))


def _after_credit(
    conn: Connection,
    clock: Clock,
    municipality: str,
    claim_pk: int | None = None,
    *,
    on: date | None = None,
    rows: list[Any] | None = None,
) -> list[Any]:
    """:func:`_uninvoiced` (or ``rows``, read so already) after the accounts of those claims that
    have credit paid their open claims from it: read again only if some credit was used (one
    more query when none was). Time-barred claims on ``on`` (default today) are left out: never
    invoiced."""
    on = on or clock.today()
    if rows is None:
        rows, _ = split_time_barred(
            conn, municipality, _uninvoiced(conn, municipality, claim_pk), on
        )
    if rows and apply_credit(conn, clock, municipality, {int(r.account_id) for r in rows}):
        rows, _ = split_time_barred(
            conn, municipality, _uninvoiced(conn, municipality, claim_pk), on
        )
    return rows


def _line(row: Any) -> InvoiceLine:
    return InvoiceLine(
        claim_id=row.claim_id,
        text=row.invoice_text or ClaimKind(row.claim_kind).danish,
        amount_ore=int(row.balance_ore),
        materials=_titles(json.loads(row.materials)),
    )


def _groups(rows: list[Any], mode: InvoicingMode, min_total_ore: int) -> list[list[Any]]:
    """Immediate: one group per claim. Collected: one per account, if its total reaches the
    minimum."""
    if mode is InvoicingMode.IMMEDIATE:
        return [[r] for r in rows]
    by_account: dict[int, list[Any]] = {}
    for r in rows:
        by_account.setdefault(int(r.account_id), []).append(r)
    return [
        group
        for group in by_account.values()
        if sum(int(r.balance_ore) for r in group) >= min_total_ore
    ]


def _invoice_rows(
    conn: Connection, clock: Clock, setup: BillingSetup, groups: list[list[Any]]
) -> int:
    """Issue an invoice per group of claim rows and attach the claims; returns invoices made."""
    invoice_groups = [
        InvoiceGroup(
            account_id=int(group[0].account_id),
            debtor_masked=mask_debtor_id(group[0].id_type, group[0].debtor_id),
            lines=tuple(_line(r) for r in group),
        )
        for group in groups
    ]
    ids = issue_invoices(conn, clock, setup, invoice_groups)
    _attach(
        conn,
        [
            (int(r.id), invoice_id)
            for group, invoice_id in zip(groups, ids, strict=True)
            for r in group
        ],
    )
    return len(ids)


def _collection_due(conn: Connection, setup: BillingSetup, on: date) -> bool:
    """Collected mode: whether ``collect_every_days`` have passed since the last collection."""
    last = conn.execute(
        select(func.max(invoice_runs.c.run_on)).where(
            invoice_runs.c.municipality == setup.municipality,
            invoice_runs.c.mode == InvoicingMode.COLLECTED.value,
        )
    ).scalar()
    return last is None or on >= last + timedelta(days=setup.rules.collect_every_days)


def run_invoicing(
    conn: Connection, clock: Clock, on: date, municipality: str | None = None
) -> InvoicingResult:
    """The invoicing job for ``on`` (every municipality with a set-up, or just ``municipality``):
    collected mode when due, and the catch-up of uninvoiced claims in immediate mode. Idempotent:
    a second run finds nothing (collected: not due again until ``collect_every_days`` pass)."""
    made = claimed = done = skipped = written_off = held = 0
    for m in billing_municipalities(conn, municipality):
        lock_billing(conn, m)
        setup = load_setup(conn, m)
        assert setup is not None
        mode = setup.rules.invoicing_mode
        if mode is InvoicingMode.COLLECTED and not _collection_due(conn, setup, on):
            skipped += 1
            continue
        # time-barred claims first: written off (or held), never invoiced, and not paid from
        # credit on the way to an invoice
        rows, barred = split_time_barred(conn, m, _uninvoiced(conn, m), on)
        n_barred = write_off_time_barred(conn, clock, setup, on, barred)
        written_off += n_barred
        held += len(barred) - n_barred
        rows = _after_credit(conn, clock, m, on=on, rows=rows)
        groups = _groups(rows, mode, setup.rules.collect_min_total_ore)
        n = _invoice_rows(conn, clock, setup, groups)
        done += 1
        made += n
        claimed += sum(len(g) for g in groups)
        if mode is InvoicingMode.COLLECTED or n:
            conn.execute(
                invoice_runs.insert().values(
                    municipality=m,
                    run_on=on,
                    mode=mode.value,
                    invoices=n,
                    claims=sum(len(g) for g in groups),
                    at=clock.now(),
                )
            )
    return InvoicingResult(
        on=on,
        invoices=made,
        claims=claimed,
        municipalities=done,
        skipped=skipped,
        time_barred_written_off=written_off,
        time_barred_held=held,
    )


def reinvoice_moved_claim(conn: Connection, clock: Clock, municipality: str, claim_pk: int) -> None:
    """A claim moved to another debtor: it leaves its invoice (the old debtor's payment slip no
    longer covers it) and, in immediate mode, gets an invoice of its own to the new debtor at
    once; in collected mode the next collection takes it.

    The claim keeps the due date of its first invoice (``first_invoice_due_date``): the new
    invoice's later due date does not restart limitation."""
    first_due = (
        select(invoices.c.due_date).where(invoices.c.id == claims.c.invoice_id).scalar_subquery()
    )
    conn.execute(
        update(claims)
        .where(claims.c.id == claim_pk)
        .values(
            invoice_id=None,
            first_invoice_due_date=func.coalesce(claims.c.first_invoice_due_date, first_due),
        )
    )
    setup = load_setup(conn, municipality)
    if setup is None or setup.rules.invoicing_mode is not InvoicingMode.IMMEDIATE:
        return
    rows = _after_credit(conn, clock, municipality, claim_pk)
    if rows:
        _invoice_rows(conn, clock, setup, [rows])
