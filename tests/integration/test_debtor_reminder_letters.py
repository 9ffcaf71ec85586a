"""One fee per reminder letter, within the cap of the claims it reminds of, and what the letter
says, on SQLite and PostgreSQL (decision 0012).

Collected invoicing puts a debtor's claims on one invoice, so one reminder letter reminds of
several. Claims registered and invoiced on Monday 2 March 2026 are due (SRB) on Monday 16 March.
The law (DOMAIN.md): at most 250 kr per letter for public claims (gebyrloven § 2), 100 kr for
civil ones, at most three fee-bearing reminders of a civil claim, ten days apart (renteloven
§ 9 b). The expected amounts below are worked out by hand.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pypdf
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from sqlalchemy import select

from fbs_debitor.contracts.payment import PaymentReceived
from fbs_debitor.contracts.registration import DebtorRef
from fbs_debitor.debtor.adapters.pdf import render_html, render_pdf
from fbs_debitor.debtor.service import allocation
from fbs_debitor.debtor.store.letters import load_letter_and_debtor
from fbs_debitor.debtor.store.tables import letters, postings, reminders
from tests.integration.debtor_billing_support import CPR, Desk, K, auth

SRB = date(2026, 3, 16)
FEE_STEP = SRB + timedelta(days=34)  # 19 April: the default rules' step with a fee

TWO_FEE_STEPS = [
    {"days_after_deadline": 14, "fee_public_ore": 10000, "fee_civil_ore": 10000},
    {
        "days_after_deadline": 34,
        "fee_public_ore": 25000,
        "fee_civil_ore": 10000,
        "announces_collection": True,
    },
]


def collected(desk: Desk, **rules: Any) -> None:
    desk.rules(invoicing_mode="collected", **rules)


def invoice_all(desk: Desk) -> None:
    assert desk.invoice(date(2026, 3, 2)).invoices == 1


def fee_postings(desk: Desk) -> list[tuple[str, int, date]]:
    """(claim, øre, date) of every reminder fee posting of the account, oldest first."""
    out = [
        (c["claim_id"], p["amount_ore"], p["effective_on"])
        for c in desk.account()["claims"]
        for p in desk.claim(c["claim_id"])["postings"]
        if p["kind"] == "reminder_fee"
    ]
    return sorted(out, key=lambda x: (x[2], x[0]))


def reminder_rows(desk: Desk) -> list[tuple[int, date, int]]:
    (invoice,) = desk.account()["invoices"]
    return [(r["number"], r["date"], r["fee_total_ore"]) for r in invoice["reminders"]]


def pay(desk: Desk, ref: str, day: date, amount_ore: int, *claim_ids: str) -> None:
    """A till payment on ``day`` for the chosen claims."""
    desk.today(day)
    message = PaymentReceived(
        municipality=K,
        occurred_at=datetime(day.year, day.month, day.day, 10, tzinfo=UTC),
        payment_ref=ref,
        channel="cash-register",
        booked_on=day,
        amount_ore=amount_ore,
        debtor=DebtorRef(id_type="cpr", id=CPR),
        claim_ids=list(claim_ids),
    )
    with desk.system.db.begin() as conn:
        assert allocation.allocate(conn, desk.clock, message, f"pay-{ref}") is not None
    desk.system.drain()


def newest_reminder_html(desk: Desk) -> tuple[str, bytes]:
    with desk.system.db.connect() as conn:
        letter_id = (
            conn.execute(
                select(letters.c.id)
                .where(letters.c.kind == "reminder")
                .order_by(letters.c.id.desc())
            )
            .scalars()
            .first()
        )
        assert letter_id is not None
        letter, _, _ = load_letter_and_debtor(conn, K, int(letter_id))
    return render_html(letter), render_pdf(letter)


def rows(page: str) -> list[list[str]]:
    """The cells of every row of the letter's table, as text."""
    tree = lxml_html.fromstring(page)
    return [
        [" ".join(" ".join(cell.itertext()).split()) for cell in tr.xpath("./td")]
        for tr in tree.xpath("//table[contains(@class, 'lines')]//tr[td]")
    ]


