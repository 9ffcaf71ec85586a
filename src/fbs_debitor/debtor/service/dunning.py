"""The dunning run (rykkerkørsel): reminders within the law, interest, and write-off by rule.

``run_dunning(conn, clock, on)`` does, per municipality (serialized per municipality, one
transaction: the caller's):

1. **write-offs by rule** (``billing.rule_write_off``): deceased debtors, limitation, balances
   below the minimum after the last reminder; see :mod:`~fbs_debitor.debtor.service.writeoff`;
2. **interest** (if ``rules.interest_enabled``) on public claims: the difference between
   ``interest_due(principal, due date, on)`` and the interest posted before;
3. **reminders**: for every open invoice past its SRB the next step of the rules when
   ``on >= SRB + step.days_after_deadline`` and the previous reminder's deadline has passed
   (``billing.next_step``): one ``debtor_reminder`` row (unique per invoice and step), at most
   ONE ``reminder_fee`` posting for the whole letter (``billing.letter_fee``: the cap is per
   letter, decision 0012; the civil guard counts the fee-bearing letters of the invoice) and a
   letter row whose claim lines show principal, fees so far and interest apart, and whose title
   ("Påmindelse", "1. rykker", ...) is fixed now from the rules (``billing.step_titles``).

Never reminded: claims that are paid (balance 0), cancelled, written off, handed over (only open
claims with a positive balance are loaded), accounts under a payment agreement and deceased
debtors. One step per invoice per date, so re-running a date changes nothing; a missed day is
caught up one step at a time, each after the previous letter's deadline.

Set-based: one query loads the candidates of a municipality (``candidates.load_candidates``),
decisions are made in Python, and every table gets one bulk insert (``fastsql``: the driver's
executemany on SQLite, COPY on PostgreSQL).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Connection

from fbs_debitor.contracts.registration import ClaimKind, LegalBasis
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.fastsql import allocate_ids, bind_value, fast_insert
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.model.allocation import Component
from fbs_debitor.debtor.model.billing import (
    WriteOffRule,
    claim_parts,
    interest_to_post,
    letter_fee,
    next_step,
    reminder_pay_by,
    rule_write_off,
    step_titles,
    time_barred,
)
from fbs_debitor.debtor.model.claims import mask_debtor_id
from fbs_debitor.debtor.model.interest import interest_on_history
from fbs_debitor.debtor.model.ledger import Posting, PostingKind
from fbs_debitor.debtor.model.rules import ReminderStep
from fbs_debitor.debtor.service.writeoff import (
    WriteOff,
    apply_write_offs,
    deceased_write_offs,
    reason_for,
)
from fbs_debitor.debtor.store.candidates import (
    Candidate,
    InvoiceCandidates,
    agreements_until,
    deceased_accounts,
    interest_corrections,
    load_candidates,
    principal_histories,
)
from fbs_debitor.debtor.store.ledger import append_postings
from fbs_debitor.debtor.store.letters import FEE_LINE, LETTER_COLUMNS, PENDING, letter_data
from fbs_debitor.debtor.store.rules import (
    BillingSetup,
    billing_municipalities,
    load_setup,
    lock_billing,
)
from fbs_debitor.debtor.store.tables import letters, reminders

_KIND_TEXT = {k.value: k.danish for k in ClaimKind}


@dataclass
class DunningResult:
    """What a dunning run (or a write-off run) did.

    invoices / claims:    open invoices past their SRB looked at, and their open claims.
    reminders / letters:  reminder rows and letter rows made.
    fee_postings / fees_ore:            reminder fee postings (one per letter at most) and
                          their total.
    fees_withheld:        letters whose fee the civil guard held back (3 fee reminders / 10 days).
    interest_postings / interest_ore:   interest postings and their total.
    write_offs / written_off_ore:       write-offs by rule and their total.
    held_by_agreement:    invoices with a step due that a payment agreement held back.
    below_reminder_minimum: invoices with a step due whose open claims add up to less than the
                          municipality's ``reminder_min_ore``: no reminder, so no fee.
    time_barred_held:     time-barred claims not written off (``write_off_limitation`` off, or
                          an agreement runs): never reminded, they wait for a person.
    """

    on: date
    municipalities: int = 0
    invoices: int = 0
    claims: int = 0
    reminders: int = 0
    letters: int = 0
    fee_postings: int = 0
    fees_ore: int = 0
    fees_withheld: int = 0
    interest_postings: int = 0
    interest_ore: int = 0
    write_offs: int = 0
    written_off_ore: int = 0
    held_by_agreement: int = 0
    below_reminder_minimum: int = 0
    time_barred_held: int = 0

    @property
    def postings(self) -> int:
        """Every posting the run made (fees, interest, write-offs)."""
        return self.fee_postings + self.interest_postings + self.write_offs

    def as_dict(self) -> dict[str, Any]:
        """JSON-able figures (the CLI's ``--json``)."""
        return {**asdict(self), "on": self.on.isoformat(), "postings": self.postings}


@dataclass
class _Reminder:
    """One planned reminder: its row values, its fee posting (claim id, øre; none or one) and
    letter data."""

    invoice_id: int
    account_id: int
    step_number: int
    announces_collection: bool
    fees: list[tuple[int, int]]
    letter: str  # the letter's data as JSON


class _Due(NamedTuple):
    """An invoice whose next step goes out in this run, before its letter is made."""

    invoice: InvoiceCandidates
    claims: list[Candidate]
    interest: dict[int, int]
    number: int
    step: ReminderStep


@dataclass
class _Plan:
    """The writes of one municipality's run, collected before any is made."""

    write_offs: list[WriteOff]
    interest: list[tuple[int, int]]  # (claim database id, øre)
    reminders: list[_Reminder]


@contextmanager
def _without_gc_pauses() -> Iterator[None]:
    """Hold the cyclic garbage collector while a run builds its hundreds of thousands of small
    objects (none of them cyclic): its full collections would otherwise scan them over and over
    and cost a third of the run. Reference counting frees memory as usual; the collector runs
    again afterwards. Process-wide, but only for the seconds a run takes."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _big_cache(conn: Connection) -> Iterator[None]:
    """SQLite: a page cache of 128 MB for the run's connection while it runs (the default 2 MB
    makes every index insert of a large run a cache miss); restored afterwards."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql("PRAGMA cache_size=-131072")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(before or -2000)}")


