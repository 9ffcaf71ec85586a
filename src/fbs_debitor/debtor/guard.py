"""The ledger guard (:func:`check_ledger`, after pretix's transaction check): every claim whose
state disagrees with its postings, and state of invoicing and dunning that changed without its
postings, or postings without their reason. An empty list means the ledger is sound; tests run it
after every integration test, an operator at any time.

Checked:

* a reminder fee posting names its reminder, and only reminder fee postings name one;
* every reminder's ``fee_total_ore`` equals the reminder fee postings that name it (a reminder
  with a fee but without its postings, or the reverse);
* a reminder letter carries at most one fee posting, and its fee stays within the cap of the
  claims it reminded of (the claims its letter lists): 250 kr, or 100 kr when one of them is
  civil; a civil claim is reminded with a fee at most three times, at least ten days apart
  (gebyrloven § 2, renteloven § 9 b, decision 0012);
* interest only on public claims that are on an invoice, and never more than the law allows:
  ``interest_due(charge + write-ups, due date, last interest date)`` (so no interest on interest
  or on fees), net of the interest taken back (write-offs by rule ``interest_correction``: a
  late part payment spared months that a reversal later made owed again);
* a written-off claim has its write-off posting, and every claim's write-off postings add up to
  its ``debtor_write_off`` rows;
* a claim's invoice belongs to the claim's municipality and account, and the invoice's payment ID
  is a valid FIK +71 ID (check digit).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from itertools import pairwise
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select

from fbs_debitor.contracts.registration import LegalBasis
from fbs_debitor.core.fik import validate_payment_id
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.model.claims import ClaimStatus
from fbs_debitor.debtor.model.interest import interest_due
from fbs_debitor.debtor.model.ledger import FEE_KINDS, PRINCIPAL_KINDS, PostingKind
from fbs_debitor.debtor.model.rules import (
    MAX_FEE_REMINDERS_CIVIL,
    MAX_REMINDER_FEE_CIVIL,
    MAX_REMINDER_FEE_PUBLIC,
    MIN_DAYS_BETWEEN_FEE_REMINDERS_CIVIL,
)
from fbs_debitor.debtor.store.ledger import BALANCE_ORE, with_postings
from fbs_debitor.debtor.store.tables import (
    accounts,
    claims,
    invoices,
    letters,
    postings,
    reminders,
    write_offs,
)

_FEE = PostingKind.REMINDER_FEE.value
_INTEREST = PostingKind.INTEREST.value
_WRITE_OFF = PostingKind.WRITE_OFF.value
_FEE_KINDS = [k.value for k in FEE_KINDS]
_PRINCIPAL_KINDS = [k.value for k in PRINCIPAL_KINDS]


def check_billing(conn: Connection, municipality: str | None = None) -> list[str]:
    """Every disagreement between invoicing/dunning state and the postings ([] = sound)."""

    def scoped(query: Any, table: Any = claims) -> Any:
        return query if municipality is None else query.where(table.c.municipality == municipality)

    problems: list[str] = []
    for m, cid, pid, kind in conn.execute(
        scoped(
            select(claims.c.municipality, claims.c.claim_id, postings.c.id, postings.c.kind)
            .join_from(postings, claims, postings.c.claim_pk == claims.c.id)
            .where(
                or_(
                    and_(postings.c.kind == _FEE, postings.c.reminder_id.is_(None)),
                    and_(postings.c.kind != _FEE, postings.c.reminder_id.is_not(None)),
                )
            )
        )
    ):
        problems.append(f"{m}/{cid}: posting {pid} ({kind}) and its reminder do not match")

    fee_sums = (
        select(postings.c.reminder_id, func.sum(postings.c.amount_ore).label("total"))
        .where(postings.c.kind == _FEE)
        .group_by(postings.c.reminder_id)
        .subquery()
    )
    for m, invoice_id, step, expected, total in conn.execute(
        scoped(
            select(
                reminders.c.municipality,
                reminders.c.invoice_id,
                reminders.c.step_number,
                reminders.c.fee_total_ore,
                func.coalesce(fee_sums.c.total, 0),
            )
            .select_from(reminders.outerjoin(fee_sums, fee_sums.c.reminder_id == reminders.c.id))
            .where(reminders.c.fee_total_ore != func.coalesce(fee_sums.c.total, 0)),
            reminders,
        )
    ):
        problems.append(
            f"{m}/invoice {invoice_id}: reminder {step} charged {Money(ore=int(expected))} "
            f"in fees but its postings hold {Money(ore=int(total))}"
        )

    problems += _reminder_fee_problems(conn, scoped)
    problems += _interest_problems(conn, scoped)
    problems += _write_off_problems(conn, scoped)

    for m, cid in conn.execute(
        scoped(
            select(claims.c.municipality, claims.c.claim_id)
            .join_from(claims, invoices, invoices.c.id == claims.c.invoice_id)
            .where(
                or_(
                    invoices.c.municipality != claims.c.municipality,
                    invoices.c.account_id != claims.c.account_id,
                )
            )
        )
    ):
        problems.append(f"{m}/{cid}: claim on another municipality's or debtor's invoice")
    for m, invoice_id, payment_id in conn.execute(
        scoped(select(invoices.c.municipality, invoices.c.id, invoices.c.payment_id), invoices)
    ):
        ok, reason = validate_payment_id(payment_id, 71)
        if not ok:
            problems.append(f"{m}/invoice {invoice_id}: payment ID {payment_id}: {reason}")
    return problems


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _reminder_fee_problems(conn: Connection, scoped: Any) -> list[str]:
    """One fee per letter, within the cap of the claims the letter reminded of; on a civil claim
    at most three fee-bearing letters, ten days apart. The claims a letter reminded of are the
    claims its lines name; a letter made before lines named them counts every claim now on the
    invoice (stricter, never laxer)."""
    problems: list[str] = []
    for m, invoice_id, step, count in conn.execute(
        scoped(
            select(
                reminders.c.municipality,
                reminders.c.invoice_id,
                reminders.c.step_number,
                func.count(postings.c.id),
            )
            .join_from(reminders, postings, postings.c.reminder_id == reminders.c.id)
            .group_by(reminders.c.id, reminders.c.municipality)
            .having(func.count(postings.c.id) > 1),
            reminders,
        )
    ):
        problems.append(
            f"{m}/invoice {invoice_id}: reminder {step} has {count} fee postings; a letter "
            f"carries one fee"
        )

    rows = conn.execute(
        scoped(
            select(
                reminders.c.municipality,
                reminders.c.invoice_id,
                reminders.c.step_number,
                reminders.c.reminder_date,
                reminders.c.fee_total_ore,
                letters.c.data,
            )
            .select_from(
                reminders.outerjoin(
                    letters,
                    and_(
                        letters.c.municipality == reminders.c.municipality,
                        letters.c.invoice_id == reminders.c.invoice_id,
                        letters.c.kind == "reminder",
                        letters.c.reminder_number == reminders.c.step_number,
                    ),
                )
            )
            .where(reminders.c.fee_total_ore > 0)
            .order_by(reminders.c.reminder_date, reminders.c.id),
            reminders,
        )
    ).all()
    if not rows:
        return problems
    named: dict[tuple[str, int, int], list[str]] = {}
    unnamed: set[tuple[str, int]] = set()
    for m, invoice_id, step, _, _, data in rows:
        lines = json.loads(data)["lines"] if data else []
        ids = [str(x[3][0]) for x in lines if len(x) > 3 and isinstance(x[3], list)]
        named[(m, invoice_id, step)] = ids
        if not ids:
            unnamed.add((m, invoice_id))
    basis: dict[tuple[str, str], str] = {}
    on_invoice: dict[tuple[str, int], list[str]] = defaultdict(list)
    for m, cid, legal_basis, invoice_id in conn.execute(
        scoped(
            select(
                claims.c.municipality, claims.c.claim_id, claims.c.legal_basis, claims.c.invoice_id
            )
        )
    ):
        basis[(m, cid)] = legal_basis
        if (m, invoice_id) in unnamed:
            on_invoice[(m, invoice_id)].append(cid)
    civil_fees: dict[tuple[str, str], list[date]] = defaultdict(list)
    for m, invoice_id, step, on, total, _ in rows:
        reminded = named[(m, invoice_id, step)] or on_invoice[(m, invoice_id)]
        civil = [cid for cid in reminded if basis.get((m, cid)) == LegalBasis.CIVIL.value]
        cap = MAX_REMINDER_FEE_CIVIL if civil else MAX_REMINDER_FEE_PUBLIC
        if int(total) > cap.ore:
            problems.append(
                f"{m}/invoice {invoice_id}: reminder {step} charged {Money(ore=int(total))}, "
                f"above the {cap} one letter may charge for the claims it reminded of"
            )
        for cid in civil:
            civil_fees[(m, cid)].append(_as_date(on))
    for (m, cid), dates in civil_fees.items():
        if len(dates) > MAX_FEE_REMINDERS_CIVIL:
            problems.append(
                f"{m}/{cid}: {len(dates)} fee-bearing reminders on a civil claim; the law allows "
                f"{MAX_FEE_REMINDERS_CIVIL}"
            )
        for a, b in pairwise(dates):
            if (b - a).days < MIN_DAYS_BETWEEN_FEE_REMINDERS_CIVIL:
                problems.append(
                    f"{m}/{cid}: fee-bearing reminders on {a} and {b}, less than "
                    f"{MIN_DAYS_BETWEEN_FEE_REMINDERS_CIVIL} days apart"
                )
    return problems


def _interest_problems(conn: Connection, scoped: Any) -> list[str]:
    amount, kind = postings.c.amount_ore, postings.c.kind
    gross = func.sum(
        case((kind.in_([PostingKind.CHARGE.value, PostingKind.WRITE_UP.value]), amount), else_=0)
    )
    interest = func.sum(case((kind == _INTEREST, amount), else_=0))
    last = func.max(case((kind == _INTEREST, postings.c.effective_on), else_=None))
    corrected = (
        select(write_offs.c.claim_pk, func.sum(write_offs.c.amount_ore).label("total"))
        .where(write_offs.c.rule == "interest_correction")
        .group_by(write_offs.c.claim_pk)
        .subquery()
    )
    rows = conn.execute(
        scoped(
            select(
                claims.c.municipality,
                claims.c.claim_id,
                claims.c.legal_basis,
                invoices.c.due_date,
                gross,
                interest,
                last,
                func.coalesce(corrected.c.total, 0),
            )
            .select_from(
                claims.join(postings, postings.c.claim_pk == claims.c.id)
                .outerjoin(invoices, invoices.c.id == claims.c.invoice_id)
                .outerjoin(corrected, corrected.c.claim_pk == claims.c.id)
            )
            .group_by(claims.c.id, invoices.c.id, corrected.c.total)
            .having(interest != 0)
        )
    )
    problems: list[str] = []
    for m, cid, basis, due_date, gross_ore, posted_ore, last_on, corrected_ore in rows:
        interest_ore = int(posted_ore) - int(corrected_ore)
        if basis != LegalBasis.PUBLIC.value:
            problems.append(f"{m}/{cid}: interest on a {basis} claim")
        elif due_date is None:
            problems.append(f"{m}/{cid}: interest on a claim that is on no invoice")
        else:
            on = last_on if isinstance(last_on, date) else date.fromisoformat(str(last_on))
            allowed = interest_due(Money(ore=int(gross_ore)), due_date, on)
            if int(interest_ore) > allowed.ore:
                problems.append(
                    f"{m}/{cid}: interest {Money(ore=int(interest_ore))} beyond the "
                    f"{allowed} the principal allows"
                )
    return problems


def _write_off_problems(conn: Connection, scoped: Any) -> list[str]:
    posted = (
        select(
            postings.c.claim_pk,
            func.sum(case((postings.c.kind == _WRITE_OFF, postings.c.amount_ore), else_=0)).label(
                "total"
            ),
        )
        .group_by(postings.c.claim_pk)
        .subquery()
    )
    recorded = (
        select(write_offs.c.claim_pk, func.sum(write_offs.c.amount_ore).label("total"))
        .group_by(write_offs.c.claim_pk)
        .subquery()
    )
    problems: list[str] = []
    for m, cid, status, posted_ore, recorded_ore in conn.execute(
        scoped(
            select(
                claims.c.municipality,
                claims.c.claim_id,
                claims.c.status,
                func.coalesce(posted.c.total, 0),
                func.coalesce(recorded.c.total, 0),
            )
            .select_from(
                claims.outerjoin(posted, posted.c.claim_pk == claims.c.id).outerjoin(
                    recorded, recorded.c.claim_pk == claims.c.id
                )
            )
            .where(
                or_(
                    func.coalesce(posted.c.total, 0) + func.coalesce(recorded.c.total, 0) != 0,
                    and_(
                        claims.c.status == ClaimStatus.WRITTEN_OFF.value,
                        func.coalesce(posted.c.total, 0) == 0,
                    ),
                )
            )
        )
    ):
        if status == ClaimStatus.WRITTEN_OFF.value and int(posted_ore) == 0:
            problems.append(f"{m}/{cid}: written off without a write-off posting")
        else:
            problems.append(
                f"{m}/{cid}: write-off postings of {Money(ore=-int(posted_ore))} but "
                f"{Money(ore=int(recorded_ore))} recorded with reasons"
            )
    return problems


_PLUS = [k.value for k in PostingKind if k.sign > 0]


_MINUS = [k.value for k in PostingKind if k.sign < 0]


_SETTLED = {ClaimStatus.CANCELLED.value, ClaimStatus.PAID.value, ClaimStatus.WRITTEN_OFF.value}


def check_ledger(conn: Connection, municipality: str | None = None) -> list[str]:
    """Every disagreement between claims and their postings, one sentence each ([] = sound).

    Checked: every claim has its charge posting; a cancelled, paid or written-off claim stands at
    zero; no claim stands below zero; every posting has the sign its kind demands, a reversal
    names a posting of the opposite sign and nothing else names one; postings and accounts belong
    to the claim's municipality; a held claim is on no invoice; and the checks of invoicing and dunning
    (:func:`~fbs_debitor.debtor.guard.check_billing`: reminder fees and interest with
    their postings, write-offs with their reasons, invoices of the right debtor).
    """
    problems: list[str] = []

    def scoped(query: Any, table: Any = claims) -> Any:
        return query if municipality is None else query.where(table.c.municipality == municipality)

    charged = select(postings.c.id).where(
        postings.c.claim_pk == claims.c.id, postings.c.kind == PostingKind.CHARGE.value
    )
    for m, cid in conn.execute(
        scoped(select(claims.c.municipality, claims.c.claim_id).where(~charged.exists()))
    ):
        problems.append(f"{m}/{cid}: claim without its charge posting")

    totals = conn.execute(
        scoped(
            select(
                claims.c.municipality,
                claims.c.claim_id,
                claims.c.status,
                BALANCE_ORE,
            )
            .select_from(with_postings())
            .group_by(claims.c.id, claims.c.municipality, claims.c.claim_id, claims.c.status)
        )
    )
    for m, cid, status, total in totals:
        amount = Money(ore=int(total))
        if status not in {s.value for s in ClaimStatus}:
            problems.append(f"{m}/{cid}: unknown status {status!r}")
        if status in _SETTLED and not amount.is_zero():
            problems.append(f"{m}/{cid}: {status} claim with balance {amount.to_json_str()}")
        if amount.is_negative():
            problems.append(
                f"{m}/{cid}: {status} claim with negative balance {amount.to_json_str()}"
            )

    p, r = postings, postings.alias("reversed")
    bad_sign = or_(
        and_(p.c.kind.in_(_PLUS), p.c.amount_ore <= 0),
        and_(p.c.kind.in_(_MINUS), p.c.amount_ore >= 0),
        and_(p.c.kind == PostingKind.REVERSAL.value, p.c.reverses.is_(None)),
        and_(p.c.kind != PostingKind.REVERSAL.value, p.c.reverses.is_not(None)),
        p.c.kind.not_in([k.value for k in PostingKind]),
        p.c.municipality != claims.c.municipality,
        and_(
            r.c.id.is_not(None),
            or_(
                r.c.claim_pk != p.c.claim_pk,
                (r.c.amount_ore > 0) == (p.c.amount_ore > 0),
                r.c.fee_part_ore != -p.c.fee_part_ore,
            ),
        ),
        # the fee part: the amount's sign, never larger; all of a fee, none of a charge
        and_(p.c.fee_part_ore != 0, (p.c.fee_part_ore > 0) != (p.c.amount_ore > 0)),
        func.abs(p.c.fee_part_ore) > func.abs(p.c.amount_ore),
        and_(p.c.kind.in_(_FEE_KINDS), p.c.fee_part_ore != p.c.amount_ore),
        and_(p.c.kind.in_(_PRINCIPAL_KINDS), p.c.fee_part_ore != 0),
    )
    for m, cid, pid, kind in conn.execute(
        scoped(
            select(claims.c.municipality, claims.c.claim_id, p.c.id, p.c.kind)
            .select_from(
                p.join(claims, p.c.claim_pk == claims.c.id).outerjoin(r, r.c.id == p.c.reverses)
            )
            .where(bad_sign)
        )
    ):
        problems.append(
            f"{m}/{cid}: posting {pid} ({kind}) breaks the sign, fee part or reversal rule"
        )

    for m, cid in conn.execute(
        scoped(
            select(claims.c.municipality, claims.c.claim_id)
            .join_from(claims, accounts, claims.c.account_id == accounts.c.id)
            .where(accounts.c.municipality != claims.c.municipality)
        )
    ):
        problems.append(f"{m}/{cid}: claim on another municipality's account")

    for m, cid in conn.execute(
        scoped(
            select(claims.c.municipality, claims.c.claim_id).where(
                claims.c.status == ClaimStatus.HELD.value, claims.c.invoice_id.is_not(None)
            )
        )
    ):
        problems.append(f"{m}/{cid}: held claim on an invoice")
    return problems + check_billing(conn, municipality)
