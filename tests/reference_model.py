"""A reference model of debtor's money rules, written from the rule text alone (issue #11, decision
0016, DOMAIN.md), for ``tests/integration/test_debtor_reference_model.py``.

Plain Python on integer øre; it imports nothing of ``fbs_debitor`` and shares no code with the
engine: its own month counting, its own rounding, its own allocation and regulation. It is told
what happened (registrations, payments with their booking dates, reversals, regulations, the
reminder fees the engine charged and the invoices it made) and says what every claim, the
account's credit, refunds and unmatched money must then be, and what interest is owed.

The rules it holds (amounts in øre; a "fee" below is a reminder fee or interest):

* **Allocation order**: claims by their own due date (none: last), then the day they were created,
  then the order they were registered in.
* **A payment counts on its booking date P.** First each claim in order gets what it owed *as it
  stood on P*: its fees charged on or before P, then its principal. A claim whose P-amount the
  payment settles was paid in time: the fees charged after P are waived (never covered). Then the
  later fees of the claims it did not settle, in order. The rest is credit. "As it stood on P"
  counts every payment received so far, whatever its date (decision 0016, known limits); fees
  charged after P are the later ones of those still outstanding.
* **Interest** (public claims, when on): each month begun after the invoice's due date costs 1 %
  of the principal outstanding at the end of the day before it began (principal changes by their
  own dates; a payment's principal part by its booking date; a reversed payment never paid
  anything), the total rounded half up once. Interest charged beyond that (net of corrections) is
  taken back, as far as fees are open, on the next dunning run.
* **Regulation** (decision 0016): a write-down lowers the principal; what payments paid beyond
  the new amount becomes credit. A cancellation, or a write-down of the whole amount, ends the
  claim: its open fees fall with it and everything paid on it, fees included, becomes credit.
* **Reversal**: a reversed payment never happened: each claim gets back exactly the fees and
  principal it took, the fees it waived are owed again, its credit is taken back (the account
  may go short); what it paid on a claim that has since ended (cancelled) had become credit, so
  it is taken from the credit.
* **Reminder letters** (gebyrloven § 2, renteloven § 9 b): at most one fee per letter, at most
  250 kr. when every claim on it is public, 100 kr. when one is civil; a civil claim has at most
  three fee-bearing letters, at least 10 days apart; a reminder comes at least 10 days after the
  previous one and not before the previous letter's pay-by date.
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

PUBLIC_LETTER_CAP = 25_000
CIVIL_LETTER_CAP = 10_000
CIVIL_FEE_LETTERS = 3
CIVIL_FEE_GAP_DAYS = 10
REMINDER_GAP_DAYS = 10
INTEREST_PERCENT_PER_MONTH = 1


# -- interest ------------------------------------------------------------------------------------


def month_end_days(due: date, on: date) -> list[date]:
    """The last day before each month that has begun after ``due`` by ``on``: month k (from 0)
    begins the day after the due date's day-of-month k months on (the month's last day when it
    is shorter)."""
    out: list[date] = []
    k = 0
    while True:
        months = due.month - 1 + k
        year, month = due.year + months // 12, months % 12 + 1
        day = min(due.day, calendar.monthrange(year, month)[1])
        turn = date(year, month, day)
        if turn >= on:  # month k begins on turn + 1 day, which is after ``on``
            return out
        out.append(turn)
        k += 1


def half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up to a whole øre (both >= 0)."""
    return int((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), ROUND_HALF_UP))


def interest_owed(due: date, on: date, changes: Iterable[tuple[date, int]]) -> int:
    """Interest in øre owed by ``on`` on a principal with these (date, øre) changes."""
    changes = list(changes)
    principal_months = 0
    for turn in month_end_days(due, on):
        outstanding = sum(ore for day, ore in changes if day <= turn)
        principal_months += max(outstanding, 0)
    return half_up(principal_months * INTEREST_PERCENT_PER_MONTH, 100)


# -- claims and payments ---------------------------------------------------------------------------


