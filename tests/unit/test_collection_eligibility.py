"""Eligibility for hand-over to PSRM, pure, against an independent reference of the rules in
DOMAIN.md ("Rules of collection"): after the last timely payment date, after the reminder
procedure (last step sent, its deadline passed), after the debtor was told in writing, at least
the municipality's minimum, the kind mapped, a replacement charge acknowledged, once, no payment
agreement, not time-barred, the debtor neither a minor nor deceased."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from fbs_debitor.collection.model.actions import action_for, fordring_of, from_body, to_body
from fbs_debitor.collection.model.eligibility import Reason, Record, evaluate, reasons
from fbs_debitor.collection.model.psrm import Aktion, FordringAktion
from fbs_debitor.contracts.collection import Change, CollectionFacts, CollectionTerms

TERMS = CollectionTerms(
    municipality="461", min_ore=10000, days_after_deadline=120, reminder_steps=2
)
SRB = date(2026, 1, 15)

# A claim for which every condition holds from 2026-05-15 (SRB + 120 days) on.
BASE = CollectionFacts(
    municipality="461",
    claim_id="F-1",
    claim_kind="fee",
    legal_basis="public",
    psrm_claim_type="BIBLIOTEK",
    acknowledged=False,
    created_on=date(2025, 12, 20),
    due_date=SRB,
    last_timely_payment_date=SRB,
    principal_ore=20000,
    fees_ore=10000,
    interest_ore=0,
    reminders_sent=2,
    last_reminder_pay_by=date(2026, 3, 1),
    announced_on=date(2026, 2, 18),
    agreement_until=None,
    limitation_date=date(2029, 1, 15),
    debtor_id_type="cpr",
    debtor_id="0101801234",
    deceased_on=None,
)


def first_day(f: CollectionFacts, terms: CollectionTerms) -> date | None:
    """The reference: the first day all conditions hold (None: never)."""
    if f.psrm_claim_type in ("", "-") or (f.legal_basis == "civil" and not f.acknowledged):
        return None
    if f.last_timely_payment_date is None or f.reminders_sent < terms.reminder_steps:
        return None
    if f.announced_on is None or f.deceased_on is not None:
        return None
    if f.principal_ore + f.fees_ore + f.interest_ore < terms.min_ore:
        return None
    days = [
        f.last_timely_payment_date + timedelta(days=1),
        f.last_timely_payment_date + timedelta(days=terms.days_after_deadline),
        f.announced_on + timedelta(days=1),
    ]
    if f.last_reminder_pay_by is not None:
        days.append(f.last_reminder_pay_by + timedelta(days=1))
    if f.agreement_until is not None:
        days.append(f.agreement_until + timedelta(days=1))
    if f.debtor_id_type == "cpr":
        d, m, y = int(f.debtor_id[:2]), int(f.debtor_id[2:4]), int(f.debtor_id[4:6])
        seventh = int(f.debtor_id[6])
        century = 2000 if (seventh >= 4 and y <= 36) or (seventh >= 5 and y <= 57) else 1900
        days.append(date(century + y + 18, m, d))
    first = max(days)
    if f.limitation_date is not None and first >= f.limitation_date:
        return None
    return first


def eligible(f: CollectionFacts, on: date, terms: CollectionTerms = TERMS) -> bool:
    return not reasons(f, terms, on)


def assert_first_day(f: CollectionFacts, expected: date, why: Reason) -> None:
    assert first_day(f, TERMS) == expected  # the reference agrees with the case
    assert not eligible(f, expected - timedelta(days=1))
    assert why in reasons(f, TERMS, expected - timedelta(days=1))
    assert eligible(f, expected)
    assert eligible(f, expected + timedelta(days=1))


def test_the_hand_over_day_is_the_srb_plus_the_municipalitys_days() -> None:
    assert_first_day(BASE, SRB + timedelta(days=120), Reason.HAND_OVER_DAY_NOT_REACHED)


def test_the_last_timely_payment_date_must_have_passed() -> None:
    terms = replace(TERMS, days_after_deadline=0)
    f = replace(BASE, last_reminder_pay_by=None, announced_on=SRB - timedelta(days=5))
    f = replace(f, reminders_sent=0)
    t = replace(terms, reminder_steps=0)
    assert reasons(f, t, SRB) == [Reason.SRB_NOT_PASSED]
    assert reasons(f, t, SRB + timedelta(days=1)) == []


def test_the_last_reminders_deadline_must_have_passed() -> None:
    f = replace(BASE, last_reminder_pay_by=date(2026, 6, 30))
    assert_first_day(f, date(2026, 7, 1), Reason.REMINDERS_NOT_COMPLETE)


def test_every_step_of_the_procedure_must_have_been_sent() -> None:
    f = replace(BASE, reminders_sent=1)
    assert first_day(f, TERMS) is None
    assert Reason.REMINDERS_NOT_COMPLETE in reasons(f, TERMS, date(2027, 1, 1))


def test_the_debtor_must_have_been_told_in_writing_before_the_day() -> None:
    f = replace(BASE, announced_on=date(2026, 8, 3))
    assert_first_day(f, date(2026, 8, 4), Reason.NOT_ANNOUNCED)
    assert Reason.NOT_ANNOUNCED in reasons(
        replace(BASE, announced_on=None), TERMS, date(2027, 1, 1)
    )


def test_the_balance_must_reach_the_minimum() -> None:
    day = date(2026, 6, 1)
    assert eligible(replace(BASE, principal_ore=0, fees_ore=10000), day)
    assert reasons(replace(BASE, principal_ore=0, fees_ore=9999), TERMS, day) == [
        Reason.BELOW_MINIMUM
    ]


@pytest.mark.parametrize("claim_type", ["", "-", "  "])
def test_an_unmapped_claim_type_is_never_handed_over(claim_type: str) -> None:
    f = replace(BASE, psrm_claim_type=claim_type)
    assert reasons(f, TERMS, date(2026, 6, 1)) == [Reason.CLAIM_TYPE_UNMAPPED]


def test_a_replacement_charge_only_when_acknowledged_and_it_waits_for_a_person() -> None:
    civil = replace(BASE, claim_kind="compensation", legal_basis="civil")
    day = date(2026, 6, 1)
    assert reasons(civil, TERMS, day) == [Reason.UNACKNOWLEDGED]
    assert eligible(replace(civil, acknowledged=True), day)
    ev = evaluate([civil, BASE], TERMS, day, {})
    assert [f.claim_id for f in ev.eligible] == ["F-1"]
    assert ev.waiting == [("F-1", Reason.UNACKNOWLEDGED)]


def test_a_running_payment_agreement_holds_it_until_the_day_after() -> None:
    f = replace(BASE, agreement_until=date(2026, 9, 30))
    assert_first_day(f, date(2026, 10, 1), Reason.PAYMENT_AGREEMENT)


def test_a_time_barred_claim_stops_being_eligible_on_its_limitation_date() -> None:
    f = replace(BASE, limitation_date=date(2026, 7, 1))
    assert eligible(f, date(2026, 6, 30))
    assert reasons(f, TERMS, date(2026, 7, 1)) == [Reason.TIME_BARRED]


def test_a_minor_becomes_eligible_on_the_18th_birthday() -> None:
    # born 2008-06-10 (seventh digit 4, year 08: the 2000s)
    f = replace(BASE, debtor_id="1006084321")
    assert_first_day(f, date(2026, 6, 10), Reason.DEBTOR_MINOR)


def test_born_on_29_february_is_of_age_on_1_march() -> None:
    f = replace(BASE, debtor_id="2902084321", limitation_date=date(2030, 1, 1))
    assert Reason.DEBTOR_MINOR in reasons(f, TERMS, date(2026, 2, 28))
    assert Reason.DEBTOR_MINOR not in reasons(f, TERMS, date(2026, 3, 1))
    assert eligible(f, date(2026, 5, 15))


def test_a_company_has_no_age() -> None:
    assert eligible(replace(BASE, debtor_id_type="cvr", debtor_id="13585628"), date(2026, 5, 15))


def test_a_deceased_debtor_is_never_handed_over() -> None:
    f = replace(BASE, deceased_on=date(2026, 3, 3))
    assert reasons(f, TERMS, date(2026, 6, 1)) == [Reason.DEBTOR_DECEASED]


def test_a_claim_collection_holds_is_not_handed_over_again_and_a_returned_one_waits() -> None:
    day = date(2026, 6, 1)
    assert reasons(BASE, TERMS, day, Record.HELD) == [Reason.ALREADY_HANDED_OVER]
    assert reasons(BASE, TERMS, day, Record.RETURNED) == [Reason.RETURNED_BY_PSRM]
    assert reasons(BASE, TERMS, day, Record.NONE) == []
    ev = evaluate([BASE], TERMS, day, {"F-1": Record.RETURNED})
    assert ev.waiting == [("F-1", Reason.RETURNED_BY_PSRM)]


def test_the_counts_add_up_and_name_the_first_reason() -> None:
    claims = [
        BASE,
        replace(BASE, claim_id="F-2", principal_ore=100, fees_ore=0),
        replace(BASE, claim_id="F-3", last_timely_payment_date=None, due_date=None),
        replace(BASE, claim_id="F-4", deceased_on=date(2026, 1, 1), principal_ore=1, fees_ore=0),
    ]
    ev = evaluate(claims, TERMS, date(2026, 6, 1), {})
    assert ev.evaluated == 4
    assert [f.claim_id for f in ev.eligible] == ["F-1"]
    assert dict(ev.not_eligible) == {"below-minimum": 2, "srb-not-passed": 1}
    assert ev.evaluated == len(ev.eligible) + sum(ev.not_eligible.values())


@pytest.mark.parametrize(
    ("change", "aktion", "code", "sign"),
    [
        (Change.WRITTEN_DOWN, Aktion.NEDSKRIV, "FEJL", -1),
        (Change.COVERED, Aktion.NEDSKRIV, "INDB", -1),
        (Change.WRITTEN_UP, Aktion.OPSKRIV, None, 1),
        (Change.COVERAGE_REVERSED, Aktion.OPSKRIV, None, 1),
        (Change.CANCELLED, Aktion.TILBAGEKALD, "FEJL", 0),
        (Change.WRITTEN_OFF, Aktion.TILBAGEKALD, "ANDN", 0),
    ],
)
def test_each_change_becomes_the_psrm_action_with_its_aarsagskode(
    change: Change, aktion: Aktion, code: str | None, sign: int
) -> None:
    assert action_for(change) == (aktion, code, sign)


def test_the_claim_handed_over_carries_principal_fees_and_interest_apart_and_survives_storage() -> (
    None
):
    f = replace(BASE, interest_ore=250)
    fordring = fordring_of(f)
    assert (fordring.hovedstol_ore, fordring.gebyr_ore, fordring.rente_ore) == (20000, 10000, 250)
    assert fordring.beloeb_ore == 30250
    assert fordring.sidste_rettidige_betalingsdato == SRB
    assert fordring.periode_fra == date(2025, 12, 20)
    assert fordring.haeftelse.foraeldelsesdato == date(2029, 1, 15)
    assert fordring.haeftelse.masked == "010180-XXXX"
    action = FordringAktion(
        aktion_id="5f0c8f7e-0000-4000-8000-000000000001",
        municipality="461",
        reference="F-1",
        aktion=Aktion.OPRETFORDRING,
        virkningsdato=date(2026, 5, 15),
        fordring=fordring,
    )
    assert from_body(to_body(action)) == action