def run_dunning(
    conn: Connection, clock: Clock, on: date, municipality: str | None = None
) -> DunningResult:
    """Write-offs by rule, interest and reminders as of ``on`` for every municipality with a
    set-up (or just ``municipality``), in the caller's transaction. Idempotent per date."""
    with _without_gc_pauses(), _big_cache(conn):
        return _run(conn, clock, on, municipality, reminders_too=True)


def _run(
    conn: Connection, clock: Clock, on: date, municipality: str | None, *, reminders_too: bool
) -> DunningResult:
    result = DunningResult(on=on)
    for m in billing_municipalities(conn, municipality):
        lock_billing(conn, m)
        setup = load_setup(conn, m)
        assert setup is not None
        plan = _plan(conn, setup, on, result, reminders_too=reminders_too)
        _write(conn, clock, on, setup, plan, result)
        result.municipalities += 1
    return result


def run_write_offs(
    conn: Connection, clock: Clock, on: date, municipality: str | None = None
) -> DunningResult:
    """Only the write-offs by rule of the dunning run (deceased, limitation, below the minimum),
    as of ``on``; no interest, no reminders."""
    with _without_gc_pauses(), _big_cache(conn):
        return _run(conn, clock, on, municipality, reminders_too=False)


def _plan(
    conn: Connection, setup: BillingSetup, on: date, result: DunningResult, *, reminders_too: bool
) -> _Plan:
    """Decide every write of the run for one municipality (reads: three queries)."""
    m, rules = setup.municipality, setup.rules
    deceased = deceased_accounts(conn, m)
    agreements = agreements_until(conn, m)
    plan = _Plan(
        write_offs=deceased_write_offs(conn, m) if deceased else [], interest=[], reminders=[]
    )
    letters_of_run = _Letters(setup, on)
    histories: dict[int, list[tuple[date, int]]] = {}
    corrected: dict[int, int] = {}
    if rules.interest_enabled and reminders_too:
        histories = principal_histories(conn, m, on)
        corrected = interest_corrections(conn, m) if histories else {}
    due_now: list[_Due] = []
    for invoice in load_candidates(conn, m, on):
        result.invoices += 1
        result.claims += len(invoice.claims)
        if invoice.account_id in deceased:
            continue  # written off above, whatever the rules say
        under_agreement = agreements.get(invoice.account_id, date.min) >= on
        keep: list[Candidate] = []
        for claim in invoice.claims:
            rule = rule_write_off(
                rules,
                on=on,
                balance_ore=claim.balance_ore,
                claim_due=claim.limitation_from,
                acknowledged_on=claim.acknowledged_on,
                srb=invoice.srb,
                reminders_sent=invoice.reminders_sent,
                last_reminder_on=invoice.last_reminder_on,
                under_agreement=under_agreement,
            )
            if rule is None:
                if time_barred(on, claim.limitation_from, claim.acknowledged_on):
                    result.time_barred_held += 1  # never reminded: waits for a person
                else:
                    keep.append(claim)
                continue
            plan.write_offs.append(
                WriteOff(
                    claim_pk=claim.claim_pk,
                    claim_id=claim.claim_id,
                    municipality=m,
                    amount_ore=claim.balance_ore,
                    balance_ore=claim.balance_ore,
                    principal_ore=claim.principal_ore,
                    coverage_sequence=claim.coverage_sequence,
                    rule=rule,
                    reason=reason_for(
                        rule,
                        due_date=claim.limitation_from,
                        acknowledged_on=claim.acknowledged_on,
                        below_ore=rules.write_off_below_ore,
                    ),
                )
            )
        if not reminders_too or not keep:
            continue
        interest: dict[int, int] = {}
        if rules.interest_enabled:
            interest, excess = _interest(invoice, keep, on, histories, corrected)
            plan.interest.extend(interest.items())
            plan.write_offs.extend(_interest_corrections(m, keep, excess))
        due = next_step(
            rules,
            srb=invoice.srb,
            reminders_sent=invoice.reminders_sent,
            last_reminder_on=invoice.last_reminder_on,
            on=on,
        )
        if due is None:
            continue
        if under_agreement:
            result.held_by_agreement += 1
            continue
        if sum(c.balance_ore for c in keep) < rules.reminder_min_ore:
            result.below_reminder_minimum += 1
            continue
        due_now.append(_Due(invoice, keep, interest, *due))
    titles = step_titles(rules)
    for d in due_now:
        _plan_reminder(plan, letters_of_run, d, titles[d.number - 1], on, result)
    return plan