@dataclass
class Claim:
    """One claim as the reference sees it."""

    claim_id: str
    seq: int
    public: bool
    created_on: date
    due_date: date | None
    """The claim's own due date (the library's); None: it has none."""
    principal: int
    amount: int
    """The library's amount as regulated."""
    fees: int = 0
    status: str = "open"
    invoice_id: int | None = None
    invoice_due: date | None = None
    fee_charges: list[tuple[date, int]] = field(default_factory=list)
    """(date, øre) of every reminder fee and interest charged, gross."""
    interest_charged: int = 0
    interest_corrected: int = 0
    principal_changes: list[tuple[date, int]] = field(default_factory=list)
    paid_fees: int = 0
    paid_principal: int = 0
    """What payments brought to the claim and it still holds (not moved to credit)."""
    reversed_any: bool = False

    @property
    def balance(self) -> int:
        return self.principal + self.fees

    def order_key(self) -> tuple[bool, date, date, int]:
        return (self.due_date is None, self.due_date or date.max, self.created_on, self.seq)

    def later_fees(self, paid_on: date) -> int:
        """The fees still outstanding that were charged after ``paid_on``."""
        later = sum(ore for day, ore in self.fee_charges if day > paid_on)
        return min(later, max(self.fees, 0))


@dataclass
class Line:
    claim_id: str
    fees: int
    principal: int


@dataclass
class Payment:
    ref: str
    amount: int
    booked_on: date
    real: bool
    """Money from outside (bank, till); False: the account's credit paying claims."""
    lines: list[Line] = field(default_factory=list)
    waived: dict[str, int] = field(default_factory=dict)
    credit: int = 0
    unmatched: bool = False
    reversed: bool = False