def test_three_library_fees_on_one_letter_get_one_fee_of_100_kr(desk: Desk) -> None:
    collected(desk)  # default steps: a free påmindelse, then 100 kr
    for claim_id, ore in (("fee-1", 2000), ("fee-2", 9000), ("fee-3", 12000)):
        desk.register(claim_id, ore)
    invoice_all(desk)
    assert desk.dun(SRB + timedelta(days=14)).reminders == 1  # the påmindelse, fee-free
    result = desk.dun(FEE_STEP)
    assert (result.reminders, result.fee_postings, result.fees_ore) == (1, 1, 10000)
    assert fee_postings(desk) == [("fee-1", 10000, FEE_STEP)]  # not 3 x 100 kr
    assert reminder_rows(desk) == [(1, SRB + timedelta(days=14), 0), (2, FEE_STEP, 10000)]
    assert desk.account()["balance_ore"] == 2000 + 9000 + 12000 + 10000


def test_three_library_fees_on_one_letter_get_one_fee_of_250_kr(desk: Desk) -> None:
    collected(desk, reminder_steps=TWO_FEE_STEPS)
    for claim_id, ore in (("fee-1", 2000), ("fee-2", 9000), ("fee-3", 12000)):
        desk.register(claim_id, ore)
    invoice_all(desk)
    desk.dun(SRB + timedelta(days=14))
    desk.dun(FEE_STEP)
    # 100 kr on the first letter, 250 kr on the second: one fee each, never 750 kr
    assert fee_postings(desk) == [
        ("fee-1", 10000, SRB + timedelta(days=14)),
        ("fee-1", 25000, FEE_STEP),
    ]
    assert [r[2] for r in reminder_rows(desk)] == [10000, 25000]


def test_three_replacement_charges_get_one_fee_of_100_kr(desk: Desk) -> None:
    collected(desk)
    for claim_id in ("erst-1", "erst-2", "erst-3"):
        desk.register(claim_id, 34900, kind="compensation")
    invoice_all(desk)
    desk.dun(SRB + timedelta(days=14))
    result = desk.dun(FEE_STEP)
    assert (result.fee_postings, result.fees_ore) == (1, 10000)  # not 300 kr
    assert fee_postings(desk) == [("erst-1", 10000, FEE_STEP)]


def test_a_mixed_letter_carries_the_lower_fee_on_a_civil_claim(desk: Desk) -> None:
    collected(desk, reminder_steps=TWO_FEE_STEPS)
    desk.register("fee-1", 12500)
    desk.register("erst-1", 34900, kind="compensation")
    desk.register("fee-2", 4000)
    invoice_all(desk)
    desk.dun(SRB + timedelta(days=14))
    desk.dun(FEE_STEP)
    # the second step says 250 kr on fees, 100 kr on replacement charges: the letter reminds of
    # both, so it carries 100 kr, on the replacement charge
    assert fee_postings(desk) == [
        ("erst-1", 10000, SRB + timedelta(days=14)),
        ("erst-1", 10000, FEE_STEP),
    ]
    cheap_public = [
        {"days_after_deadline": 14, "fee_public_ore": 5000, "fee_civil_ore": 10000},
        {"days_after_deadline": 60, "fee_public_ore": 0, "fee_civil_ore": 0},
    ]
    desk.rules(invoicing_mode="collected", reminder_steps=cheap_public)
    desk.register("erst-2", 10000, kind="compensation", debtor="2110625629")
    desk.register("fee-3", 3000, debtor="2110625629")
    assert desk.invoice(date(2026, 3, 9)).invoices == 1  # due Mon 23 March
    desk.dun(date(2026, 4, 6))  # SRB + 14
    with desk.system.db.connect() as conn:
        newest = (
            conn.execute(select(reminders.c.fee_total_ore).order_by(reminders.c.id.desc()))
            .scalars()
            .first()
        )
    assert newest == 5000  # the lower of 50 kr and 100 kr


