"""Invoicing and dunning decisions, pure (no I/O): due dates, which reminder step is due, the fee
a claim may get, interest to post, and which write-off rule applies.

The dates (DOMAIN.md, rules.py):

* **due date** = ``next_bank_day(issue date + payment_term_days)``; the **last timely payment
  date** (SRB) is the due date itself (the municipality gives no grace days);
* a reminder step is **due** when ``on >= SRB + step.days_after_deadline``; an invoice gets at
  most **one step per date**, so a run that is days late catches up one step per later run and
  re-running a date changes nothing;
* a **civil** claim (replacement charge) gets a step's fee only while it has had fewer than three
  fee-bearing reminders and the last was at least ten days ago (renteloven § 9 b). The rules
  refuse settings beyond that, but a run checks it again per claim, because rules can change
  between runs (three fee steps under the old rules plus one under the new would make a fourth);
  a withheld fee still sends the reminder, without fee for that claim;
* **interest** (when enabled, public claims only) is ``interest_due(principal, due date, on)``
  minus what was posted before; never negative (a write-down after interest does not refund it)
  and never on interest or fees, since the principal counts charge and regulations only (less
  write-offs, which settle the principal first);
* **write-off by rule**: limitation (:func:`limitation_date`: 3 years after the claim's own due
  date or the debtor's latest acknowledgement, forældelsesloven §§ 3 and 14), or a balance
  below ``write_off_below_ore`` once the last reminder step has gone out on an earlier date. A
  running payment agreement holds both back. A deceased debtor's claims are written off whatever
  else. A time-barred claim (:func:`time_barred`) is never invoiced or reminded, whether or not
  the rules write it off.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

from fbs_debitor.contracts.registration import LegalBasis
from fbs_debitor.core.bankdays import next_bank_day
from fbs_debitor.debtor.model.interest import interest_for
from fbs_debitor.debtor.model.rules import (
    LIMITATION_YEARS,
    MAX_FEE_REMINDERS_CIVIL,
    MIN_DAYS_BETWEEN_FEE_REMINDERS_CIVIL,
    DebtorRules,
    ReminderStep,
)

REMINDER_PAY_DAYS = 10
"""A reminder asks for payment within this many days (moved to the next bank day)."""


class WriteOffRule(StrEnum):
    """Why a write-off was made."""

    MANUAL = "manual"
    """By hand, by a member of staff (reason and name stored)."""
    BELOW_MINIMUM = "below_minimum"
    """The balance is below the municipality's minimum after the last reminder."""
    LIMITATION = "limitation"
    """Time-barred: three years after the claim's own due date or the debtor's latest
    acknowledgement (forældelsesloven §§ 3, 14)."""
    DECEASED = "deceased"
    """The debtor died (the account is flagged by staff)."""
    INTEREST_CORRECTION = "interest_correction"
    """Interest added for months whose principal a payment had already paid (by the payment's
    own date; it reached debtor later): taken back."""
    PAID_IN_TIME = "paid_in_time"
    """Reminder fees and interest that arose after the day a payment settled the claim (the
    payment reached debtor later): not owed."""


def due_date_for(issue_date: date, payment_term_days: int) -> date:
    """The due date of an invoice issued on ``issue_date``: the payment term later, moved to the
    next bank day. It is also the last timely payment date (SRB)."""
    return next_bank_day(issue_date + timedelta(days=payment_term_days))


@lru_cache(maxsize=256)
def reminder_pay_by(letter_date: date) -> date:
    """The date a reminder sent on ``letter_date`` asks the debtor to pay by."""
    return next_bank_day(letter_date + timedelta(days=REMINDER_PAY_DAYS))


