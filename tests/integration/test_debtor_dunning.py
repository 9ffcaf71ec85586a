"""The dunning run over a moving clock, on SQLite and PostgreSQL: reminders on exactly the right
days with the right fee per legal basis, never beyond the law, never on claims that are paid,
cancelled, written off or under a payment agreement; interest to the øre; idempotent per date.

Claims registered on Monday 2 March 2026 are due (and have their SRB) on Monday 16 March. The
default steps: a free reminder 14 days after the SRB (30 March) and one with 100 kr on either
kind of claim 34 days after it (19 April), announcing hand-over to collection. A reminder asks
for payment within 10 days (the next bank day); the next one waits until that has passed.
Easter 2026: 2-6 April (Maundy Thursday to Easter Monday); Whit Monday 25 May.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from fbs_debitor.debtor.model.billing import interest_for
from fbs_debitor.debtor.service.agreements import set_payment_agreement
from fbs_debitor.debtor.service.dunning import run_dunning
from fbs_debitor.debtor.service.writeoff import write_off_by_hand
from fbs_debitor.debtor.store.tables import letters, postings, reminders
from tests.integration.debtor_billing_support import (
    CVR,
    OTHER_CPR,
    Desk,
    K,
)

SRB = date(2026, 3, 16)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def reminder_days(desk: Desk, claim_id: str) -> list[tuple[int, date, int]]:
    """(step, date, fee total) of the reminders of the claim's invoice."""
    return [
        (r["number"], r["date"], r["fee_total_ore"]) for r in desk.invoice_of(claim_id)["reminders"]
    ]


def fees(desk: Desk, claim_id: str) -> list[tuple[int, date]]:
    return [(ore, on) for _, ore, on in desk.postings(claim_id, "reminder_fee")]


def snapshot(desk: Desk) -> dict[str, Any]:
    with desk.system.db.connect() as conn:
        return {
            t.name: sorted(tuple(str(v) for v in r) for r in conn.execute(select(t)))
            for t in (reminders, postings, letters)
        }


def test_reminders_come_on_exactly_the_right_days_over_a_year(desk: Desk) -> None:
    desk.register("fee-1", 12500)  # public (gebyr)
    desk.register("erst-1", 34900, kind="compensation")  # civil (erstatning)
    busy = {}
    for day in days(date(2026, 3, 3), date(2027, 3, 1)):
        result = desk.dun(day)
        if result.reminders or result.postings:
            busy[day] = (result.reminders, result.fee_postings, result.fees_ore)
    assert busy == {
        date(2026, 3, 30): (2, 0, 0),  # SRB + 14: a påmindelse without fee
        date(2026, 4, 19): (2, 2, 20000),  # SRB + 34: 100 kr on each kind
    }
    for claim_id in ("fee-1", "erst-1"):
        assert reminder_days(desk, claim_id) == [
            (1, date(2026, 3, 30), 0),
            (2, date(2026, 4, 19), 10000),
        ]
        assert fees(desk, claim_id) == [(10000, date(2026, 4, 19))]
    titles = [(x["title"], x["total_ore"]) for x in reversed(desk.account()["letters"])]
    assert titles == [
        ("Opkrævning", 12500),
        ("Opkrævning", 34900),
        ("Påmindelse", 12500),
        ("Påmindelse", 34900),
        ("1. rykker", 22500),
        ("1. rykker", 44900),
    ]
    assert desk.account()["balance_ore"] == 12500 + 34900 + 2 * 10000


def test_custom_rules_charge_the_public_maximum_of_250_kr(desk: Desk) -> None:
    desk.rules(
        payment_term_days=10,
        reminder_steps=[
            {"days_after_deadline": 10, "fee_public_ore": 25000, "fee_civil_ore": 10000},
            {
                "days_after_deadline": 25,
                "fee_public_ore": 25000,
                "fee_civil_ore": 10000,
                "announces_collection": True,
            },
        ],
    )
    desk.register("fee-1", 2000)
    desk.register("ill-1", 6000, kind="interlibrary_loan")  # public too
    desk.register("erst-1", 34900, kind="compensation")
    srb = desk.invoice_of("fee-1")["last_timely_payment_date"]
    assert srb == date(2026, 3, 12)
    for day in days(date(2026, 3, 13), date(2026, 5, 31)):
        desk.dun(day)
    for claim_id, fee in (("fee-1", 25000), ("ill-1", 25000), ("erst-1", 10000)):
        assert fees(desk, claim_id) == [(fee, date(2026, 3, 22)), (fee, date(2026, 4, 6))]