def _interest(
    invoice: InvoiceCandidates,
    claims: list[Candidate],
    on: date,
    histories: dict[int, list[tuple[date, int]]],
    corrected: dict[int, int],
) -> tuple[dict[int, int], dict[int, int]]:
    """For the public claims of the invoice: claim database id -> interest to post now, and
    claim database id -> interest posted beyond what is owed (a payment that reached debtor
    after interest was added for months it had already paid, by its own date)."""
    out: dict[int, int] = {}
    excess: dict[int, int] = {}
    for claim in claims:
        if claim.basis is not LegalBasis.PUBLIC:
            continue
        history = histories.get(claim.claim_pk)
        if history is None:  # the principal is what it was on the due date
            owed = interest_to_post(claim.principal_ore, invoice.due_date, on, claim.interest_ore)
            if owed:
                out[claim.claim_pk] = owed
            continue
        posted = claim.interest_ore - corrected.get(claim.claim_pk, 0)
        due = interest_on_history(invoice.due_date, on, history) - posted
        if due > 0:
            out[claim.claim_pk] = due
        elif due < 0:
            excess[claim.claim_pk] = -due
    return out, excess


def _interest_corrections(
    municipality: str, claims: list[Candidate], excess: dict[int, int]
) -> list[WriteOff]:
    """Take back interest posted beyond what is owed (as far as it is still open)."""
    out: list[WriteOff] = []
    for claim in claims:
        fees_open = claim.balance_ore - claim.principal_ore
        amount = min(excess.get(claim.claim_pk, 0), fees_open)
        if amount <= 0:
            continue
        out.append(
            WriteOff(
                claim_pk=claim.claim_pk,
                claim_id=claim.claim_id,
                municipality=municipality,
                amount_ore=amount,
                balance_ore=claim.balance_ore,
                principal_ore=claim.principal_ore,
                coverage_sequence=claim.coverage_sequence,
                rule=WriteOffRule.INTEREST_CORRECTION,
                reason="Renter tilbageført: hovedstolen var betalt, før måneden begyndte",
                component=Component.FEES,
            )
        )
    return out


