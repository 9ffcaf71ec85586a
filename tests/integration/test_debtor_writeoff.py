"""Write-off by rule (below the minimum, limitation, deceased) and by hand, on SQLite and
PostgreSQL, with ClaimWrittenOff / ClaimClosed in the outbox for the library, numbered per claim
from 1 under their own ordering key."""

from __future__ import annotations

import json
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select

from fbs_debitor.contracts.coverage import ClaimClosed, ClaimWrittenOff
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.service.agreements import mark_deceased
from fbs_debitor.debtor.service.dunning import run_write_offs
from fbs_debitor.debtor.service.writeoff import write_off_by_hand
from fbs_debitor.debtor.store.tables import write_offs
from fbs_debitor.debtor.views import principal_balances
from fbs_debitor.messaging.store import outbox
from tests.integration.debtor_billing_support import (
    CPR,
    LIBRARY_KEY,
    OTHER_CPR,
    Desk,
    K,
    auth,
)


def coverage(desk: Desk) -> list[tuple[str, str, int | None, str | None, dict[str, object]]]:
    """(type, ordering key, sequence, leg, payload) of the coverage messages, in order."""
    with desk.system.db.connect() as conn:
        rows = conn.execute(
            select(
                outbox.c.message_type,
                outbox.c.ordering_key,
                outbox.c.sequence,
                outbox.c.leg,
                outbox.c.payload,
            )
            .where(
                outbox.c.message_type.in_([ClaimWrittenOff.MESSAGE_TYPE, ClaimClosed.MESSAGE_TYPE])
            )
            .order_by(outbox.c.id)
        )
        return [(t.split(".")[1], k, s, leg, json.loads(p)) for t, k, s, leg, p in rows]