def test_a_fourth_fee_reminder_on_a_civil_claim_is_refused_at_run_time(desk: Desk) -> None:
    civil_fees = [
        {"days_after_deadline": d, "fee_public_ore": 0, "fee_civil_ore": 10000}
        for d in (10, 20, 30)
    ]
    desk.rules(reminder_steps=civil_fees)
    desk.register("erst-1", 34900, kind="compensation")
    for day in days(date(2026, 3, 17), date(2026, 4, 30)):
        desk.dun(day)
    # step 1 on SRB + 10; each later one the day after the previous letter's date to pay by:
    # 26 March pays by Tue 7 April (5 and 6 April are Easter), 8 April by Mon 20 April
    assert fees(desk, "erst-1") == [
        (10000, date(2026, 3, 26)),
        (10000, date(2026, 4, 8)),
        (10000, date(2026, 4, 21)),
    ]
    # new rules, each within the law, whose fourth step would be a fourth fee on this claim
    desk.rules(
        reminder_steps=[
            {"days_after_deadline": 5, "fee_public_ore": 0, "fee_civil_ore": 0},
            {"days_after_deadline": 15, "fee_public_ore": 0, "fee_civil_ore": 10000},
            {"days_after_deadline": 25, "fee_public_ore": 0, "fee_civil_ore": 10000},
            {"days_after_deadline": 40, "fee_public_ore": 0, "fee_civil_ore": 10000},
        ]
    )
    assert desk.dun(date(2026, 5, 1)).reminders == 0  # 21 April's letter pays by 1 May
    result = desk.dun(date(2026, 5, 2))
    assert (result.reminders, result.fee_postings, result.fees_withheld) == (1, 0, 1)
    assert reminder_days(desk, "erst-1")[-1] == (4, date(2026, 5, 2), 0)
    assert len(fees(desk, "erst-1")) == 3  # never more than three (renteloven § 9 b)
    newest = desk.account()["letters"][0]
    # titled by the rules of its day: the fourth step of the new rules is their "3. rykker"
    assert newest["title"] == "3. rykker" and newest["total_ore"] == 34900 + 3 * 10000


def test_after_downtime_the_next_reminder_waits_for_the_previous_deadline(desk: Desk) -> None:
    desk.rules(
        reminder_steps=[
            {"days_after_deadline": 10, "fee_public_ore": 10000, "fee_civil_ore": 10000},
            {"days_after_deadline": 20, "fee_public_ore": 10000, "fee_civil_ore": 10000},
        ]
    )
    desk.register("erst-1", 34900, kind="compensation")
    desk.register("fee-1", 12500)
    late = SRB + timedelta(days=25)  # Fri 10 April: the run was down for days, both steps due
    assert desk.dun(late).reminders == 2  # step 1 only
    # it asked for payment by Mon 20 April; until that has passed, nothing (not a fee a day)
    for day in days(late + timedelta(days=1), date(2026, 4, 20)):
        assert desk.dun(day).reminders == 0, day
    assert desk.dun(date(2026, 4, 21)).reminders == 2
    for claim_id in ("erst-1", "fee-1"):
        assert fees(desk, claim_id) == [(10000, late), (10000, date(2026, 4, 21))]
        assert [r[:2] for r in reminder_days(desk, claim_id)] == [
            (1, late),
            (2, date(2026, 4, 21)),
        ]


def test_never_reminded_paid_cancelled_written_off_or_under_agreement(desk: Desk) -> None:
    desk.register("paid", 12500)
    desk.register("cancelled", 12500)
    desk.register("written-off", 12500)
    desk.register("agreed", 12500, debtor=OTHER_CPR)
    desk.register("normal", 12500, debtor=CVR, id_type="cvr")
    desk.write_down("paid", 12500)  # the library wrote it down to zero
    desk.cancel("cancelled")
    with desk.system.db.begin() as conn:
        write_off_by_hand(conn, desk.clock, K, "written-off", amount=None, reason="Fejl", by="ab")
        set_payment_agreement(
            conn, desk.clock, K, OTHER_CPR, until=date(2026, 4, 30), note="50 kr om måneden"
        )
    first = desk.dun(date(2026, 3, 30))
    assert (first.reminders, first.held_by_agreement) == (1, 1)
    desk.dun(date(2026, 4, 19))
    for claim_id in ("paid", "cancelled", "written-off"):
        assert desk.invoice_of(claim_id)["reminders"] == []
    assert desk.invoice_of("agreed", OTHER_CPR)["reminders"] == []
    normal = desk.account(CVR)["invoices"][0]["reminders"]
    assert [(r["number"], r["date"]) for r in normal] == [
        (1, date(2026, 3, 30)),
        (2, date(2026, 4, 19)),
    ]
    # the agreement ran until 30 April; from 1 May the procedure resumes, but its second step
    # (overdue since 19 April) waits until the first letter's date to pay by, Mon 11 May, has
    # passed: not a fee-bearing reminder the day after the first (renteloven § 9 b)
    for day in days(date(2026, 4, 30), date(2026, 5, 31)):
        desk.dun(day)
    agreed = desk.invoice_of("agreed", OTHER_CPR)["reminders"]
    assert [(r["number"], r["date"], r["fee_total_ore"]) for r in agreed] == [
        (1, date(2026, 5, 1), 0),
        (2, date(2026, 5, 12), 10000),
    ]
    assert desk.account(OTHER_CPR)["payment_agreement"]["active"] is False