def _materials(text: str) -> list[str]:
    if text == "[]":
        return []
    return [str(m.get("title") or m.get("item_number") or "") for m in json.loads(text) if m]


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""One encoder for every letter of a run (``json.dumps`` with options builds one per call)."""


class _Letters:
    """Reminder letters of one run as JSON text, in the shape of ``letters_store.letter_data``:
    the fields every letter of the run shares are made once, dates are formatted once each."""

    def __init__(self, setup: BillingSetup, on: date) -> None:
        self.base = letter_data(
            kind="reminder",
            municipality_name=setup.name,
            debtor_masked="",
            letter_date=on,
            due_date=on,
            last_timely_payment_date=on,
            payment_id="",
            creditor_number="",
            code_line="",
            lines=[],
            pay_by=reminder_pay_by(on),
        )
        self._iso: dict[date, str] = {}

    def iso(self, d: date) -> str:
        text = self._iso.get(d)
        if text is None:
            text = self._iso[d] = d.isoformat()
        return text

    def encode(
        self,
        invoice: InvoiceCandidates,
        number: int,
        step: ReminderStep,
        title: str,
        lines: list[list[Any]],
    ) -> str:
        data = self.base.copy()
        data["debtor_masked"] = mask_debtor_id(invoice.id_type, invoice.debtor_id)
        data["due_date"] = self.iso(invoice.due_date)
        data["last_timely_payment_date"] = self.iso(invoice.srb)
        data["payment_id"] = invoice.payment_id
        data["creditor_number"] = invoice.creditor_number
        data["code_line"] = f"+71<{invoice.payment_id}+{invoice.creditor_number}<"
        data["lines"] = lines
        data["reminder_number"] = number
        data["title"] = title
        data["announces_collection"] = step.announces_collection
        data["reference"] = f"Opkrævning nr. {invoice.invoice_id}"
        return _JSON.encode(data)


def _later(a: date | None, b: date | None) -> date | None:
    if a is None or b is None:
        return b if a is None else a
    return max(a, b)


_CIVIL = LegalBasis.CIVIL


def _plan_reminder(
    plan: _Plan,
    letters_of_run: _Letters,
    due: _Due,
    title: str,
    on: date,
    result: DunningResult,
) -> None:
    """The reminder row, its one fee posting (if any) and the letter of one invoice's step."""
    invoice, claims, interest, step = due.invoice, due.claims, due.interest, due.step
    if step.fee_public_ore or step.fee_civil_ore:
        # a letter is a fee-bearing reminder of every claim on it: the civil guard counts the
        # invoice's fee-bearing letters (and, for a claim that came from another invoice, the
        # fees it carried itself)
        fee, carrier, withheld = letter_fee(
            step,
            [
                (
                    c.basis,
                    max(invoice.fee_letters, c.fee_reminders),
                    _later(invoice.last_fee_letter_on, c.last_fee_on),
                )
                if c.basis is _CIVIL
                else (c.basis, 0, None)
                for c in claims
            ],
            on,
        )
        result.fees_withheld += withheld
    else:
        fee = 0
    lines: list[list[Any]] = []
    for claim in claims:
        # what is left of principal, fees so far and interest (with this run's interest)
        principal, fees, interest_ore = claim_parts(
            claim.balance_ore, claim.principal_ore, claim.fees_ore, claim.interest_ore
        )
        interest_ore += interest.get(claim.claim_pk, 0)
        text = claim.text or _KIND_TEXT.get(claim.claim_kind, claim.claim_kind)
        lines.append(
            [
                f"{text} ({claim.claim_id})",
                principal + fees + interest_ore,
                _materials(claim.materials),
                [claim.claim_id, principal, fees, interest_ore],
            ]
        )
    fees_posted: list[tuple[int, int]] = []
    if fee:
        fees_posted.append((claims[carrier].claim_pk, fee))
        lines.append(["Rykkergebyr for denne rykker", fee, [], FEE_LINE])
    plan.reminders.append(
        _Reminder(
            invoice_id=invoice.invoice_id,
            account_id=invoice.account_id,
            step_number=due.number,
            announces_collection=step.announces_collection,
            fees=fees_posted,
            letter=letters_of_run.encode(invoice, due.number, step, title, lines),
        )
    )


