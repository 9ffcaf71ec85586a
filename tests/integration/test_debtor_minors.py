"""Minors (#11 item 10): a claim whose debtor is a person under 18 is held with the reason
"guardian required", listed for staff (CPR masked), never invoiced or reminded; a guardian set
later releases it onto the normal path. On SQLite and PostgreSQL; the ledger guard runs after
each test.

The CPR numbers are built here from a birth date by hand: DDMMYY, and the 7th digit 4, which the
CPR office's table reads as 2000-2036 (0-3: the 1900s). Whether a person is of age on a day is
written out by hand in each case, not computed by the code under test.
"""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from fbs_debitor.bootstrap import System
from fbs_debitor.contracts.coverage import InvoiceIssued
from fbs_debitor.contracts.registration import RegistrationAccepted
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.service.holds import list_held_claims
from fbs_debitor.library.model import NewFee
from fbs_debitor.library.service import accounts as library
from tests.factories import claim_registered, debtor_ref
from tests.integration.debtor_billing_support import CPR, Desk, K, auth

MINOR = "1506104123"
"""Born 15 June 2010 (7th digit 4, year 10: 2010): 15 years old on 2 March 2026."""
GUARDIAN = "0202752345"
"""Born 2 February 1975 (7th digit 2: the 1900s)."""


def cpr_born(day: date, serial: str = "4123") -> str:
    """A CPR number of someone born on ``day`` (2000-2036: the 7th digit is 4)."""
    assert 2000 <= day.year <= 2036 and serial[0] == "4"
    return f"{day:%d%m%y}{serial}"


def held(desk: Desk) -> list[dict[str, object]]:
    with desk.system.db.connect() as conn:
        return list_held_claims(conn, K)


def test_a_15_year_olds_fee_is_held_and_never_invoiced(desk: Desk) -> None:
    desk.register("fee-1", 1037, debtor=MINOR)

    claim = desk.claim("fee-1")
    assert (claim["status"], claim["balance_ore"]) == ("held", 1037)
    assert [(p["kind"], p["amount_ore"]) for p in claim["postings"]] == [("charge", 1037)]
    assert [e["detail"] for e in claim["events"] if e["kind"] == "held"] == [
        {
            "reason": "guardian required",
            "text": "Debitor er under 18 år; fordringen venter på en værge / the debtor is "
            "under 18; the claim waits for a guardian",
        }
    ]
    account = desk.account(MINOR)
    assert account["invoices"] == [] and account["letters"] == []
    assert desk.messages(InvoiceIssued.MESSAGE_TYPE) == []
    # the library hears that debtor has the claim (its balance), as for any claim
    ((answer, _, _),) = desk.messages(RegistrationAccepted.MESSAGE_TYPE)
    assert (answer["claim_id"], answer["debtor_balance_ore"]) == ("fee-1", 1037)

    # neither the invoicing run nor months of dunning touch it
    assert desk.invoice().invoices == 0
    desk.rules(invoicing_mode="collected", collect_every_days=1, collect_min_total_ore=0)
    assert desk.invoice(date(2026, 3, 3)).invoices == 0
    for day in (date(2026, 4, 1), date(2026, 6, 1), date(2026, 9, 1)):
        desk.dun(day)
        desk.invoice()
    account = desk.account(MINOR)
    assert account["invoices"] == [] and account["letters"] == []
    assert [(p["kind"], p["amount_ore"]) for p in desk.claim("fee-1")["postings"]] == [
        ("charge", 1037)
    ]
    assert desk.messages(InvoiceIssued.MESSAGE_TYPE) == []


def test_held_claims_are_listed_for_staff_masked(desk: Desk, staff: TestClient) -> None:
    desk.register("fee-1", 1037, debtor=MINOR)
    desk.register("fee-2", 2000, debtor=CPR)  # of age: invoiced, not listed

    r = staff.get(f"/api/v1/{K}/held-claims", headers=auth())
    assert r.status_code == 200
    (listed,) = r.json()["claims"]
    assert listed["claim_id"] == "fee-1"
    assert listed["debtor"] == "150610-XXXX"
    assert listed["reason"] == "guardian required"
    assert (listed["balance_ore"], listed["balance"]) == (1037, str(Money(1037)))
    assert listed["patron_id"] == "patron-1"
    assert MINOR not in r.text and MINOR[6:] not in r.text
    assert staff.get(f"/api/v1/{K}/held-claims?limit=0", headers=auth()).status_code == 422


def test_a_guardian_releases_the_claim_and_it_is_invoiced_to_the_guardian(desk: Desk) -> None:
    desk.register("fee-1", 1037, debtor=MINOR)
    desk.write_down("fee-1", 37)  # the library may still regulate a held claim
    assert desk.claim("fee-1")["status"] == "held"

    desk.change_debtor("fee-1", GUARDIAN)

    claim = desk.claim("fee-1")
    assert (claim["status"], claim["debtor"], claim["balance_ore"]) == (
        "open",
        "020275-XXXX",
        1000,
    )
    assert [e["kind"] for e in claim["events"]][-2:] == ["released", "debtor_changed"]
    invoice = desk.invoice_of("fee-1", GUARDIAN)
    assert invoice["amount_due_ore"] == invoice["issued_total_ore"] == 1000
    ((issued, _, _),) = desk.messages(InvoiceIssued.MESSAGE_TYPE)
    assert (issued["debtor_id_masked"], issued["claim_ids"]) == ("020275-XXXX", ["fee-1"])
    assert desk.account(MINOR)["invoices"] == []
    assert held(desk) == []