def test_rule_changes_never_give_a_fourth_civil_fee_nor_two_within_ten_days(desk: Desk) -> None:
    three = [
        {"days_after_deadline": d, "fee_public_ore": 25000, "fee_civil_ore": 10000}
        for d in (10, 20, 30)
    ]
    collected(desk, reminder_steps=three)
    desk.register("fee-1", 12500)
    desk.register("erst-1", 34900, kind="compensation")
    invoice_all(desk)
    desk.dun(SRB + timedelta(days=10))  # 26 March: the first fee letter
    # new rules, each within the law: their steps are all overdue at once, three of them with a
    # fee (after the old rules' first fee letter, the third would be a fourth on erst-1), and 30
    # days between reminders
    fee = {"fee_public_ore": 25000, "fee_civil_ore": 10000}
    free = {"fee_public_ore": 0, "fee_civil_ore": 0}
    desk.rules(
        invoicing_mode="collected",
        reminder_steps=[
            {"days_after_deadline": 1, **free},
            {"days_after_deadline": 11, **fee},
            {"days_after_deadline": 21, **fee},
            {"days_after_deadline": 31, **fee},
            {"days_after_deadline": 41, **free},
        ],
        min_days_between_reminders=30,
    )
    withheld = sum(
        desk.dun(date(2026, 3, 27) + timedelta(days=i)).fees_withheld for i in range(120)
    )
    # a letter 30 days after the one before, never sooner; the letter of the fourth step would
    # be the fourth fee-bearing reminder of erst-1: held back, sent without fee
    assert reminder_rows(desk) == [
        (1, date(2026, 3, 26), 10000),
        (2, date(2026, 4, 25), 10000),
        (3, date(2026, 5, 25), 10000),
        (4, date(2026, 6, 24), 0),
        (5, date(2026, 7, 24), 0),
    ]
    assert withheld == 1
    assert [claim for claim, _, _ in fee_postings(desk)] == ["erst-1"] * 3


def test_a_fee_is_held_back_when_an_earlier_letter_had_one_under_other_rules(desk: Desk) -> None:
    collected(desk, reminder_steps=[
        {"days_after_deadline": 10, "fee_public_ore": 0, "fee_civil_ore": 10000},
        {"days_after_deadline": 20, "fee_public_ore": 0, "fee_civil_ore": 10000},
        {"days_after_deadline": 30, "fee_public_ore": 0, "fee_civil_ore": 10000},
    ])  # fmt: skip
    desk.register("erst-1", 34900, kind="compensation")
    desk.register("erst-2", 5000, kind="compensation")
    invoice_all(desk)
    for i in range(60):
        desk.dun(SRB + timedelta(days=10 + i))
    assert [r[2] for r in reminder_rows(desk)] == [10000, 10000, 10000]
    # new rules: three free steps, then one with a fee that would be a fourth on both claims
    free = {"fee_public_ore": 0, "fee_civil_ore": 0}
    desk.rules(
        invoicing_mode="collected",
        reminder_steps=[
            {"days_after_deadline": 5, **free},
            {"days_after_deadline": 15, **free},
            {"days_after_deadline": 25, **free},
            {"days_after_deadline": 90, "fee_public_ore": 0, "fee_civil_ore": 10000},
        ],
    )
    result = desk.dun(SRB + timedelta(days=90))
    assert (result.reminders, result.fee_postings, result.fees_withheld) == (1, 0, 1)
    assert reminder_rows(desk)[-1] == (4, SRB + timedelta(days=90), 0)


def test_rerunning_a_date_of_a_collected_letter_changes_nothing(desk: Desk) -> None:
    collected(desk, reminder_steps=TWO_FEE_STEPS, interest_enabled=True)
    desk.register("fee-1", 12500)
    desk.register("erst-1", 34900, kind="compensation")
    invoice_all(desk)

    def snapshot() -> list[Any]:
        with desk.system.db.connect() as conn:
            return [
                sorted(tuple(str(v) for v in r) for r in conn.execute(select(t)))
                for t in (reminders, postings, letters)
            ]

    for day in (SRB + timedelta(days=14), FEE_STEP):
        desk.dun(day)
        before = snapshot()
        again = desk.dun(day)
        assert (again.reminders, again.postings, again.letters) == (0, 0, 0)
        assert snapshot() == before