class Reference:
    """One debtor's claims, payments, credit, refunds and unmatched money."""

    def __init__(self) -> None:
        self.claims: dict[str, Claim] = {}
        self.payments: dict[str, Payment] = {}
        self.credit = 0
        """Signed: below zero is a shortfall (a reversed overpayment whose credit was used)."""
        self.refunds = 0
        self.unmatched = 0

    # -- the library's claims -------------------------------------------------------------------

    def register(
        self, claim_id: str, amount: int, *, public: bool, on: date, due_date: date | None
    ) -> Claim:
        claim = Claim(
            claim_id=claim_id,
            seq=len(self.claims),
            public=public,
            created_on=on,
            due_date=due_date,
            principal=amount,
            amount=amount,
            principal_changes=[(on, amount)],
        )
        self.claims[claim_id] = claim
        return claim

    def invoiced(self, claim_id: str, invoice_id: int, due: date) -> None:
        claim = self.claims[claim_id]
        assert claim.invoice_id in (None, invoice_id), (claim_id, claim.invoice_id, invoice_id)
        claim.invoice_id, claim.invoice_due = invoice_id, due

    def open_claims(self) -> list[Claim]:
        return sorted((c for c in self.claims.values() if c.status == "open"), key=Claim.order_key)

    def _end(self, claim: Claim, on: date) -> None:
        """The claim was not owed: open fees fall, what was paid on it becomes credit."""
        self.credit += claim.paid_fees + claim.paid_principal
        claim.principal_changes.append((on, -claim.principal))
        claim.principal = claim.fees = 0
        claim.paid_fees = claim.paid_principal = 0
        claim.amount = 0
        claim.status = "cancelled"

    def write_down(self, claim_id: str, ore: int, on: date) -> None:
        claim = self.claims[claim_id]
        assert claim.status in ("open", "paid") and 0 < ore <= claim.amount, (claim, ore)
        if ore == claim.amount:
            self._end(claim, on)
            return
        claim.amount -= ore
        claim.principal -= ore
        claim.principal_changes.append((on, -ore))
        if claim.principal < 0:  # paid beyond the new amount: credit
            excess = -claim.principal
            self.credit += excess
            claim.paid_principal -= excess
            claim.principal = 0
            claim.principal_changes.append((on, excess))
        if claim.balance == 0:
            claim.status = "paid"

    def cancel(self, claim_id: str, on: date) -> None:
        claim = self.claims[claim_id]
        assert claim.status in ("open", "paid"), claim
        self._end(claim, on)

    # -- debtor's charges ---------------------------------------------------------------------------

    def charge_reminder_fee(self, claim_id: str, ore: int, on: date) -> None:
        claim = self.claims[claim_id]
        claim.fees += ore
        claim.fee_charges.append((on, ore))

    def dunning_candidates(self, on: date) -> list[Claim]:
        """The claims a dunning run on ``on`` looks at: open, owing something, on an invoice
        whose last timely payment date has passed."""
        return [
            c
            for c in self.claims.values()
            if c.status == "open"
            and c.balance > 0
            and c.invoice_due is not None
            and c.invoice_due < on
        ]

    def interest_run(self, on: date) -> dict[str, tuple[int, int]]:
        """Interest of a dunning run on ``on``: claim id -> (interest charged now, interest taken
        back now), for the public candidates; applied to the claims."""
        out: dict[str, tuple[int, int]] = {}
        for claim in self.dunning_candidates(on):
            if not claim.public:
                continue
            assert claim.invoice_due is not None
            owed = interest_owed(claim.invoice_due, on, claim.principal_changes)
            charged = claim.interest_charged - claim.interest_corrected
            if owed > charged:
                claim.interest_charged += owed - charged
                claim.fees += owed - charged
                claim.fee_charges.append((on, owed - charged))
                out[claim.claim_id] = (owed - charged, 0)
            elif owed < charged:
                back = min(charged - owed, max(claim.fees, 0))
                if back > 0:
                    claim.interest_corrected += back
                    claim.fees -= back
                    out[claim.claim_id] = (0, back)
        return out

    # -- payments ----------------------------------------------------------------------------------

    def on_day_amounts(self, claims: Sequence[Claim], paid_on: date) -> int:
        """What ``claims`` owed as they stood on ``paid_on``."""
        return sum(max(c.balance - c.later_fees(paid_on), 0) for c in claims if c.balance > 0)

    def pay(
        self, ref: str, amount: int, paid_on: date, targets: Sequence[Claim] | None, *, real: bool
    ) -> Payment:
        """A payment of ``amount`` booked ``paid_on`` for ``targets`` (any order); None: no
        claim or debtor could be found (waits for a person)."""
        assert amount > 0 and ref not in self.payments
        payment = Payment(ref, amount, paid_on, real)
        self.payments[ref] = payment
        if targets is None:
            payment.unmatched = True
            self.unmatched += amount
            return payment
        left = amount
        not_settled: list[tuple[Claim, int]] = []
        taken: dict[str, list[int]] = {}
        for claim in sorted(targets, key=Claim.order_key):
            if claim.balance <= 0:
                continue
            later = claim.later_fees(paid_on)
            fees_then = max(claim.fees - later, 0)
            owed_then = max(claim.balance - later, 0)
            pay = min(left, owed_then)
            left -= pay
            to_fees = min(fees_then, pay)
            taken[claim.claim_id] = [to_fees, pay - to_fees]
            if later > 0 and pay == owed_then:
                payment.waived[claim.claim_id] = later
            elif later > 0:
                not_settled.append((claim, later))
        for claim, later in not_settled:
            pay = min(left, later)
            if pay > 0:
                left -= pay
                taken[claim.claim_id][0] += pay
        for claim_id, (to_fees, to_principal) in taken.items():
            claim = self.claims[claim_id]
            if to_fees or to_principal:
                payment.lines.append(Line(claim_id, to_fees, to_principal))
            claim.fees -= to_fees + payment.waived.get(claim_id, 0)
            claim.principal -= to_principal
            claim.paid_fees += to_fees
            claim.paid_principal += to_principal
            if to_principal:
                claim.principal_changes.append((paid_on, -to_principal))
            if claim.balance == 0 and claim.status == "open":
                claim.status = "paid"
        payment.credit = left
        if real:
            self.credit += left
        else:
            assert left == 0, "credit pays no more than the claims owe"
            self.credit -= amount
        return payment

    def reverse(self, ref: str) -> None:
        payment = self.payments[ref]
        assert payment.real and not payment.reversed
        payment.reversed = True
        if payment.unmatched:
            self.unmatched -= payment.amount
            return
        self.credit -= payment.credit
        for line in payment.lines:
            claim = self.claims[line.claim_id]
            claim.reversed_any = True
            if claim.status == "cancelled":  # what it paid became credit when the claim ended
                self.credit -= line.fees + line.principal
                continue
            claim.fees += line.fees
            claim.principal += line.principal
            claim.paid_fees -= line.fees
            claim.paid_principal -= line.principal
            if line.principal:  # never paid: it was outstanding all along
                claim.principal_changes.append((payment.booked_on, line.principal))
        for claim_id, waived in payment.waived.items():
            claim = self.claims[claim_id]
            claim.reversed_any = True
            if claim.status != "cancelled":
                claim.fees += waived
        for claim_id in {line.claim_id for line in payment.lines} | set(payment.waived):
            claim = self.claims[claim_id]
            if claim.status == "paid" and claim.balance > 0:
                claim.status = "open"

    def refund_all(self) -> int:
        amount = self.credit
        assert amount > 0
        self.refunds += amount
        self.credit = 0
        return amount

    # -- conservation ----------------------------------------------------------------------------

    def money_in(self) -> int:
        return sum(p.amount for p in self.payments.values() if p.real and not p.reversed)

    def on_claims(self) -> int:
        return sum(c.paid_fees + c.paid_principal for c in self.claims.values())


