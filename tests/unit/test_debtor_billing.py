"""Invoicing and dunning decisions, pure: due dates on bank days, the reminder step that is due
and its spacing, one fee per letter and the civil guard, the letter titles, the split of a claim
into principal, fees and interest, interest in integer øre, write-off rules, and the letter data
round trip."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fbs_debitor.contracts.registration import LegalBasis
from fbs_debitor.core.bankdays import is_bank_day
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.adapters.pdf import render_html
from fbs_debitor.debtor.model.billing import (
    WriteOffRule,
    add_years,
    civil_fee_allowed,
    claim_parts,
    due_date_for,
    interest_for,
    interest_to_post,
    letter_cap_ore,
    letter_fee,
    limitation_date,
    next_step,
    reminder_pay_by,
    rule_write_off,
    step_titles,
    time_barred,
)
from fbs_debitor.debtor.model.interest import interest_due
from fbs_debitor.debtor.model.rules import DebtorRules, ReminderStep
from fbs_debitor.debtor.service.writeoff import reason_for
from fbs_debitor.debtor.store.letters import letter_data, letter_from_data

RULES = DebtorRules()  # steps at 14 (free) and 34 days (100 kr, announces collection)


# -- due dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issued", "due"),
    [
        (date(2026, 5, 22), date(2026, 6, 8)),  # term ends Fri 5 June (Grundlovsdag) -> Mon 8
        (date(2026, 12, 10), date(2026, 12, 28)),  # 24 Dec, then 25, 26, 27 closed -> Mon 28
        (date(2026, 12, 17), date(2027, 1, 4)),  # 31 Dec, 1 Jan, weekend -> Mon 4 Jan
        (date(2026, 5, 1), date(2026, 5, 18)),  # Fri 15 May, the day after Ascension -> Mon 18
        (date(2026, 3, 7), date(2026, 3, 23)),  # Sat 21 March -> Mon 23
        (date(2026, 3, 2), date(2026, 3, 16)),  # a Monday stays
    ],
)
def test_due_date_is_the_next_bank_day_after_the_term(issued: date, due: date) -> None:
    assert due_date_for(issued, 14) == due
    assert is_bank_day(due)


@given(st.dates(date(2024, 1, 1), date(2030, 12, 31)), st.integers(1, 90))
def test_due_date_is_a_bank_day_within_a_week_of_the_term(issued: date, term: int) -> None:
    due = due_date_for(issued, term)
    assert is_bank_day(due)
    assert timedelta(0) <= due - (issued + timedelta(days=term)) < timedelta(days=7)


def test_a_reminder_asks_for_payment_within_ten_days_on_a_bank_day() -> None:
    assert reminder_pay_by(date(2026, 3, 30)) == date(2026, 4, 9)
    assert reminder_pay_by(date(2026, 12, 14)) == date(2026, 12, 28)  # 24 Dec -> 28 Dec


def test_limitation_counts_three_calendar_years() -> None:
    assert limitation_date(date(2026, 3, 16)) == date(2029, 3, 16)
    assert add_years(date(2028, 2, 29), 3) == date(2031, 2, 28)
    assert add_years(date(2028, 2, 29), 4) == date(2032, 2, 29)


@pytest.mark.parametrize(
    ("due", "acknowledged", "lapses"),
    [
        (date(2023, 3, 1), None, date(2026, 3, 1)),  # forældelsesloven § 3: 3 years on
        (date(2023, 3, 1), date(2024, 6, 10), date(2027, 6, 10)),  # § 14: anew from it
        (date(2023, 3, 1), date(2023, 2, 20), date(2026, 3, 1)),  # paid before it was due
        (date(2023, 3, 1), date(2023, 3, 1), date(2026, 3, 1)),
        (date(2024, 2, 29), None, date(2027, 2, 28)),  # no 29 February in 2027
        (date(2023, 3, 1), date(2024, 2, 29), date(2027, 2, 28)),
        (date(2025, 2, 28), None, date(2028, 2, 28)),  # 2028 is a leap year: still the 28th
    ],
)
def test_limitation_runs_from_the_due_date_or_the_latest_acknowledgement(
    due: date, acknowledged: date | None, lapses: date
) -> None:
    assert limitation_date(due, acknowledged) == lapses
    assert not time_barred(lapses - timedelta(days=1), due, acknowledged)
    assert time_barred(lapses, due, acknowledged)


def test_no_due_date_yet_is_never_time_barred() -> None:
    assert not time_barred(date(2099, 1, 1), None, None)
    assert not time_barred(date(2099, 1, 1), None, date(2023, 1, 1))


# -- which step ---------------------------------------------------------------------------------


SRB = date(2026, 3, 16)


def step_on(on: date, sent: int = 0, last: date | None = None) -> int | None:
    due = next_step(RULES, srb=SRB, reminders_sent=sent, last_reminder_on=last, on=on)
    return None if due is None else due[0]


def test_the_first_step_comes_on_srb_plus_its_days() -> None:
    assert step_on(SRB + timedelta(days=13)) is None
    assert step_on(SRB + timedelta(days=14)) == 1
    assert step_on(SRB + timedelta(days=33), 1, SRB + timedelta(days=14)) is None
    assert step_on(SRB + timedelta(days=34), 1, SRB + timedelta(days=14)) == 2
    assert step_on(SRB + timedelta(days=400), 2, SRB + timedelta(days=34)) is None


def test_one_step_per_date_and_never_before_the_previous_letters_deadline() -> None:
    late = SRB + timedelta(days=60)  # 15 May 2026
    assert step_on(late) == 1
    assert step_on(late, 1, late) is None  # the same date again: nothing
    # the letter of 15 May asks for payment by Tue 26 May (15 + 10 days is Whit Monday); the
    # next step may come only once that has passed: 27 May, not 16 May
    assert reminder_pay_by(late) == date(2026, 5, 26)
    assert step_on(late + timedelta(days=1), 1, late) is None
    assert step_on(date(2026, 5, 26), 1, late) is None
    assert step_on(date(2026, 5, 27), 1, late) == 2


def test_the_deadline_moved_past_closed_days_holds_the_next_step_back_too() -> None:
    # a reminder on Mon 14 December 2026 asks for payment by Mon 28 December (24, 25, 26, 27
    # December closed): the next step waits until 29 December, 15 days later
    last = date(2026, 12, 14)
    rules = DebtorRules(
        reminder_steps=(
            ReminderStep(days_after_deadline=1, fee_public_ore=0, fee_civil_ore=0),
            ReminderStep(days_after_deadline=2, fee_public_ore=10000, fee_civil_ore=10000),
        )
    )

    def due(on: date) -> bool:
        return next_step(rules, srb=SRB, reminders_sent=1, last_reminder_on=last, on=on) is not None

    assert [d.day for d in (date(2026, 12, day) for day in range(15, 31)) if due(d)] == [29, 30]


def test_a_municipal_minimum_gap_above_the_deadline() -> None:
    rules = DebtorRules(min_days_between_reminders=21)
    last = SRB + timedelta(days=14)  # 30 March; pays by 9 April
    on_day = [
        next_step(rules, srb=SRB, reminders_sent=1, last_reminder_on=last, on=last + timedelta(n))
        is not None
        for n in (11, 20, 21)
    ]
    assert on_day == [False, False, True]


# -- one fee per letter and the civil guard -------------------------------------------------------

FEE_STEP = ReminderStep(days_after_deadline=20, fee_public_ore=25000, fee_civil_ore=10000)
ON = date(2026, 5, 1)
PUB = LegalBasis.PUBLIC
CIV = LegalBasis.CIVIL


def test_one_fee_per_letter_whatever_the_number_of_claims() -> None:
    three_fees = [(PUB, 0, None)] * 3
    assert letter_fee(FEE_STEP, three_fees, ON) == (25000, 0, False)  # not 3 x 250 kr
    three_charges = [(CIV, 0, None)] * 3
    assert letter_fee(FEE_STEP, three_charges, ON) == (10000, 0, False)  # not 3 x 100 kr


def test_a_mixed_letter_carries_the_lower_fee_on_its_first_civil_claim() -> None:
    mixed = [(PUB, 0, None), (PUB, 0, None), (CIV, 0, None), (CIV, 0, None)]
    assert letter_fee(FEE_STEP, mixed, ON) == (10000, 2, False)
    cheap_public = ReminderStep(days_after_deadline=20, fee_public_ore=5000, fee_civil_ore=10000)
    assert letter_fee(cheap_public, mixed, ON) == (5000, 2, False)


@pytest.mark.parametrize(
    ("count", "last", "allowed"),
    [
        (0, None, True),
        (2, ON - timedelta(days=10), True),
        (2, ON - timedelta(days=9), False),  # two within 10 days
        (3, ON - timedelta(days=100), False),  # a fourth fee reminder
    ],
)
def test_civil_guard(count: int, last: date | None, allowed: bool) -> None:
    assert civil_fee_allowed(count, last, ON) is allowed
    assert letter_fee(FEE_STEP, [(CIV, count, last)], ON) == (
        (10000, 0, False) if allowed else (0, -1, True)
    )
    # the letter reminds of every civil claim on it: one held back holds the fee back
    letter = [(PUB, 0, None), (CIV, 0, None), (CIV, count, last)]
    assert letter_fee(FEE_STEP, letter, ON) == ((10000, 1, False) if allowed else (0, -1, True))
    # public claims have no count
    assert letter_fee(FEE_STEP, [(PUB, count, last)], ON) == (25000, 0, False)


def test_a_free_step_withholds_nothing() -> None:
    free = ReminderStep(days_after_deadline=14, fee_public_ore=0, fee_civil_ore=0)
    assert letter_fee(free, [(CIV, 3, ON)], ON) == (0, -1, False)
    assert letter_fee(free, [(PUB, 0, None)], ON) == (0, -1, False)


def test_the_cap_of_a_letter() -> None:
    assert letter_cap_ore([PUB, PUB]) == 25000
    assert letter_cap_ore([PUB, CIV]) == 10000
    assert letter_cap_ore([CIV]) == 10000


def test_titles_paamindelse_then_numbered_rykkers() -> None:
    assert step_titles(RULES) == ("Påmindelse", "1. rykker")

    def steps(*fees: int) -> DebtorRules:
        return DebtorRules(
            reminder_steps=tuple(
                ReminderStep(days_after_deadline=10 * (i + 1), fee_public_ore=f, fee_civil_ore=0)
                for i, f in enumerate(fees)
            )
        )

    assert step_titles(steps(0, 0, 100, 0, 100)) == (
        "Påmindelse",
        "Påmindelse",
        "1. rykker",
        "2. rykker",  # a free step after the first fee is still a numbered rykker
        "3. rykker",
    )
    assert step_titles(steps(100, 100)) == ("1. rykker", "2. rykker")


# -- a claim's parts on a letter -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("balance", "principal", "fees", "interest", "parts"),
    [
        # a 125 kr. charge
        (12500, 12500, 0, 0, (12500, 0, 0)),
        # with a 100 kr. fee and 1,25 kr. interest
        (22625, 12500, 10000, 125, (12500, 10000, 125)),
        # 50 kr. paid before any fee: it is off the principal
        (17500, 7500, 10000, 0, (7500, 10000, 0)),
        # 50 kr. paid after a 100 kr. fee and 1,25 kr. interest: off the fee first
        (17625, 12500, 10000, 125, (12500, 5000, 125)),
        # 101 kr. paid: the fee, then 1 kr. of the interest
        (12525, 12500, 10000, 125, (12500, 0, 25)),
        # 150 kr. paid: fee and interest, then 48,75 kr. of the principal
        (7625, 7625, 10000, 125, (7625, 0, 0)),
        # a write-down of 25 kr. and a part write-off of 10 kr. take the principal
        (19000, 9000, 10000, 0, (9000, 10000, 0)),
    ],
)
def test_claim_parts(
    balance: int, principal: int, fees: int, interest: int, parts: tuple[int, int, int]
) -> None:
    assert claim_parts(balance, principal, fees, interest) == parts
    assert sum(parts) == balance


# -- interest -------------------------------------------------------------------------------------


@given(
    st.integers(-1000, 10**9),
    st.dates(date(2024, 1, 1), date(2030, 12, 31)),
    st.integers(-40, 2000),
)
def test_integer_interest_equals_interest_due(principal: int, due: date, days: int) -> None:
    on = due + timedelta(days=days)
    assert interest_for(principal, due, on) == interest_due(Money(principal), due, on).ore


def test_interest_to_post_is_the_difference_and_never_negative() -> None:
    due = date(2026, 3, 16)
    assert interest_to_post(12345, due, date(2026, 3, 16), 0) == 0
    assert interest_to_post(12345, due, date(2026, 3, 17), 0) == 123  # 123,45 øre -> 123
    assert interest_to_post(12345, due, date(2026, 4, 17), 123) == 124  # 246,90 -> 247 - 123
    assert interest_to_post(100, due, date(2026, 4, 17), 500) == 0  # written down: no refund


# -- write-off rules ------------------------------------------------------------------------------


def rule(on: date, balance: int, *, rules: DebtorRules = RULES, **kw: object) -> object:
    args: dict[str, object] = {
        "claim_due": SRB,
        "acknowledged_on": None,
        "srb": SRB,
        "reminders_sent": 2,
        "last_reminder_on": SRB + timedelta(days=34),
        "under_agreement": False,
    }
    args.update(kw)
    return rule_write_off(rules, on=on, balance_ore=balance, **args)  # type: ignore[arg-type]


def test_limitation_three_years_after_the_due_date() -> None:
    assert rule(date(2029, 3, 15), 5000) is None
    assert rule(date(2029, 3, 16), 5000) is WriteOffRule.LIMITATION
    assert rule(date(2029, 3, 16), 5000, under_agreement=True) is None
    no_limit = DebtorRules(write_off_limitation=False)
    assert rule(date(2035, 1, 1), 5000, rules=no_limit) is None


def test_limitation_after_an_acknowledgement_counts_from_it() -> None:
    # claim due 16 March 2026, part payment booked 10 June 2027: 10 June 2030
    paid = date(2027, 6, 10)
    assert rule(date(2029, 3, 16), 5000, acknowledged_on=paid) is None
    assert rule(date(2030, 6, 9), 5000, acknowledged_on=paid) is None
    assert rule(date(2030, 6, 10), 5000, acknowledged_on=paid) is WriteOffRule.LIMITATION
    assert rule(date(2035, 1, 1), 5000, claim_due=None) is None  # no due date yet


def test_limitation_reason_names_the_law_and_the_day_it_lapsed() -> None:
    assert reason_for(WriteOffRule.LIMITATION, due_date=date(2023, 3, 1)) == (
        "Forældet 2026-03-01 efter forældelsesloven § 3 (forfald 2023-03-01)"
    )
    assert reason_for(
        WriteOffRule.LIMITATION, due_date=date(2023, 3, 1), acknowledged_on=date(2024, 6, 10)
    ) == (
        "Forældet 2027-06-10 efter forældelsesloven § 3 "
        "(forfald 2023-03-01, afbrudt ved erkendelse 2024-06-10 (§ 14))"
    )


def test_below_minimum_only_after_the_last_reminder_went_out_on_an_earlier_date() -> None:
    small = DebtorRules(write_off_below_ore=5000)
    last = SRB + timedelta(days=34)
    assert rule(last + timedelta(days=1), 4999, rules=small) is WriteOffRule.BELOW_MINIMUM
    assert rule(last + timedelta(days=1), 5000, rules=small) is None
    assert rule(last, 4999, rules=small) is None  # the day of the last reminder
    assert rule(last + timedelta(days=1), 4999, rules=small, reminders_sent=1) is None
    assert rule(last + timedelta(days=1), 4999, rules=small, under_agreement=True) is None
    assert rule(last + timedelta(days=1), 4999) is None  # minimum 0: never


# -- letters as data ------------------------------------------------------------------------------


def test_letter_data_round_trips_to_the_same_letter() -> None:
    data = letter_data(
        kind="reminder",
        municipality_name="København",
        debtor_masked="010180-XXXX",
        letter_date=date(2026, 3, 30),
        due_date=SRB,
        last_timely_payment_date=SRB,
        payment_id="000000000000018",
        creditor_number="89123456",
        code_line="+71<000000000000018+89123456<",
        lines=[("Gebyr (fee-1)", 12500, ("Kaninen",)), ("Rykkergebyr (fee-1)", 10000, ())],
        reminder_number=2,
        announces_collection=True,
        reference="Opkrævning nr. 1",
        pay_by=date(2026, 4, 9),
    )
    letter = letter_from_data(data)
    assert letter.total == Money(22500)
    assert letter.title == "Rykker 2"  # a letter stored before titles were: as it was titled
    assert letter_from_data({**data, "title": "1. rykker"}).title == "1. rykker"
    html = render_html(letter)
    assert "9. april 2026" in html  # the reminder's own date to pay by
    assert "Gældsstyrelsen" in html