def reasons(desk: Desk) -> list[tuple[int, str, str, str]]:
    with desk.system.db.connect() as conn:
        rows = conn.execute(
            select(
                write_offs.c.amount_ore, write_offs.c.rule, write_offs.c.reason, write_offs.c.by
            ).order_by(write_offs.c.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_write_off_by_hand_in_full(staff: TestClient, desk: Desk) -> None:
    desk.register("fee-1", 12500)
    r = staff.post(
        f"/api/v1/{K}/claims/fee-1/write-off",
        json={"reason": "Bortfaldet efter klage", "by": "Anne Berg"},
        headers=auth(),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["written_off_ore"], body["remaining_ore"], body["status"]) == (
        12500,
        0,
        "written_off",
    )
    assert len(body["messages"]) == 2
    claim = desk.claim("fee-1")
    assert (claim["status"], claim["balance_ore"]) == ("written_off", 0)
    assert desk.postings("fee-1", "write_off") == [("write_off", -12500, date(2026, 3, 2))]
    assert reasons(desk) == [(12500, "manual", "Bortfaldet efter klage", "Anne Berg")]
    (written, closed) = coverage(desk)
    assert written[:4] == ("ClaimWrittenOff", "coverage:101:fee-1", 1, "leg4")
    assert written[4]["amount_ore"] == 12500 and written[4]["remaining_ore"] == 0
    assert written[4]["reason"] == "Bortfaldet efter klage"
    assert closed[:4] == ("ClaimClosed", "coverage:101:fee-1", 2, "leg4")
    assert closed[4]["outcome"] == "written_off"
    with desk.system.db.connect() as conn:
        sources = conn.execute(
            select(outbox.c.source, outbox.c.status).where(
                outbox.c.ordering_key == "coverage:101:fee-1"
            )
        ).all()
    assert sources == [("debtor", "pending")] * 2  # in the outbox, for the library (leg 4)
    assert desk.invoice_of("fee-1")["status"] == "settled"


def test_partial_write_offs_number_on(desk: Desk, staff: TestClient) -> None:
    desk.register("fee-1", 12500)
    url = f"/api/v1/{K}/claims/fee-1/write-off"
    r = staff.post(url, json={"amount_ore": 2500, "reason": "Delvis", "by": "ab"}, headers=auth())
    assert r.json()["remaining_ore"] == 10000 and r.json()["status"] == "open"
    r = staff.post(url, json={"reason": "Resten", "by": "ab"}, headers=auth())
    assert r.json()["written_off_ore"] == 10000 and r.json()["status"] == "written_off"
    assert [(t, s, p.get("remaining_ore")) for t, _, s, _, p in coverage(desk)] == [
        ("ClaimWrittenOff", 1, 10000),
        ("ClaimWrittenOff", 2, 0),
        ("ClaimClosed", 3, None),
    ]


def test_write_off_by_hand_is_refused_clearly(desk: Desk, staff: TestClient) -> None:
    desk.register("fee-1", 12500)
    desk.register("gone", 12500)
    desk.cancel("gone")
    url = f"/api/v1/{K}/claims/fee-1/write-off"
    r = staff.post(url, json={"amount_ore": 12501, "reason": "x", "by": "ab"}, headers=auth())
    assert r.status_code == 422 and r.json()["type"].endswith("/write-off-amount")
    r = staff.post(url, json={"reason": "x"}, headers=auth())
    assert r.status_code == 422  # who is required
    r = staff.post(url, json={"reason": "  ", "by": "ab"}, headers=auth())
    assert r.status_code == 422 and r.json()["type"].endswith("/write-off-reason")
    r = staff.post(
        f"/api/v1/{K}/claims/gone/write-off", json={"reason": "x", "by": "ab"}, headers=auth()
    )
    assert r.status_code == 409 and r.json()["type"].endswith("/claim-not-open")
    r = staff.post(
        f"/api/v1/{K}/claims/nope/write-off", json={"reason": "x", "by": "ab"}, headers=auth()
    )
    assert r.status_code == 404
    r = staff.post(url, json={"reason": "x", "by": "ab"}, headers=auth(LIBRARY_KEY))
    assert r.status_code == 403
    assert coverage(desk) == [] and desk.claim("fee-1")["balance_ore"] == 12500


def test_below_the_minimum_after_the_last_reminder(desk: Desk) -> None:
    desk.rules(
        write_off_below_ore=5000,
        reminder_steps=[{"days_after_deadline": 14, "fee_public_ore": 0, "fee_civil_ore": 0}],
    )
    desk.register("small", 4000)
    desk.register("large", 6000, debtor=OTHER_CPR)
    assert desk.dun(date(2026, 3, 30)).write_offs == 0  # the day of the last reminder
    result = desk.dun(date(2026, 3, 31))
    assert (result.write_offs, result.written_off_ore) == (1, 4000)
    assert desk.claim("small")["status"] == "written_off"
    assert desk.claim("large")["status"] == "open"
    ((amount, rule, reason, by),) = reasons(desk)
    assert (amount, rule, by) == (4000, "below_minimum", "system")
    assert "50,00 kr." in reason
    assert [(t, s) for t, _, s, _, _ in coverage(desk)] == [
        ("ClaimWrittenOff", 1),
        ("ClaimClosed", 2),
    ]
    assert desk.dun(date(2026, 4, 1)).write_offs == 0


def test_limitation_three_years_after_the_due_date(desk: Desk) -> None:
    desk.register("old", 12500)
    desk.dun(date(2026, 3, 30))
    desk.dun(date(2026, 4, 19))  # 100 kr fee: the balance is 225 kr
    assert desk.dun(date(2029, 3, 15)).write_offs == 0
    with desk.system.db.begin() as conn:
        result = run_write_offs(conn, desk.clock, date(2029, 3, 16))
    assert (result.write_offs, result.written_off_ore, result.reminders) == (1, 22500, 0)
    ((_, rule, reason, _),) = reasons(desk)
    assert rule == "limitation" and "Forældet" in reason and "2026-03-16" in reason
    written, closed = coverage(desk)
    # the library hears of its own 125 kr. written off, not of debtor's 100 kr. reminder fee
    assert written[4]["amount_ore"] == 12500 and closed[4]["outcome"] == "written_off"


def test_a_deceased_debtors_claims_are_written_off_and_not_reminded(
    desk: Desk, staff: TestClient
) -> None:
    desk.register("fee-1", 12500)
    desk.register("fee-2", 3000)
    desk.register("other", 12500, debtor=OTHER_CPR)
    ref = staff.post(f"/api/v1/{K}/debtors/lookup", json={"debtor": CPR}, headers=auth()).json()[
        "debtor_ref"
    ]
    url = f"/api/v1/{K}/debtors/{ref}/deceased"
    r = staff.post(url, json={"on": "2026-03-20"}, headers=auth())
    assert r.status_code == 422  # who flags a death says how it is known
    r = staff.post(url, json={"on": "2026-03-20", "reason": "CPR-registret"}, headers=auth())
    assert r.status_code == 200 and r.json() == {"deceased_on": "2026-03-20"}
    result = desk.dun(date(2026, 3, 30))
    assert (result.write_offs, result.written_off_ore, result.reminders) == (2, 15500, 1)
    assert {desk.claim(c)["status"] for c in ("fee-1", "fee-2")} == {"written_off"}
    assert desk.invoice_of("fee-1")["reminders"] == []
    assert {rule for _, rule, _, _ in reasons(desk)} == {"deceased"}
    view = desk.account()
    assert view["deceased_on"] == date(2026, 3, 20) and view["balance_ore"] == 0
    # a second flag keeps the first date
    r = staff.post(url, json={"reason": "dødsboet skrev"}, headers=auth())
    assert r.json() == {"deceased_on": "2026-03-20"}


def test_a_deceased_debtors_uninvoiced_claims_are_written_off_too(desk: Desk) -> None:
    desk.rules(invoicing_mode="collected")
    desk.register("fee-1", 12500)
    with desk.system.db.begin() as conn:
        mark_deceased(conn, desk.clock, K, CPR)
    assert desk.invoice().invoices == 0  # a deceased debtor is not invoiced
    with desk.system.db.begin() as conn:
        assert run_write_offs(conn, desk.clock, desk.clock.today()).write_offs == 1
    assert desk.claim("fee-1")["status"] == "written_off"


def test_a_write_off_settles_the_principal_first(desk: Desk) -> None:
    """As the library applies ClaimWrittenOff: lower the fee by the amount, stop at zero."""
    desk.rules(interest_enabled=True)
    desk.register("fee-1", 10000)
    desk.register("fee-2", 10000, debtor=OTHER_CPR)
    desk.dun(date(2026, 3, 30))
    desk.dun(date(2026, 4, 19))  # 100 kr fee, 2 months' interest (2,00 kr.) on each
    with desk.system.db.begin() as conn:
        write_off_by_hand(
            conn, desk.clock, K, "fee-1", amount=Money(4000), reason="Delvis", by="ab"
        )
        write_off_by_hand(conn, desk.clock, K, "fee-2", amount=None, reason="Hele", by="ab")
    with desk.system.db.connect() as conn:
        principal = principal_balances(conn, K)
    # fee-2: the 202,00 kr. written off cover its 100 kr. principal, then its fee and interest
    assert principal == {"fee-1": 6000, "fee-2": 0}
    # interest runs on the principal outstanding when each month began: months 1 and 2 on
    # 100 kr. (posted), month 3 (from 17 May) on the 60 kr. left after 19 April: 0,60 kr.
    assert desk.dun(date(2026, 5, 17)).interest_ore == 60
    desk.dun(date(2026, 7, 17))  # months 4 and 5 on 60 kr. too: 2,00 + 0,60 + 1,20 kr.
    assert sum(ore for _, ore, _ in desk.postings("fee-1", "interest")) == 380