def test_in_collected_mode_the_released_claim_waits_for_the_next_collection(desk: Desk) -> None:
    desk.rules(invoicing_mode="collected", collect_every_days=1, collect_min_total_ore=0)
    desk.register("fee-1", 1037, debtor=MINOR)
    assert desk.invoice().invoices == 0
    desk.change_debtor("fee-1", GUARDIAN)
    assert desk.account(GUARDIAN)["invoices"] == []  # not at once: the collection takes it
    assert desk.invoice(date(2026, 3, 3)).invoices == 1
    assert desk.invoice_of("fee-1", GUARDIAN)["amount_due_ore"] == 1037


def test_an_open_claim_moved_to_a_minor_is_held_and_leaves_its_invoice(desk: Desk) -> None:
    desk.register("fee-1", 12500, debtor=GUARDIAN)
    before = desk.invoice_of("fee-1", GUARDIAN)
    desk.change_debtor("fee-1", MINOR)  # the library removed the guardian
    assert desk.claim("fee-1")["status"] == "held"
    (left,) = desk.account(GUARDIAN)["invoices"]
    assert (left["invoice_id"], left["amount_due_ore"], left["claims"]) == (
        before["invoice_id"],
        0,
        [],
    )
    assert desk.account(MINOR)["invoices"] == []
    assert [c["claim_id"] for c in held(desk)] == ["fee-1"]


def test_a_held_claim_can_be_cancelled_and_leaves_the_list(desk: Desk) -> None:
    desk.register("fee-1", 1037, debtor=MINOR)
    desk.cancel("fee-1")
    assert (desk.claim("fee-1")["status"], desk.claim("fee-1")["balance_ore"]) == ("cancelled", 0)
    assert held(desk) == []


@pytest.mark.parametrize(
    ("born", "verdict"),
    [
        (date(2008, 3, 1), "open"),  # 18 the day before the registration: of age
        (date(2008, 3, 2), "open"),  # 18 on the day: of age
        (date(2008, 3, 3), "held"),  # 18 the day after: still a minor
        (date(2007, 3, 2), "open"),
        (date(2010, 6, 15), "held"),
    ],
)
def test_the_age_is_counted_on_the_registration_date(desk: Desk, born: date, verdict: str) -> None:
    assert desk.clock.today() == date(2026, 3, 2)
    number = cpr_born(born)
    desk.register("fee-1", 1037, debtor=number)
    assert desk.claim("fee-1")["status"] == verdict
    invoices = desk.account(number)["invoices"]
    assert len(invoices) == (1 if verdict == "open" else 0)
    if verdict == "open":
        assert invoices[0]["amount_due_ore"] == 1037


def test_the_message_date_counts_not_the_day_it_is_applied(desk: Desk) -> None:
    """A registration made the day before the 18th birthday and applied on the birthday is held:
    the age is taken on the message's date, not the clock's at delivery."""
    born = date(2008, 3, 3)
    number = cpr_born(born)
    message_time = desk.clock.now()  # 2 March 2026: 17 years old
    desk.today(date(2026, 3, 3))  # delivered on the birthday
    desk.send(
        claim_registered(
            "fee-1",
            municipality=K,
            occurred_at=message_time,
            debtor=debtor_ref(number),
            amount_ore=1037,
        )
    )
    assert desk.claim("fee-1")["status"] == "held"


def test_through_the_library_the_guardian_set_later_is_invoiced(live: System) -> None:
    """The whole way: a 15-year-old patron without a guardian gets a fee in the library; debtor
    holds it; staff in the library register the guardian; the fee is invoiced to the guardian."""
    system = live
    with system.db.begin() as conn:
        patron = library.create_patron(conn, system.clock, K, cpr=MINOR, name="Ida")
    with system.db.begin() as conn:
        fee = library.create_fee(
            conn,
            system.clock,
            K,
            NewFee(patron_id=patron.id, kind="fee", amount=Money.parse("10,37")),
        )
    system.drain()
    desk = Desk(system)
    claim_id = str(fee.id)
    assert desk.claim(claim_id)["status"] == "held"
    assert [c["claim_id"] for c in held(desk)] == [claim_id]
    assert desk.messages(InvoiceIssued.MESSAGE_TYPE) == []

    with system.db.begin() as conn:
        library.change_debtor(
            conn, system.clock, K, patron.id, cpr=MINOR, guardian_cpr=GUARDIAN, reason="værge"
        )
    system.drain()
    claim = desk.claim(claim_id)
    assert (claim["status"], claim["debtor"]) == ("open", "020275-XXXX")
    invoice = desk.invoice_of(claim_id, GUARDIAN)
    assert invoice["amount_due_ore"] == 1037
    assert held(desk) == []