# -- reminder letters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Letter:
    """One reminder letter as the engine made it, with the claims it reminded of."""

    reminder_id: int
    invoice_id: int
    reminder_date: date
    fee_total: int
    fee_postings: int
    """How many reminder-fee postings the letter made."""
    claims: tuple[tuple[str, bool], ...]
    """(claim id, public) of each claim on the letter."""
    pay_by: date | None
    srb: date


def letter_problems(letters: Sequence[Letter]) -> list[str]:
    """What breaks the law in these letters (empty: nothing)."""
    problems: list[str] = []
    for letter in letters:
        civil = any(not public for _, public in letter.claims)
        cap = CIVIL_LETTER_CAP if civil else PUBLIC_LETTER_CAP
        if letter.fee_total > cap:
            problems.append(
                f"letter {letter.reminder_id} of {letter.reminder_date}: fee {letter.fee_total} "
                f"above the cap {cap} ({'civil' if civil else 'public'} claims {letter.claims})"
            )
        if letter.fee_postings > 1:
            problems.append(
                f"letter {letter.reminder_id} of {letter.reminder_date}: "
                f"{letter.fee_postings} fees on one letter"
            )
        if letter.reminder_date <= letter.srb:
            problems.append(f"letter {letter.reminder_id}: reminded before the deadline passed")
    by_invoice: dict[int, list[Letter]] = {}
    for letter in letters:
        by_invoice.setdefault(letter.invoice_id, []).append(letter)
    for invoice_letters in by_invoice.values():
        ordered = sorted(invoice_letters, key=lambda x: (x.reminder_date, x.reminder_id))
        for before, after in itertools.pairwise(ordered):
            gap = (after.reminder_date - before.reminder_date).days
            if gap < REMINDER_GAP_DAYS:
                problems.append(
                    f"letters {before.reminder_id} and {after.reminder_id} of invoice "
                    f"{before.invoice_id} only {gap} days apart"
                )
            if (
                after.fee_total
                and before.pay_by is not None
                and after.reminder_date < before.pay_by
            ):
                problems.append(
                    f"letter {after.reminder_id} with fee on {after.reminder_date}, before "
                    f"letter {before.reminder_id}'s pay-by date {before.pay_by}"
                )
    civil_fee_days: dict[str, list[date]] = {}
    for letter in letters:
        if letter.fee_total:
            for claim_id, public in letter.claims:
                if not public:
                    civil_fee_days.setdefault(claim_id, []).append(letter.reminder_date)
    for claim_id, days in civil_fee_days.items():
        days.sort()
        if len(days) > CIVIL_FEE_LETTERS:
            problems.append(f"civil claim {claim_id}: {len(days)} fee-bearing letters {days}")
        for a, b in itertools.pairwise(days):
            if (b - a).days < CIVIL_FEE_GAP_DAYS:
                problems.append(f"civil claim {claim_id}: fee-bearing letters {a} and {b}")
    return problems