def test_no_reminder_and_no_fee_below_the_municipal_minimum(desk: Desk) -> None:
    desk.rules(reminder_min_ore=5000)  # 50 kr
    desk.register("small", 2000)
    desk.register("large", 6000, debtor=OTHER_CPR)
    result = desk.dun(date(2026, 4, 19))  # both past their deadline, the fee step due
    assert (result.reminders, result.below_reminder_minimum) == (1, 1)
    assert desk.invoice_of("small")["reminders"] == []
    assert fees(desk, "small") == []
    assert [r["number"] for r in desk.invoice_of("large", OTHER_CPR)["reminders"]] == [1]


def test_rerunning_a_date_changes_nothing(desk: Desk) -> None:
    desk.rules(interest_enabled=True)
    desk.register("fee-1", 12500)
    desk.register("erst-1", 34900, kind="compensation")
    for day in (date(2026, 3, 30), date(2026, 4, 19), date(2026, 6, 1)):
        desk.dun(day)
        before = snapshot(desk)
        again = desk.dun(day)
        assert (again.reminders, again.postings, again.letters) == (0, 0, 0)
        assert snapshot(desk) == before


def test_one_step_per_run_when_several_are_due(desk: Desk) -> None:
    desk.register("fee-1", 12500)
    assert desk.dun(date(2026, 5, 1)).reminders == 1  # steps 1 and 2 are both due
    assert reminder_days(desk, "fee-1") == [(1, date(2026, 5, 1), 0)]
    assert desk.dun(date(2026, 5, 1)).reminders == 0
    assert desk.dun(date(2026, 5, 2)).reminders == 0  # 1 May's letter pays by Mon 11 May
    assert desk.dun(date(2026, 5, 11)).reminders == 0
    assert desk.dun(date(2026, 5, 12)).reminders == 1
    assert reminder_days(desk, "fee-1")[-1] == (2, date(2026, 5, 12), 10000)
    assert desk.dun(date(2026, 5, 13)).reminders == 0


def test_interest_to_the_ore_over_months_never_on_interest_or_fees(desk: Desk) -> None:
    desk.rules(interest_enabled=True)
    desk.register("fee-1", 12345)
    desk.register("erst-1", 10000, kind="compensation")
    posted: list[tuple[date, int]] = []

    def run(day: date) -> None:
        result = desk.dun(day)
        if result.interest_postings:
            posted.append((day, result.interest_ore))

    for day in (date(2026, 3, 16), date(2026, 3, 17), date(2026, 4, 16), date(2026, 4, 17)):
        run(day)
    run(date(2026, 4, 19))  # the reminder with a 100 kr fee: no interest on it
    run(date(2026, 5, 17))
    desk.today(date(2026, 5, 20))
    desk.write_up("fee-1", 1000)  # the principal is 133,45 kr. from here
    for month in range(6, 13):
        run(date(2026, month, 16))
        run(date(2026, month, 17))
    assert posted == [
        (date(2026, 3, 17), 123),  # 1 month: 123,45 øre -> 123
        (date(2026, 4, 17), 124),  # 2 months: 246,90 -> 247
        (date(2026, 5, 17), 123),  # 3 months: 370,35 -> 370
        # the write-up of 20 May counts from its own day, not back to the due date: months 4
        # on (from 17 June) run on 13345, 133,45 øre each
        (date(2026, 6, 17), 134),  # 370,35 + 133,45 = 503,80 -> 504
        (date(2026, 7, 17), 133),  # 637,25 -> 637
        (date(2026, 8, 17), 134),  # 770,70 -> 771
        (date(2026, 9, 17), 133),  # 904,15 -> 904
        (date(2026, 10, 17), 134),  # 1037,60 -> 1038
        (date(2026, 11, 17), 133),  # 1171,05 -> 1171
        (date(2026, 12, 17), 134),  # 10 months: 1304,50 -> 1305 (half up)
    ]
    total = sum(ore for _, ore, _ in desk.postings("fee-1", "interest"))
    assert total == 1305 == interest_for(12345, SRB, date(2026, 5, 17)) + 935
    assert desk.postings("erst-1", "interest") == []  # no interest on civil claims
    assert desk.claim("fee-1")["balance_ore"] == 12345 + 1000 + 10000 + 1305


def test_interest_is_off_by_default(desk: Desk) -> None:
    desk.register("fee-1", 12345)
    assert desk.dun(date(2026, 9, 1)).interest_postings == 0


def test_a_run_for_one_municipality_leaves_the_others(desk: Desk) -> None:
    desk.register("fee-1", 12500)
    with desk.system.db.begin() as conn:
        result = run_dunning(conn, desk.clock, date(2026, 3, 30), "461")
    assert (result.municipalities, result.reminders) == (0, 0)
    with desk.system.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(reminders)).scalar_one() == 0
