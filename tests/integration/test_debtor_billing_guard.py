"""The ledger guard's invoicing and dunning checks find state that changed without its postings
(and postings without their reason), on SQLite and PostgreSQL. Each test breaks the books on
purpose, checks the complaint and mends them, so the autouse guard sees a sound ledger at the end.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import delete, insert, select, update

from fbs_debitor.debtor import guard
from fbs_debitor.debtor.store.tables import claims, invoices, postings, reminders, write_offs
from tests.integration.debtor_billing_support import (
    OTHER_CPR,
    Desk,
    K,
)

T0 = datetime(2026, 4, 19, 8, tzinfo=UTC)


def problems(desk: Desk) -> list[str]:
    with desk.system.db.connect() as conn:
        return guard.check_ledger(conn, K)


def pk(desk: Desk, claim_id: str) -> int:
    with desk.system.db.connect() as conn:
        return int(
            conn.execute(select(claims.c.id).where(claims.c.claim_id == claim_id)).scalar_one()
        )


def post(desk: Desk, claim_id: str, kind: str, ore: int, **extra: object) -> int:
    claim_pk = pk(desk, claim_id)
    with desk.system.db.begin() as conn:
        key = conn.execute(
            insert(postings).values(
                municipality=K,
                claim_pk=claim_pk,
                kind=kind,
                amount_ore=ore,
                booked_at=T0,
                effective_on=date(2026, 4, 19),
                note="",
                **{"fee_part_ore": ore if kind in ("reminder_fee", "interest") else 0, **extra},
            )
        ).inserted_primary_key
        assert key is not None
        return int(key[0])


def drop_posting(desk: Desk, posting_id: int) -> None:
    with desk.system.db.begin() as conn:
        conn.execute(delete(postings).where(postings.c.id == posting_id))


def test_a_reminder_fee_without_its_posting_and_a_fee_without_its_reminder(desk: Desk) -> None:
    desk.register("fee-1", 12500)
    desk.dun(date(2026, 3, 30))
    desk.dun(date(2026, 4, 19))
    with desk.system.db.connect() as conn:
        fee_id, reminder_id = conn.execute(
            select(postings.c.id, postings.c.reminder_id).where(postings.c.kind == "reminder_fee")
        ).one()
    drop_posting(desk, fee_id)
    assert problems(desk) == [
        f"{K}/invoice 1: reminder 2 charged 100,00 kr. in fees but its postings hold 0,00 kr."
    ]
    loose = post(desk, "fee-1", "reminder_fee", 10000)
    assert f"{K}/fee-1: posting {loose} (reminder_fee) and its reminder do not match" in problems(
        desk
    )
    drop_posting(desk, loose)
    post(desk, "fee-1", "reminder_fee", 10000, reminder_id=reminder_id)
    assert problems(desk) == []


def test_interest_on_a_civil_claim_or_beyond_the_law(desk: Desk) -> None:
    desk.register("erst-1", 34900, kind="compensation")
    desk.register("fee-1", 10000, debtor=OTHER_CPR)
    civil = post(desk, "erst-1", "interest", 349)
    assert problems(desk) == [f"{K}/erst-1: interest on a civil claim"]
    drop_posting(desk, civil)
    # 19 April is in the 2nd started month after 16 March: at most 2 % of 100 kr
    allowed = post(desk, "fee-1", "interest", 200)
    assert problems(desk) == []
    too_much = post(desk, "fee-1", "interest", 1)
    assert problems(desk) == [
        f"{K}/fee-1: interest 2,01 kr. beyond the 2,00 kr. the principal allows"
    ]
    drop_posting(desk, too_much)
    drop_posting(desk, allowed)


def test_write_offs_without_postings_or_reasons(desk: Desk) -> None:
    desk.register("fee-1", 12500)
    with desk.system.db.begin() as conn:
        conn.execute(
            update(claims).where(claims.c.claim_id == "fee-1").values(status="written_off")
        )
    found = problems(desk)
    assert f"{K}/fee-1: written off without a write-off posting" in found
    off = post(desk, "fee-1", "write_off", -12500)
    assert problems(desk) == [
        f"{K}/fee-1: write-off postings of 125,00 kr. but 0,00 kr. recorded with reasons"
    ]
    claim_pk = pk(desk, "fee-1")
    with desk.system.db.begin() as conn:
        conn.execute(
            insert(write_offs).values(
                municipality=K,
                claim_pk=claim_pk,
                amount_ore=12500,
                rule="manual",
                reason="test",
                by="test",
                effective_on=date(2026, 4, 19),
                at=T0,
            )
        )
    assert problems(desk) == []
    with desk.system.db.begin() as conn:
        conn.execute(delete(write_offs))
        conn.execute(update(claims).values(status="open"))
    drop_posting(desk, off)


def test_a_claim_on_another_debtors_invoice_and_a_bad_payment_id(desk: Desk) -> None:
    desk.register("fee-1", 12500)
    desk.register("fee-2", 12500, debtor=OTHER_CPR)
    with desk.system.db.begin() as conn:
        other = conn.execute(
            select(claims.c.invoice_id).where(claims.c.claim_id == "fee-2")
        ).scalar_one()
        own = conn.execute(
            select(claims.c.invoice_id).where(claims.c.claim_id == "fee-1")
        ).scalar_one()
        conn.execute(update(claims).where(claims.c.claim_id == "fee-1").values(invoice_id=other))
    assert problems(desk) == [f"{K}/fee-1: claim on another municipality's or debtor's invoice"]
    with desk.system.db.begin() as conn:
        conn.execute(update(claims).where(claims.c.claim_id == "fee-1").values(invoice_id=own))
        good = conn.execute(select(invoices.c.payment_id).where(invoices.c.id == own)).scalar_one()
        bad = good[:-1] + str((int(good[-1]) + 1) % 10)
        conn.execute(update(invoices).where(invoices.c.id == own).values(payment_id=bad))
    (problem,) = problems(desk)
    assert problem.startswith(f"{K}/invoice {own}: payment ID {bad}:")
    with desk.system.db.begin() as conn:
        conn.execute(update(invoices).where(invoices.c.id == own).values(payment_id=good))


def set_reminder(desk: Desk, step: int, **values: object) -> None:
    with desk.system.db.begin() as conn:
        conn.execute(update(reminders).where(reminders.c.step_number == step).values(**values))


def fee_posting_of(desk: Desk, step: int) -> tuple[int, int]:
    """(posting id, reminder id) of the fee posting of the reminder with this step."""
    with desk.system.db.connect() as conn:
        pid, rid = conn.execute(
            select(postings.c.id, postings.c.reminder_id)
            .join_from(postings, reminders, reminders.c.id == postings.c.reminder_id)
            .where(reminders.c.step_number == step)
        ).one()
    return int(pid), int(rid)


def test_a_letter_beyond_the_cap_of_the_claims_it_reminded_of(desk: Desk) -> None:
    desk.rules(invoicing_mode="collected")
    desk.register("fee-1", 12500)
    desk.register("erst-1", 34900, kind="compensation")
    assert desk.invoice(date(2026, 3, 2)).invoices == 1
    desk.dun(date(2026, 3, 30))
    desk.dun(date(2026, 4, 19))
    assert problems(desk) == []
    fee_id, _ = fee_posting_of(desk, 2)
    # 250 kr on a letter that reminds of a replacement charge (100 kr at most)
    with desk.system.db.begin() as conn:
        conn.execute(
            update(postings)
            .where(postings.c.id == fee_id)
            .values(amount_ore=25000, fee_part_ore=25000)
        )
    set_reminder(desk, 2, fee_total_ore=25000)
    assert problems(desk) == [
        f"{K}/invoice 1: reminder 2 charged 250,00 kr., above the 100,00 kr. one letter may "
        f"charge for the claims it reminded of"
    ]
    with desk.system.db.begin() as conn:
        conn.execute(
            update(postings)
            .where(postings.c.id == fee_id)
            .values(amount_ore=10000, fee_part_ore=10000)
        )
    set_reminder(desk, 2, fee_total_ore=10000)
    assert problems(desk) == []


def test_a_letter_with_a_fee_on_each_claim(desk: Desk) -> None:
    desk.rules(invoicing_mode="collected")
    desk.register("fee-1", 12500)
    desk.register("fee-2", 4000)
    assert desk.invoice(date(2026, 3, 2)).invoices == 1
    desk.dun(date(2026, 3, 30))
    desk.dun(date(2026, 4, 19))
    _, reminder_id = fee_posting_of(desk, 2)
    second = post(desk, "fee-2", "reminder_fee", 10000, reminder_id=reminder_id)
    set_reminder(desk, 2, fee_total_ore=20000)  # within 250 kr, but two fees on one letter
    assert problems(desk) == [
        f"{K}/invoice 1: reminder 2 has 2 fee postings; a letter carries one fee"
    ]
    drop_posting(desk, second)
    set_reminder(desk, 2, fee_total_ore=10000)


def test_civil_fee_letters_within_ten_days_or_more_than_three(desk: Desk) -> None:
    fee = {"fee_public_ore": 10000, "fee_civil_ore": 10000}
    desk.rules(
        reminder_steps=[{"days_after_deadline": 14, **fee}, {"days_after_deadline": 34, **fee}]
    )
    desk.register("erst-1", 34900, kind="compensation")
    desk.dun(date(2026, 3, 30))
    desk.dun(date(2026, 4, 19))
    assert problems(desk) == []
    set_reminder(desk, 1, reminder_date=date(2026, 4, 12))
    assert problems(desk) == [
        f"{K}/erst-1: fee-bearing reminders on 2026-04-12 and 2026-04-19, less than 10 days apart"
    ]
    set_reminder(desk, 1, reminder_date=date(2026, 3, 30))
    # two more fee-bearing reminders of the invoice (without letters: every claim on the
    # invoice counts as reminded)
    added: list[tuple[int, int]] = []
    with desk.system.db.connect() as conn:
        invoice_id = conn.execute(select(reminders.c.invoice_id)).scalars().first()
    for step, on in ((3, date(2026, 5, 10)), (4, date(2026, 5, 30))):
        with desk.system.db.begin() as conn:
            key = conn.execute(
                insert(reminders).values(
                    municipality=K,
                    invoice_id=invoice_id,
                    step_number=step,
                    reminder_date=on,
                    fee_total_ore=10000,
                    announces_collection=False,
                    created_at=T0,
                )
            ).inserted_primary_key
        assert key is not None
        added.append((int(key[0]), post(desk, "erst-1", "reminder_fee", 10000, reminder_id=key[0])))
    assert problems(desk) == [
        f"{K}/erst-1: 4 fee-bearing reminders on a civil claim; the law allows 3"
    ]
    for reminder_id, posting_id in added:
        drop_posting(desk, posting_id)
        with desk.system.db.begin() as conn:
            conn.execute(delete(reminders).where(reminders.c.id == reminder_id))