def test_the_letter_shows_each_claims_parts_its_one_fee_its_title_and_the_notice(
    desk: Desk,
) -> None:
    collected(desk, reminder_steps=TWO_FEE_STEPS, interest_enabled=True)
    desk.register("fee-1", 12345, text="Gebyr for sen aflevering", materials=("Kaninen",))
    desk.register("fee-2", 2000)
    desk.register("erst-1", 34900, kind="compensation")
    invoice_all(desk)
    desk.dun(SRB + timedelta(days=14))  # 30 March: 100 kr on erst-1; 1 month of interest
    first, _ = newest_reminder_html(desk)
    assert "<h1>1. rykker</h1>" in first
    assert "Gældsstyrelsen" not in first
    pay(desk, "till-1", date(2026, 4, 10), 5000, "erst-1")  # settles half its fee first
    desk.dun(FEE_STEP)  # 19 April: 2 started months of interest, 100 kr on erst-1
    page, pdf = newest_reminder_html(desk)
    assert "<h1>2. rykker</h1>" in page
    # claim | principal | reminder fees so far | interest | total
    # fee-1: 1 % of 123,45 kr. per started month, 2 months: 2,469 -> 2,47 kr.
    # fee-2: 2 x 0,20 kr.; erst-1: 100 kr. fee of 30 March less the 50 kr. paid, no interest
    assert rows(page) == [
        ["Gebyr for sen aflevering (fee-1) Kaninen", "123,45 kr.", "0,00 kr.", "2,47 kr.",
         "125,92 kr."],
        ["Gebyr for overskredet lånetid (fee-2)", "20,00 kr.", "0,00 kr.", "0,40 kr.",
         "20,40 kr."],
        ["Erstatning for materiale (erst-1)", "349,00 kr.", "50,00 kr.", "0,00 kr.",
         "399,00 kr."],
        ["Rykkergebyr for denne rykker", "100,00 kr."],
        ["I alt at betale", "645,32 kr."],
    ]  # fmt: skip
    assert "rykkergebyr på 100,00 kr. for denne rykker" in page
    # the step announces collection: the notice names the letter's own date to pay by
    assert (
        "Hvis du ikke betaler senest 29. april 2026, kan kravet blive sendt til inddrivelse hos "
        "Gældsstyrelsen" in " ".join(page.split())
    )
    assert desk.account()["balance_ore"] == 64532
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "2. rykker" in text and "645,32 kr." in text and "Gældsstyrelsen" in text


def test_a_title_stays_as_sent_when_the_rules_change(desk: Desk, staff: TestClient) -> None:
    desk.register("fee-1", 12500)
    desk.dun(SRB + timedelta(days=14))
    desk.rules(
        reminder_steps=[
            {"days_after_deadline": 14, "fee_public_ore": 5000, "fee_civil_ore": 5000},
            {"days_after_deadline": 34, "fee_public_ore": 5000, "fee_civil_ore": 5000},
        ]
    )
    desk.dun(FEE_STEP)
    listing = staff.get(f"/api/v1/{K}/letters", headers=auth()).json()["letters"]
    # the first was a påmindelse under the rules of its day; under the new rules step 1 would
    # be "1. rykker" and step 2 "2. rykker"
    assert [x["title"] for x in reversed(listing)] == ["Opkrævning", "Påmindelse", "2. rykker"]


def test_min_days_between_reminders_below_the_law_is_refused_over_http(
    staff: TestClient,
) -> None:
    r = staff.put(
        f"/api/v1/{K}/debtor-rules",
        json={"min_days_between_reminders": 9, "reason": "test"},
        headers=auth(),
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/reminder-gap-min")
    assert "renteloven § 9 b" in r.json()["detail"] and "10 days" in r.json()["detail"]
    r = staff.put(
        f"/api/v1/{K}/debtor-rules",
        json={"min_days_between_reminders": "x", "reason": "test"},
        headers=auth(),
    )
    assert r.status_code == 422 and r.json()["type"].endswith("/invalid-rules")
    assert (
        staff.get(f"/api/v1/{K}/debtor-rules", headers=auth()).json()["min_days_between_reminders"]
        == 10
    )
    r = staff.put(
        f"/api/v1/{K}/debtor-rules",
        json={"min_days_between_reminders": 21, "reason": "test"},
        headers=auth(),
    )
    assert r.status_code == 200 and r.json()["min_days_between_reminders"] == 21
