"""Limitation (forældelse), on SQLite and PostgreSQL: a claim is time-barred 3 years after its
own due date (forældelsesloven § 3), the library's, else its first invoice's; a change of debtor
does not restart it; the debtor's acknowledgement (a part payment, a payment agreement)
interrupts it (§ 14). A time-barred claim is never invoiced or reminded, and is written off by
rule ``limitation`` with ``ClaimWrittenOff`` to the library, unless the municipality turned that
off (then it waits for a person).

Every expected date is counted by hand in the test: 3 calendar years on from the date named."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import select

from fbs_debitor.bootstrap import System
from fbs_debitor.contracts.coverage import ClaimWrittenOff, InvoiceIssued
from fbs_debitor.contracts.payment import PaymentReceived
from fbs_debitor.contracts.sending import send
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.service.agreements import set_payment_agreement
from fbs_debitor.debtor.service.dunning import DunningResult, run_write_offs
from fbs_debitor.debtor.store.tables import claims, letters, write_offs
from fbs_debitor.library.model import FeeStatus, NewFee
from fbs_debitor.library.service import accounts as library_accounts
from fbs_debitor.tenants.service import municipalities as tenants
from tests.factories import claim_registered, debtor_ref
from tests.integration.debtor_billing_support import CPR, OTHER_CPR, Desk, K
from tests.integration.leg34_support import assert_reconciled, fee_open, reverse

REGISTERED = date(2023, 2, 20)  # a Monday; the invoice's due date is 14 days on: Mon 6 March
OWN_DUE = date(2023, 3, 1)  # the library's due date of the claim
FIRST_INVOICE_DUE = date(2023, 3, 6)


def register(
    desk: Desk, claim_id: str, due: date | None, *, created_on: date | None = None
) -> None:
    """A claim of 125 kr the library registers today with its own due date ``due`` (None: none
    sent), created today unless ``created_on``."""
    desk.send(
        claim_registered(
            claim_id,
            municipality=K,
            occurred_at=desk.clock.now(),
            debtor=debtor_ref(CPR),
            amount_ore=12500,
            created_on=created_on or desk.clock.today(),
            due_date=due,
        )
    )


def write_offs_on(desk: Desk, day: date) -> DunningResult:
    """The write-off run (no reminders, no interest) on ``day``."""
    desk.today(day)
    with desk.system.db.begin() as conn:
        return run_write_offs(conn, desk.clock, day)


def claim_row(desk: Desk, claim_id: str) -> Any:
    with desk.system.db.connect() as conn:
        return conn.execute(select(claims).where(claims.c.claim_id == claim_id)).one()


def write_off_rows(desk: Desk) -> list[tuple[int, str, str, date]]:
    """(amount, rule, reason, effective date) of every write-off, in order."""
    with desk.system.db.connect() as conn:
        rows = conn.execute(
            select(
                write_offs.c.amount_ore,
                write_offs.c.rule,
                write_offs.c.reason,
                write_offs.c.effective_on,
            ).order_by(write_offs.c.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def pay(desk: Desk, claim_id: str, ore: int, booked_on: date, ref: str = "P1") -> None:
    """A bank payment with the invoice's FIK payment ID, booked on ``booked_on`` (delivered
    now, whatever day that is)."""
    payment_id = desk.invoice_of(claim_id)["payment_id"]
    with desk.system.db.begin() as conn:
        send(
            conn,
            PaymentReceived(
                municipality=K,
                occurred_at=desk.clock.now(),
                payment_ref=ref,
                channel="bank",
                booked_on=booked_on,
                amount_ore=ore,
                payment_id=payment_id,
            ),
            source="payments",
        )
    desk.system.drain()


# -- from the claim's own due date ---------------------------------------------------------------


def test_limitation_runs_from_the_claims_own_due_date_not_the_invoices(desk: Desk) -> None:
    desk.today(REGISTERED)
    register(desk, "old", OWN_DUE)
    assert desk.invoice_of("old")["due_date"] == FIRST_INVOICE_DUE  # the invoice's is later
    # 1 March 2023 + 3 years = 1 March 2026: the first day it is time-barred
    assert write_offs_on(desk, date(2026, 2, 28)).write_offs == 0
    result = write_offs_on(desk, date(2026, 3, 1))
    assert (result.write_offs, result.written_off_ore) == (1, 12500)
    assert write_off_rows(desk) == [
        (
            12500,
            "limitation",
            "Forældet 2026-03-01 efter forældelsesloven § 3 (forfald 2023-03-01)",
            date(2026, 3, 1),
        )
    ]
    assert desk.claim("old")["status"] == "written_off"
    ((written, sequence, leg),) = desk.messages(ClaimWrittenOff.MESSAGE_TYPE)
    assert (written["claim_id"], written["amount_ore"], written["remaining_ore"]) == (
        "old",
        12500,
        0,
    )
    assert "forældelsesloven § 3" in written["reason"] and "2026-03-01" in written["reason"]
    assert (sequence, leg) == (1, "leg4")


def test_without_a_due_date_from_the_library_the_first_invoices_counts(desk: Desk) -> None:
    desk.today(REGISTERED)
    register(desk, "old", None)
    # 6 March 2023 + 3 years = 6 March 2026
    assert write_offs_on(desk, date(2026, 3, 5)).write_offs == 0
    assert write_offs_on(desk, date(2026, 3, 6)).write_offs == 1
    ((_, _, reason, _),) = write_off_rows(desk)
    assert reason == "Forældet 2026-03-06 efter forældelsesloven § 3 (forfald 2023-03-06)"


def test_29_february_lapses_on_28_february(desk: Desk) -> None:
    desk.today(date(2024, 2, 12))
    register(desk, "leap", date(2024, 2, 29))
    # 29 February 2024 + 3 years: 2027 has no 29 February, so 28 February 2027
    assert write_offs_on(desk, date(2027, 2, 27)).write_offs == 0
    assert write_offs_on(desk, date(2027, 2, 28)).write_offs == 1


# -- a change of debtor does not restart it ------------------------------------------------------


def test_a_change_of_debtor_in_2025_does_not_restart_limitation(desk: Desk) -> None:
    desk.today(REGISTERED)
    register(desk, "own", OWN_DUE)
    register(desk, "none", None)
    desk.today(date(2025, 5, 5))
    desk.change_debtor("own", OTHER_CPR)
    desk.change_debtor("none", OTHER_CPR)
    # both are on a new invoice of the new debtor, due 19 May 2025 (5 May + 14 days)
    assert desk.invoice_of("own", OTHER_CPR)["due_date"] == date(2025, 5, 19)
    assert desk.invoice_of("none", OTHER_CPR)["due_date"] == date(2025, 5, 19)
    assert claim_row(desk, "none").first_invoice_due_date == FIRST_INVOICE_DUE
    # own due date 1 March 2023 -> 1 March 2026; none: first invoice 6 March 2023 -> 6 March 2026
    assert write_offs_on(desk, date(2026, 2, 28)).write_offs == 0
    assert write_offs_on(desk, date(2026, 3, 1)).write_offs == 1
    assert desk.claim("own")["status"] == "written_off"
    assert write_offs_on(desk, date(2026, 3, 5)).write_offs == 0
    assert write_offs_on(desk, date(2026, 3, 6)).write_offs == 1
    assert desk.claim("none")["status"] == "written_off"


def test_a_second_change_of_debtor_keeps_the_first_invoices_due_date(desk: Desk) -> None:
    desk.today(REGISTERED)
    register(desk, "none", None)
    desk.today(date(2024, 1, 8))
    desk.change_debtor("none", OTHER_CPR)
    desk.today(date(2025, 1, 6))
    desk.change_debtor("none", CPR)
    assert claim_row(desk, "none").first_invoice_due_date == FIRST_INVOICE_DUE
    assert write_offs_on(desk, date(2026, 3, 5)).write_offs == 0
    assert write_offs_on(desk, date(2026, 3, 6)).write_offs == 1


# -- acknowledgement interrupts it ---------------------------------------------------------------


def test_a_part_payment_moves_it_to_three_years_after_its_booking_date(desk: Desk) -> None:
    desk.today(REGISTERED)
    register(desk, "old", OWN_DUE)
    desk.today(date(2024, 6, 12))  # the bank file arrives two days after the booking date
    pay(desk, "old", 5000, date(2024, 6, 10))
    assert desk.claim("old")["balance_ore"] == 7500
    # booked 10 June 2024 + 3 years = 10 June 2027
    assert write_offs_on(desk, date(2026, 3, 1)).write_offs == 0
    assert write_offs_on(desk, date(2027, 6, 9)).write_offs == 0
    result = write_offs_on(desk, date(2027, 6, 10))
    assert (result.write_offs, result.written_off_ore) == (1, 7500)
    ((_, _, reason, _),) = write_off_rows(desk)
    assert reason == (
        "Forældet 2027-06-10 efter forældelsesloven § 3 "
        "(forfald 2023-03-01, afbrudt ved erkendelse 2024-06-10 (§ 14))"
    )


def test_a_reversed_payment_acknowledges_nothing(desk: Desk) -> None:
    desk.today(REGISTERED)
    register(desk, "old", OWN_DUE)
    desk.today(date(2024, 6, 12))
    pay(desk, "old", 5000, date(2024, 6, 10))
    desk.today(date(2024, 6, 20))
    reverse(desk.system, "P1", 5000)
    assert desk.claim("old")["balance_ore"] == 12500
    # back to 1 March 2023 + 3 years
    assert write_offs_on(desk, date(2026, 2, 28)).write_offs == 0
    assert write_offs_on(desk, date(2026, 3, 1)).write_offs == 1


def test_an_earlier_payment_that_stands_counts_when_a_later_one_is_reversed(desk: Desk) -> None:
    desk.today(REGISTERED)
    register(desk, "old", OWN_DUE)
    desk.today(date(2023, 9, 4))
    pay(desk, "old", 2000, date(2023, 9, 1), ref="P1")
    desk.today(date(2024, 6, 12))
    pay(desk, "old", 3000, date(2024, 6, 10), ref="P2")
    desk.today(date(2024, 6, 20))
    reverse(desk.system, "P2", 3000)
    # the payment of 1 September 2023 stands: 1 September 2026
    assert write_offs_on(desk, date(2026, 8, 31)).write_offs == 0
    assert write_offs_on(desk, date(2026, 9, 1)).written_off_ore == 10500


def test_a_payment_agreement_moves_it_to_three_years_after_it_was_made(desk: Desk) -> None:
    desk.today(REGISTERED)
    register(desk, "old", OWN_DUE)
    desk.today(date(2024, 6, 10))
    with desk.system.db.begin() as conn:
        set_payment_agreement(
            conn, desk.clock, K, CPR, until=date(2024, 12, 31), note="afdrag 50 kr./md."
        )
    # made 10 June 2024 + 3 years = 10 June 2027
    assert write_offs_on(desk, date(2026, 3, 1)).write_offs == 0
    assert write_offs_on(desk, date(2027, 6, 9)).write_offs == 0
    assert write_offs_on(desk, date(2027, 6, 10)).write_offs == 1
    ((_, rule, reason, _),) = write_off_rows(desk)
    assert rule == "limitation" and "erkendelse 2024-06-10" in reason


def test_an_agreement_covers_the_claims_on_the_account_when_it_was_made(desk: Desk) -> None:
    desk.today(date(2023, 5, 1))
    register(desk, "first", date(2023, 5, 15))
    register(desk, "moved", date(2023, 5, 15))
    desk.today(date(2023, 6, 1))
    with desk.system.db.begin() as conn:
        set_payment_agreement(conn, desk.clock, K, CPR, until=date(2023, 12, 31), note="")
    desk.today(date(2023, 7, 3))
    # an old balance registered after the agreement: created 1 December 2022, due 2 January 2023
    register(desk, "old-balance", date(2023, 1, 2), created_on=date(2022, 12, 1))
    desk.today(date(2023, 8, 1))
    desk.change_debtor("moved", OTHER_CPR)  # the agreement was the first debtor's
    # old-balance: not covered, 2 January 2023 + 3 years = 2 January 2026
    assert write_offs_on(desk, date(2026, 1, 1)).write_offs == 0
    assert write_offs_on(desk, date(2026, 1, 2)).write_offs == 1
    # moved: the new debtor acknowledged nothing: 15 May 2023 + 3 years = 15 May 2026
    assert write_offs_on(desk, date(2026, 5, 14)).write_offs == 0
    assert write_offs_on(desk, date(2026, 5, 15)).write_offs == 1
    # first: the agreement of 1 June 2023 + 3 years = 1 June 2026
    assert write_offs_on(desk, date(2026, 5, 31)).write_offs == 0
    assert write_offs_on(desk, date(2026, 6, 1)).write_offs == 1
    assert [r[2][:19] for r in write_off_rows(desk)] == [
        "Forældet 2026-01-02",
        "Forældet 2026-05-15",
        "Forældet 2026-06-01",
    ]


# -- never invoiced, never reminded --------------------------------------------------------------


def test_a_time_barred_claim_is_not_invoiced_but_written_off(desk: Desk) -> None:
    # an old balance moved to debtor: due 2 January 2023, time-barred since 2 January 2026
    register(desk, "ancient", date(2023, 1, 2))
    register(desk, "fresh", date(2026, 3, 16))
    assert claim_row(desk, "ancient").invoice_id is None
    issued = desk.messages(InvoiceIssued.MESSAGE_TYPE)
    assert [p["claim_ids"] for p, _, _ in issued] == [["fresh"]]
    result = desk.invoice()
    assert (result.invoices, result.time_barred_written_off, result.time_barred_held) == (0, 1, 0)
    assert desk.claim("ancient")["status"] == "written_off"
    assert claim_row(desk, "ancient").invoice_id is None
    ((written, _, _),) = desk.messages(ClaimWrittenOff.MESSAGE_TYPE)
    assert written["claim_id"] == "ancient" and written["amount_ore"] == 12500
    assert written["reason"] == (
        "Forældet 2026-01-02 efter forældelsesloven § 3 (forfald 2023-01-02)"
    )
    assert desk.invoice().time_barred_written_off == 0  # done: nothing more


def test_collected_mode_writes_off_a_moved_time_barred_claim_instead_of_invoicing(
    desk: Desk,
) -> None:
    desk.today(REGISTERED)
    register(desk, "old", OWN_DUE)
    desk.rules(invoicing_mode="collected", collect_every_days=7)
    desk.today(date(2026, 3, 2))
    desk.change_debtor("old", OTHER_CPR)  # collected: it waits for the next collection
    assert claim_row(desk, "old").invoice_id is None
    result = desk.invoice()
    assert (result.invoices, result.time_barred_written_off) == (0, 1)
    ((_, rule, reason, _),) = write_off_rows(desk)
    assert rule == "limitation" and reason.startswith("Forældet 2026-03-01 ")


def test_with_limitation_write_off_off_it_is_held_not_invoiced_or_reminded(desk: Desk) -> None:
    desk.rules(write_off_limitation=False)
    desk.today(REGISTERED)
    register(desk, "old", OWN_DUE)
    desk.today(date(2026, 3, 2))
    register(desk, "ancient", date(2023, 1, 2))
    register(desk, "fresh", date(2026, 3, 16))
    # the first dunning run after the deadline: "old" would get its first reminder
    result = desk.dun(date(2026, 3, 2))
    assert (result.reminders, result.write_offs, result.time_barred_held) == (0, 0, 1)
    assert desk.invoice_of("old")["reminders"] == []
    assert desk.claim("old")["status"] == "open"
    invoicing = desk.invoice()
    assert (invoicing.invoices, invoicing.time_barred_held) == (0, 1)
    assert claim_row(desk, "ancient").invoice_id is None
    assert desk.claim("ancient")["status"] == "open"
    assert write_off_rows(desk) == []
    # a claim not time-barred is reminded as ever
    result = desk.dun(date(2026, 3, 31))
    assert result.reminders == 1 and desk.invoice_of("fresh")["reminders"] != []


def test_a_time_barred_claim_gets_no_reminder_on_an_invoice_with_others(desk: Desk) -> None:
    desk.rules(write_off_limitation=False, invoicing_mode="collected", collect_every_days=7)
    desk.today(date(2023, 2, 6))
    register(desk, "old", date(2023, 2, 6))
    register(desk, "new", date(2023, 3, 20))
    assert desk.invoice().invoices == 1  # both on one invoice, due Monday 20 February 2023
    assert desk.invoice_of("new")["due_date"] == date(2023, 2, 20)
    # old: 6 February 2023 + 3 years = 6 February 2026; new: 20 March 2026
    result = desk.dun(date(2026, 2, 9))  # the first step (no fee)
    assert (result.reminders, result.time_barred_held) == (1, 1)
    # the second step waits for the first letter's deadline (Thursday 19 February) to pass
    assert desk.dun(date(2026, 2, 19)).reminders == 0
    result = desk.dun(date(2026, 2, 20))  # the second step: one 100 kr fee for the letter
    assert (result.reminders, result.fee_postings, result.time_barred_held) == (1, 1, 1)
    assert desk.postings("new", "reminder_fee") == [("reminder_fee", 10000, date(2026, 2, 20))]
    assert desk.postings("old", "reminder_fee") == []
    with desk.system.db.connect() as conn:
        texts = conn.execute(
            select(letters.c.data).where(letters.c.kind == "reminder").order_by(letters.c.id)
        ).scalars()
        lines = [[line[0] for line in json.loads(t)["lines"]] for t in texts]
    assert all(any("(new)" in x for x in ls) and not any("(old)" in x for x in ls) for ls in lines)
    assert len(lines) == 2


# -- the write-off reaches the library -----------------------------------------------------------


def test_the_limitation_write_off_reaches_the_library(system: System) -> None:
    system.clock.set_date(REGISTERED)  # type: ignore[attr-defined]
    with system.db.begin() as conn:
        tenants.create_municipality(
            conn,
            system.clock,
            kommunekode=K,
            name="København",
            agency_id="710100",
            creditor_number="89123456",
            cutoff_date=date(2023, 1, 1),
        )
        tenants.map_claim_kind(
            conn, system.clock, K, "fee", debtor_classification="X", psrm_claim_type="Y"
        )
    system.drain()
    with system.db.begin() as conn:
        patron = library_accounts.create_patron(conn, system.clock, K, cpr=CPR).id
        fee = library_accounts.create_fee(
            conn,
            system.clock,
            K,
            NewFee(patron_id=patron, kind="fee", amount=Money(12500), due_date=OWN_DUE),
        ).id
    system.drain()
    system.clock.set_date(date(2026, 3, 1))  # type: ignore[attr-defined]
    with system.db.begin() as conn:
        assert run_write_offs(conn, system.clock, date(2026, 3, 1)).write_offs == 1
    system.drain()
    assert fee_open(system, fee) == (Money(0), FeeStatus.CLOSED)
    assert_reconciled(system)