_REMINDER_COLUMNS = (
    "id",
    "municipality",
    "invoice_id",
    "step_number",
    "reminder_date",
    "fee_total_ore",
    "announces_collection",
    "created_at",
)


def _write(
    conn: Connection,
    clock: Clock,
    on: date,
    setup: BillingSetup,
    plan: _Plan,
    result: DunningResult,
) -> None:
    """Make the planned writes, one bulk insert per table (``fastsql``)."""
    m = setup.municipality
    apply_write_offs(conn, clock, on, plan.write_offs)
    result.write_offs += len(plan.write_offs)
    result.written_off_ore += sum(w.amount_ore for w in plan.write_offs)

    now = clock.now()
    interest = PostingKind.INTEREST
    new: list[Posting] = [
        Posting(interest, Money(ore=ore), on, now, note="renter", claim_pk=pk, municipality=m)
        for pk, ore in plan.interest
    ]
    result.interest_postings += len(new)
    result.interest_ore += sum(ore for _, ore in plan.interest)

    ids = allocate_ids(conn, reminders, len(plan.reminders))
    created = bind_value(conn, reminders.c.created_at, now)
    day = bind_value(conn, reminders.c.reminder_date, on)
    flags = {b: bind_value(conn, reminders.c.announces_collection, b) for b in (False, True)}
    fee = PostingKind.REMINDER_FEE
    reminder_rows = []
    letter_rows = []
    for reminder_id, r in zip(ids, plan.reminders, strict=True):
        note = f"rykker {r.step_number}"
        total = 0
        for pk, ore in r.fees:
            new.append(
                Posting(
                    fee,
                    Money(ore=ore),
                    on,
                    now,
                    note=note,
                    claim_pk=pk,
                    municipality=m,
                    reminder_id=reminder_id,
                )
            )
            total += ore
        result.fee_postings += len(r.fees)
        result.fees_ore += total
        flag = flags[r.announces_collection]
        reminder_rows.append(
            (reminder_id, m, r.invoice_id, r.step_number, day, total, flag, created)
        )
        letter_rows.append(
            (
                m,
                "reminder",
                r.invoice_id,
                r.account_id,
                r.step_number,
                day,
                r.letter,
                PENDING,
                created,
            )
        )
    fast_insert(conn, reminders, _REMINDER_COLUMNS, reminder_rows)
    append_postings(conn, new)
    fast_insert(conn, letters, LETTER_COLUMNS, letter_rows)
    result.reminders += len(reminder_rows)
    result.letters += len(letter_rows)