def add_years(d: date, years: int) -> date:
    """``d`` moved ``years`` calendar years; 29 February becomes 28 February in a common year."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


@lru_cache(maxsize=4096)
def limitation_date(due_date: date, acknowledged_on: date | None = None) -> date:
    """The first day a claim is time-barred: 3 years (forældelsesloven § 3) after the later of

    * ``due_date``, the claim's *own* due date (the library's, carried in the registration; when
      the library sent none, the due date of the claim's first invoice, never a later one: a
      change of debtor and its new invoice do not restart limitation), and
    * ``acknowledged_on``, the debtor's latest acknowledgement of the claim (a part payment's
      booking date, the day a payment agreement covering it was made), which interrupts
      limitation: a new period of the same length runs from it (§ 14).

    29 February counts on to 28 February in a common year (:func:`add_years`)."""
    start = due_date if acknowledged_on is None or acknowledged_on < due_date else acknowledged_on
    return add_years(start, LIMITATION_YEARS)


def time_barred(on: date, due_date: date | None, acknowledged_on: date | None) -> bool:
    """Whether a claim is time-barred on ``on`` (:func:`limitation_date`); a claim without a due
    date yet (never invoiced, none from the library) is not."""
    return due_date is not None and on >= limitation_date(due_date, acknowledged_on)


def next_step(
    rules: DebtorRules,
    *,
    srb: date,
    reminders_sent: int,
    last_reminder_on: date | None,
    on: date,
) -> tuple[int, ReminderStep] | None:
    """The reminder step to apply to an invoice on ``on`` as (step number from 1, step), or None.

    ``reminders_sent`` is the highest step number the invoice has had (0: none);
    ``last_reminder_on`` the date of its latest reminder. One step per invoice per date.
    """
    if reminders_sent >= len(rules.reminder_steps):
        return None
    if last_reminder_on is not None and last_reminder_on >= on:
        return None
    step = rules.reminder_steps[reminders_sent]
    if on < srb + timedelta(days=step.days_after_deadline):
        return None
    return reminders_sent + 1, step


def civil_fee_allowed(fee_reminders: int, last_fee_on: date | None, on: date) -> bool:
    """Whether a civil claim may get a reminder fee on ``on`` (renteloven § 9 b): fewer than three
    fee-bearing reminders so far, the last at least ten days before."""
    if fee_reminders >= MAX_FEE_REMINDERS_CIVIL:
        return False
    return last_fee_on is None or (on - last_fee_on).days >= MIN_DAYS_BETWEEN_FEE_REMINDERS_CIVIL


def fee_for_claim(
    step: ReminderStep,
    basis: LegalBasis,
    *,
    fee_reminders: int,
    last_fee_on: date | None,
    on: date,
) -> tuple[int, bool]:
    """(the fee in øre this claim gets on this step, whether the civil guard withheld a fee)."""
    fee = step.fee_public_ore if basis is LegalBasis.PUBLIC else step.fee_civil_ore
    if fee == 0 or basis is not LegalBasis.CIVIL:
        return fee, False
    if civil_fee_allowed(fee_reminders, last_fee_on, on):
        return fee, False
    return 0, True


def interest_to_post(principal_ore: int, due_date: date, on: date, posted_ore: int) -> int:
    """The interest posting in øre due on ``on`` (0 if none): what the principal has earned
    since the due date minus what was posted; never negative."""
    owed = interest_for(principal_ore, due_date, on) - posted_ore
    return owed if owed > 0 else 0


def rule_write_off(
    rules: DebtorRules,
    *,
    on: date,
    balance_ore: int,
    claim_due: date | None,
    acknowledged_on: date | None,
    srb: date,
    reminders_sent: int,
    last_reminder_on: date | None,
    under_agreement: bool,
) -> WriteOffRule | None:
    """The rule that writes an open claim off on ``on`` (not the deceased rule, which needs no
    decision), or None.

    ``claim_due`` is the claim's own due date and ``acknowledged_on`` the debtor's latest
    acknowledgement (:func:`limitation_date`), not the due date of the invoice the claim is on
    now. With ``write_off_limitation`` off a time-barred claim gets no rule here: the caller
    holds it (:func:`time_barred`), it is neither invoiced nor reminded, and waits for a person."""
    if balance_ore <= 0 or under_agreement:
        return None
    if rules.write_off_limitation and time_barred(on, claim_due, acknowledged_on):
        return WriteOffRule.LIMITATION
    if balance_ore < rules.write_off_below_ore:
        steps = len(rules.reminder_steps)
        if steps == 0 and on > srb:
            return WriteOffRule.BELOW_MINIMUM
        last_done = steps and reminders_sent >= steps and last_reminder_on is not None
        if last_done and last_reminder_on is not None and last_reminder_on < on:
            return WriteOffRule.BELOW_MINIMUM
    return None
