"""Debtor's and the library's side of the hand-over to state collection (PSRM), on SQLite and
PostgreSQL, over a moving clock (decision 0022).

A fee made in the library on Monday 2 March 2026 is invoiced at once: due (and its last timely
payment date) on Monday 16 March. The default reminder steps: a free påmindelse 14 days after
it (30 March) and a reminder with a 100 kr fee 34 days after it (19 April) that announces
hand-over; a reminder asks for payment within 10 days, moved to the next bank day (29 April
2026 is a Wednesday). With interest on, a public claim pays 1 % of its principal per started
month from the due date.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from fbs_debitor.contracts.collection import ClaimReturned, ClaimWrittenOffInCollection
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.service.agreements import mark_deceased, set_payment_agreement
from fbs_debitor.debtor.service.writeoff import write_off_by_hand
from fbs_debitor.debtor.store.tables import payments, write_offs
from fbs_debitor.library.model import FeeStatus
from fbs_debitor.tenants.model import Role
from fbs_debitor.tenants.service import keys as tenant_keys
from fbs_debitor.web.app import create_app
from tests.integration.debtor_collection_support import CPR, Collection
from tests.integration.municipality_support import K

COLLECTION_MESSAGE = "coverage.ClaimCollectionChanged.v1"
REPORT_KEY = "collection-report:101:{}"


def _reminded(c: Collection, claim_id: str) -> None:
    """Both reminder steps, the second (announcing hand-over) with its 100 kr fee."""
    c.dun(date(2026, 3, 30))
    c.dun(date(2026, 4, 19))
    assert c.claim(claim_id)["balance_ore"] >= 12500 + 10000


def test_facts_are_right_to_the_ore_and_the_day(collection: Collection, tmp_path: Path) -> None:
    c = collection
    c.rules(interest_enabled=True)
    claim = c.fee(12500)
    cancelled = c.fee(3000)
    paid = c.fee(4000)
    terms, facts = c.facts(date(2026, 3, 2))
    assert (terms.min_ore, terms.days_after_deadline, terms.reminder_steps) == (10000, 120, 2)
    f = facts[claim]
    assert (f.due_date, f.last_timely_payment_date) == (date(2026, 3, 16), date(2026, 3, 16))
    assert (f.principal_ore, f.fees_ore, f.interest_ore, f.reminders_sent) == (12500, 0, 0, 0)
    assert (f.last_reminder_pay_by, f.announced_on, f.agreement_until) == (None, None, None)
    assert f.limitation_date == date(2029, 3, 16)  # three years after its due date
    assert (f.debtor_id_type, f.debtor_id, f.deceased_on) == ("cpr", CPR, None)
    assert (f.claim_kind, f.legal_basis, f.psrm_claim_type, f.acknowledged) == (
        "fee",
        "public",
        "Y",
        False,
    )
    c.cancel(cancelled)
    c.pay("till-paid", 4000, paid)

    c.dun(date(2026, 3, 30))  # påmindelse; interest for the first started month: 125 øre
    c.dun(date(2026, 4, 19))  # 1. rykker with 100 kr, announces hand-over; second month
    _, facts = c.facts()
    assert set(facts) == {claim}  # the cancelled and the paid claim are not open
    f = facts[claim]
    assert (f.principal_ore, f.fees_ore, f.interest_ore) == (12500, 10000, 2 * 125)
    assert f.reminders_sent == 2
    assert f.last_reminder_pay_by == date(2026, 4, 29)
    assert f.announced_on is None  # the letter is still pending: it told the debtor nothing

    c.today(date(2026, 4, 21))
    assert c.deliver(tmp_path) >= 2
    c.today(date(2026, 5, 1))
    with c.system.db.begin() as conn:
        set_payment_agreement(conn, c.clock, K, CPR, until=date(2026, 6, 30), note="afdrag")
    c.today(date(2026, 5, 5))
    c.pay("till-part", 5000, claim, booked_on=date(2026, 5, 4))  # fees and interest first
    with c.system.db.begin() as conn:
        mark_deceased(conn, c.clock, K, CPR, on=date(2026, 5, 20))
    c.today(date(2026, 6, 2))
    _, facts = c.facts()
    f = facts[claim]
    # 102,50 kr of reminder fee and interest less 50 kr paid: the reminder fee goes first
    assert (f.principal_ore, f.fees_ore, f.interest_ore) == (12500, 5000, 250)
    assert f.balance_ore == 12500 + 10000 + 250 - 5000
    assert f.announced_on == date(2026, 4, 21)
    assert f.agreement_until == date(2026, 6, 30)
    # the part payment of 4 May (after the agreement of 1 May) interrupted limitation (§ 14)
    assert f.limitation_date == date(2029, 5, 4)
    assert f.deceased_on == date(2026, 5, 20)
    c.assert_reconciled()


def test_a_claim_handed_over_stops_dunning_and_the_library_shows_gaeldsstyrelsen(
    collection: Collection,
) -> None:
    c = collection
    c.rules(interest_enabled=True, write_off_below_ore=100000)
    claim = c.fee(12500)
    _reminded(c, claim)
    c.today(date(2026, 8, 20))
    facts = c.hand_over(claim)
    assert c.claim(claim)["status"] == "handed_over"
    assert c.reports(claim) == []  # nothing changed between the run and the message
    told = c.messages(COLLECTION_MESSAGE, claim)
    assert [(p["in_collection"], s, k) for p, s, k in told] == [(True, 1, f"coverage:{K}:{claim}")]
    fee = c.library_fee(claim)
    assert fee.in_collection and fee.open == Money(12500)
    balance = c.claim(claim)["balance_ore"]
    assert balance == facts.balance_ore
    for day in (date(2026, 9, 20), date(2026, 12, 1), date(2029, 6, 1)):
        result = c.dun(day)  # no reminder, interest or write-off by rule (not even limitation)
        assert (result.reminders, result.postings) == (0, 0)
    assert c.claim(claim)["balance_ore"] == balance
    assert c.claim(claim)["status"] == "handed_over"
    assert claim not in c.facts()[1]
    c.assert_reconciled()


def test_the_fbs_fee_api_sends_the_citizen_to_gaeldsstyrelsen_and_back(
    collection: Collection,
) -> None:
    c = collection
    claim = c.fee(12500)
    with c.system.db.begin() as conn:
        tenant_keys.create_api_key(conn, c.clock, K, Role.LIBRARY, "library", "lib-key")
    http = TestClient(create_app(c.system))
    patron = c.patrons[CPR]
    url = f"/external/710100/patron/{patron}/fees/v2?includenonpayable=true"
    auth = {"Authorization": "Bearer lib-key"}

    def shown() -> tuple[str, bool, float]:
        (fee,) = http.get(url, headers=auth).json()
        return fee["reasonMessage"], fee["payableByClient"], fee["amount"]

    ordinary, payable, amount = shown()
    assert (payable, amount) == (False, 125)
    _reminded(c, claim)
    c.today(date(2026, 8, 20))
    c.hand_over(claim)
    text, payable, amount = shown()
    assert text.startswith("Overdraget til inddrivelse hos Gældsstyrelsen. Betal via gaeldst.dk")
    assert ordinary in text
    assert (payable, amount) == (False, 125)
    c.collect(
        ClaimReturned(
            municipality=K,
            occurred_at=c.clock.now(),
            claim_id=claim,
            code="AFVIST",
            reason="Fordringstype ukendt",
        )
    )
    assert shown() == (ordinary, False, 125)
    told = c.messages(COLLECTION_MESSAGE, claim)
    assert [(p["in_collection"], p["reason"], s) for p, s, _ in told] == [
        (True, "", 1),
        (False, "AFVIST: Fordringstype ukendt", 2),
    ]
    c.assert_reconciled()


def test_a_returned_claim_is_open_not_reminded_and_staff_may_write_it_off(
    collection: Collection,
) -> None:
    c = collection
    claim = c.fee(12500)
    _reminded(c, claim)
    c.today(date(2026, 8, 20))
    c.hand_over(claim)
    c.collect(
        ClaimReturned(
            municipality=K,
            occurred_at=c.clock.now(),
            claim_id=claim,
            code="TILBAGESEND",
            reason="Debitor udrejst",
        )
    )
    view = c.claim(claim)
    assert view["status"] == "open"
    returned = [e for e in view["events"] if e["kind"] == "returned"]
    assert [e["detail"] for e in returned] == [{"code": "TILBAGESEND", "reason": "Debitor udrejst"}]
    result = c.dun(date(2026, 9, 1))
    assert result.reminders == 0  # its steps are done
    with c.system.db.begin() as conn:
        done = write_off_by_hand(
            conn, c.clock, K, claim, amount=None, reason="Uerholdelig", by="Sagsbehandler"
        )
    assert (done["status"], done["written_off_ore"]) == ("written_off", 12500 + 10000)
    c.system.drain()
    assert c.reports(claim) == []  # not PSRM's any more: nothing to report
    assert c.library_fee(claim).status is FeeStatus.CLOSED
    c.assert_reconciled()


def test_a_part_payment_between_the_run_and_the_message_is_reported_at_once(
    collection: Collection,
) -> None:
    c = collection
    claim = c.fee(12500)
    _reminded(c, claim)
    c.today(date(2026, 8, 20))
    facts = c.facts()[1][claim]
    c.today(date(2026, 8, 21))
    c.pay("till-between", 3000, claim, booked_on=date(2026, 8, 20))
    c.collect(c.handed_over_message(facts))
    assert c.claim(claim)["status"] == "handed_over"
    assert c.reports(claim) == [("covered", 3000, 22500 - 3000, "2026-08-20", 1)]
    c.assert_reconciled()


def test_a_claim_paid_before_the_message_is_not_marked_but_reported_for_recall(
    collection: Collection,
) -> None:
    c = collection
    claim = c.fee(12500)
    _reminded(c, claim)
    c.today(date(2026, 8, 20))
    facts = c.facts()[1][claim]
    c.pay("till-all", 22500, claim, booked_on=date(2026, 8, 19))
    c.collect(c.handed_over_message(facts))
    assert c.claim(claim)["status"] == "paid"
    assert c.reports(claim) == [("covered", 22500, 0, "2026-08-19", 1)]
    assert c.messages(COLLECTION_MESSAGE, claim) == []  # the library's fee is paid: nothing
    assert c.library_fee(claim).status is FeeStatus.PAID
    c.assert_reconciled()


def test_each_change_of_a_handed_over_claim_is_reported_once(collection: Collection) -> None:
    c = collection
    claim = c.fee(12500)
    _reminded(c, claim)
    c.today(date(2026, 8, 20))
    c.hand_over(claim)  # 125 kr + 100 kr reminder fee = 225 kr at PSRM
    c.write_down(claim, 2500)  # the library: -25 kr
    c.write_up(claim, 1000)  # the library: +10 kr
    c.today(date(2026, 8, 25))
    c.pay("till-local", 4000, claim, booked_on=date(2026, 8, 24))  # paid at the till
    c.today(date(2026, 8, 27))
    c.reverse("till-local", 4000)
    with c.system.db.begin() as conn:
        done = write_off_by_hand(
            conn, c.clock, K, claim, amount=Money(5000), reason="Nedsat", by="Sagsbehandler"
        )
    assert done["status"] == "handed_over"
    c.system.drain()
    assert c.reports(claim) == [
        ("written_down", 2500, 20000, "2026-08-20", 1),
        ("written_up", 1000, 21000, "2026-08-20", 2),
        ("covered", 4000, 17000, "2026-08-24", 3),
        ("coverage_reversed", 4000, 21000, "2026-08-27", 4),
        ("written_off", 5000, 16000, "2026-08-27", 5),
    ]
    assert c.claim(claim)["status"] == "handed_over"
    assert c.library_fee(claim).open == Money(12500 - 2500 + 1000 - 5000)
    c.assert_reconciled()


def test_a_local_payment_that_covers_a_handed_over_claim_makes_it_paid(
    collection: Collection,
) -> None:
    c = collection
    claim = c.fee(12500)
    _reminded(c, claim)
    c.today(date(2026, 8, 20))
    c.hand_over(claim)
    c.pay("till-full", 22500, claim)
    assert c.claim(claim)["status"] == "paid"
    assert c.reports(claim) == [("covered", 22500, 0, "2026-08-20", 1)]
    fee = c.library_fee(claim)
    assert (fee.status, fee.open) == (FeeStatus.PAID, Money(0))
    c.reverse("till-full", 22500)  # the bank takes it back: PSRM holds the claim again
    assert c.claim(claim)["status"] == "handed_over"
    assert c.reports(claim)[-1] == ("coverage_reversed", 22500, 22500, "2026-08-20", 2)
    c.assert_reconciled()


def test_a_cancellation_of_a_handed_over_claim_is_reported(collection: Collection) -> None:
    c = collection
    claim = c.fee(12500)
    _reminded(c, claim)
    c.today(date(2026, 8, 20))
    c.hand_over(claim)
    c.cancel(claim)
    assert c.claim(claim)["status"] == "cancelled"
    assert c.reports(claim) == [("cancelled", 22500, 0, "2026-08-20", 1)]
    c.assert_reconciled()


def test_psrm_settlement_covers_its_claim_and_reaches_the_library(
    collection: Collection,
) -> None:
    c = collection
    other = c.fee(5000)  # an older open claim of the same debtor: PSRM's money is not for it
    claim = c.fee(12500)
    _reminded(c, claim)
    c.today(date(2026, 8, 20))
    c.hand_over(claim)
    c.today(date(2026, 10, 1))
    c.settle("psrm-2026-09-1", 10000, claim, booked_on=date(2026, 9, 15))
    assert c.claim(claim)["balance_ore"] == 12500  # the fee first, then the principal
    assert c.claim(other)["balance_ore"] == 5000 + 10000  # its own reminder fee, untouched
    assert c.library_fee(claim).open == Money(12500)
    c.settle("psrm-2026-10-1", 12500, claim, booked_on=date(2026, 10, 15))
    assert c.claim(claim)["status"] == "paid"
    fee = c.library_fee(claim)
    assert (fee.status, fee.open, fee.paid_date) == (FeeStatus.PAID, Money(0), date(2026, 10, 15))
    covered = c.messages("coverage.ClaimCovered.v1", claim)
    assert [(p["amount_ore"], p["channel"]) for p, _, _ in covered] == [(12500, "psrm")]
    assert c.reports(claim) == []  # PSRM's own money is never reported back
    assert c.balances() == {claim: (0, 22500)}
    c.assert_reconciled()


def test_psrm_settlement_for_a_cancelled_claim_becomes_credit(collection: Collection) -> None:
    c = collection
    claim = c.fee(12500)
    _reminded(c, claim)
    c.today(date(2026, 8, 20))
    c.hand_over(claim)
    c.cancel(claim)
    c.today(date(2026, 10, 1))
    c.settle("psrm-late", 7000, claim, booked_on=date(2026, 9, 30))
    with c.system.db.connect() as conn:
        row = conn.execute(
            select(payments.c.outcome, payments.c.covered_ore, payments.c.credit_ore).where(
                payments.c.payment_ref == "psrm-late"
            )
        ).one()
    assert tuple(row) == ("partly_matched", 0, 7000)
    assert c.balances() == {claim: (0, 0)}
    c.assert_reconciled()


def test_psrm_write_off_posts_and_tells_the_library(collection: Collection) -> None:
    c = collection
    claim = c.fee(12500)
    _reminded(c, claim)
    c.today(date(2026, 8, 20))
    c.hand_over(claim)
    c.collect(
        ClaimWrittenOffInCollection(
            municipality=K,
            occurred_at=c.clock.now(),
            claim_id=claim,
            amount_ore=5000,
            reason="Uerholdelig",
        )
    )
    assert (c.claim(claim)["status"], c.claim(claim)["balance_ore"]) == ("handed_over", 17500)
    c.collect(
        ClaimWrittenOffInCollection(
            municipality=K,
            occurred_at=c.clock.now(),
            claim_id=claim,
            amount_ore=17500,
            reason="Dødsbo uden midler",
        )
    )
    assert c.claim(claim)["status"] == "written_off"
    with c.system.db.connect() as conn:
        rules = conn.execute(select(write_offs.c.rule, write_offs.c.amount_ore)).all()
    assert [tuple(r) for r in rules] == [("collection", 5000), ("collection", 17500)]
    library = [
        (t.split(".")[1], p.get("amount_ore"), s)
        for t in ("coverage.ClaimWrittenOff.v1", "coverage.ClaimClosed.v1")
        for p, s, _ in c.messages(t, claim)
    ]
    assert sorted(library, key=lambda m: m[2]) == [
        ("ClaimWrittenOff", 5000, 2),  # the principal first: 50 kr of the 125 kr
        ("ClaimWrittenOff", 7500, 3),  # the rest of the principal (the fee is not the library's)
        ("ClaimClosed", None, 4),
    ]
    assert c.reports(claim) == []
    assert c.library_fee(claim).open == Money(0)
    c.assert_reconciled()
