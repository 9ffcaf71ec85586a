"""Account credit end to end, the whole system wired: an overpayment stays as credit on the
debtor account, pays the debtor's next claim when it is invoiced (immediate and collected mode,
bulk and single registration path), is refunded by staff (idempotent per reference), and a
reversed overpayment whose credit was used leaves a shortfall. Library and debtor agree to the
øre after every flow."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from fbs_debitor.bootstrap import System
from fbs_debitor.core.errors import ConflictError, ValidationError
from fbs_debitor.core.money import Money
from fbs_debitor.debtor import views
from fbs_debitor.debtor.service import credit, intake
from fbs_debitor.debtor.service.agreements import account_for
from fbs_debitor.debtor.service.invoicing import run_invoicing
from fbs_debitor.debtor.service.rules import put_rules
from fbs_debitor.debtor.store.tables import claims, invoices, payments
from fbs_debitor.library.model import FeeStatus, NewFee
from fbs_debitor.library.service import accounts
from fbs_debitor.messaging.store import outbox
from fbs_debitor.payments.adapters.camt_writer import BankCredit, write_camt054
from fbs_debitor.payments.service.bank import import_bank_file
from fbs_debitor.tenants.model import Role
from fbs_debitor.tenants.service import keys as tenant_keys
from fbs_debitor.web.app import create_app
from tests.factories import claim_registered
from tests.integration.leg34_support import assert_reconciled, reverse

K = "101"
CPR = "0101901234"
OTHER_CPR = "0202652345"
PAID_ON = date(2026, 3, 10)
LATER = date(2026, 3, 12)


@pytest.fixture
def collected(live: System) -> System:
    with live.db.begin() as conn:
        put_rules(conn, live.clock, K, {"invoicing_mode": "collected", "collect_every_days": 7})
    return live


# -- helpers ----------------------------------------------------------------------------------------


def patron(system: System, cpr: str = CPR) -> int:
    with system.db.begin() as conn:
        return accounts.create_patron(conn, system.clock, K, cpr=cpr).id


def fee(system: System, patron_id: int, ore: int, kind: str = "fee") -> int:
    """A new fee in the library; the worker registers it with debtor (the bulk path)."""
    with system.db.begin() as conn:
        f = accounts.create_fee(
            conn, system.clock, K, NewFee(patron_id=patron_id, kind=kind, amount=Money(ore))
        ).id
    system.drain()
    return f


def invoice_of(system: System, fee_id: int) -> tuple[str, int] | None:
    """(FIK payment ID, the amount the invoice was issued for) of the fee's claim; None if the
    claim is on no invoice."""
    with system.db.connect() as conn:
        row = conn.execute(
            select(invoices.c.payment_id, invoices.c.issued_total_ore)
            .select_from(invoices.join(claims, claims.c.invoice_id == invoices.c.id))
            .where(claims.c.claim_id == str(fee_id))
        ).first()
    return None if row is None else (row.payment_id, int(row.issued_total_ore))


def issued_message(system: System, fee_id: int) -> dict[str, Any]:
    """The InvoiceIssued that made the fee's claim payable (exactly one)."""
    with system.db.connect() as conn:
        found = [
            json.loads(p)
            for p in conn.execute(
                select(outbox.c.payload).where(outbox.c.message_type == "coverage.InvoiceIssued.v1")
            ).scalars()
        ]
    mine = [m for m in found if str(fee_id) in m["claim_ids"]]
    assert len(mine) == 1
    return mine[0]


def bank(system: System, tmp_path: Path, ref: str, ore: int, pid: str) -> None:
    path = tmp_path / f"camt-{ref}.xml"
    write_camt054(path, f"MSG-{ref}", [BankCredit(ref, ore, PAID_ON, pid, "")])
    import_bank_file(system.db, system.clock, K, path)
    system.drain()


def fee_state(system: System, fee_id: int) -> tuple[Money, FeeStatus, date | None]:
    with system.db.connect() as conn:
        f = accounts.get_fee(conn, K, fee_id)
    return f.open, f.status, f.paid_date


def account(system: System, cpr: str = CPR) -> dict[str, Any]:
    with system.db.connect() as conn:
        return views.account_view(conn, K, cpr, system.clock.today())


def account_id(system: System, cpr: str = CPR) -> int:
    with system.db.connect() as conn:
        return account_for(conn, K, cpr)


def available(system: System, cpr: str = CPR) -> int:
    with system.db.connect() as conn:
        return credit.available_credit(conn, K, account_id(system, cpr))


def refund(
    system: System, amount_ore: int | None, reference: str, cpr: str = CPR
) -> tuple[dict[str, Any], bool]:
    a = account_id(system, cpr)
    with system.db.begin() as conn:
        return credit.refund(
            conn,
            system.clock,
            K,
            a,
            None if amount_ore is None else Money(amount_ore),
            reference,
            "Sagsbehandler",
        )


def overpaid(system: System, tmp_path: Path, over_ore: int, p: int | None = None) -> int:
    """A 120 kr fee of the patron, its invoice paid with ``over_ore`` too much; returns the
    fee id. The clock moves to after the booking date."""
    p = p if p is not None else patron(system)
    f = fee(system, p, 12000)
    found = invoice_of(system, f)
    assert found is not None
    bank(system, tmp_path, f"O{f}", 12000 + over_ore, found[0])
    system.clock.set_date(LATER)
    assert fee_state(system, f)[:2] == (Money(0), FeeStatus.PAID)
    return f


# -- immediate mode -------------------------------------------------------------------------------


def test_overpayment_pays_the_next_claim_and_its_invoice_shows_the_rest(
    live: System, tmp_path: Path
) -> None:
    p = patron(live)
    overpaid(live, tmp_path, 1000, p)
    assert available(live) == 1000
    view = account(live)
    assert (view["credit_ore"], view["credit"], view["refunds"]) == (1000, "10.00", [])

    b = fee(live, p, 5000)  # 50 kr: the credit pays 10 kr of it, the invoice asks for 40 kr
    assert fee_state(live, b) == (Money(4000), FeeStatus.OPEN, None)
    found = invoice_of(live, b)
    assert found is not None and found[1] == 4000
    assert issued_message(live, b)["amount_ore"] == 4000
    assert available(live) == 0
    with live.db.connect() as conn:
        assert views.claim_balances(conn, K)[str(b)] == 4000
        history = accounts.fee_history(conn, K, b)
        used = conn.execute(
            select(payments).where(payments.c.channel == credit.CREDIT_CHANNEL)
        ).one()
    assert any("via credit" in e.text and e.amount == Money(-1000) for e in history)
    assert (used.payment_ref, used.covered_ore, used.credit_ore) == (
        f"credit:{account_id(live)}:1",
        1000,
        0,
    )
    assert used.booked_on == LATER
    assert account(live)["credit_ore"] == 0

    # the rest is paid with the slip as usual; nothing is left over
    bank(live, tmp_path, "B-REST", 4000, found[0])
    assert fee_state(live, b) == (Money(0), FeeStatus.PAID, PAID_ON)
    assert available(live) == 0
    assert_reconciled(live)


def test_credit_larger_than_the_next_claim_pays_it_and_the_rest_stays(
    live: System, tmp_path: Path
) -> None:
    p = patron(live)
    overpaid(live, tmp_path, 10000, p)  # 100 kr credit
    b = fee(live, p, 2000)
    assert fee_state(live, b) == (Money(0), FeeStatus.PAID, LATER)
    assert invoice_of(live, b) is None  # paid in full by credit: no invoice, no letter
    assert available(live) == 8000
    c = fee(live, p, 3000, kind="compensation")
    assert fee_state(live, c) == (Money(0), FeeStatus.PAID, LATER)
    assert invoice_of(live, c) is None
    assert available(live) == 5000
    d = fee(live, p, 7500)  # more than the 50 kr left: invoiced for 25 kr
    assert fee_state(live, d) == (Money(2500), FeeStatus.OPEN, None)
    found = invoice_of(live, d)
    assert found is not None and found[1] == 2500
    assert available(live) == 0
    # another debtor's claim is untouched by this credit
    q = patron(live, OTHER_CPR)
    e = fee(live, q, 4000)
    assert fee_state(live, e) == (Money(4000), FeeStatus.OPEN, None)
    found_e = invoice_of(live, e)
    assert found_e is not None and found_e[1] == 4000
    assert_reconciled(live)


def test_credit_pays_older_open_claims_first(live: System, tmp_path: Path) -> None:
    p = patron(live)
    a = fee(live, p, 6000)  # invoiced, unpaid
    overpaid(live, tmp_path, 3000, p)  # another fee, overpaid by 30 kr
    b = fee(live, p, 5000)
    # the oldest open claim (a, due first) takes the 30 kr; the new claim b is invoiced whole
    assert fee_state(live, a)[:2] == (Money(3000), FeeStatus.OPEN)
    assert fee_state(live, b)[:2] == (Money(5000), FeeStatus.OPEN)
    found = invoice_of(live, b)
    assert found is not None and found[1] == 5000
    assert available(live) == 0
    assert_reconciled(live)


def test_single_registration_path_uses_credit_too(live: System, tmp_path: Path) -> None:
    """The HTTP service endpoint registers one claim at a time (not the worker's bulk path)."""
    overpaid(live, tmp_path, 1500)
    message = claim_registered(
        "ext-1",
        municipality=K,
        occurred_at=live.clock.now(),
        debtor=CPR,
        amount_ore=4000,
        created_on=LATER,
    )
    with live.db.begin() as conn:
        outcome = intake.receive_registration(
            conn, live.clock, message, message_id=str(uuid.uuid4())
        )
    assert outcome is not None and outcome.accepted
    with live.db.connect() as conn:
        assert views.claim_balances(conn, K)["ext-1"] == 2500
        invoice = conn.execute(
            select(invoices.c.issued_total_ore)
            .select_from(invoices.join(claims, claims.c.invoice_id == invoices.c.id))
            .where(claims.c.claim_id == "ext-1")
        ).scalar_one()
    assert invoice == 2500
    assert available(live) == 0


# -- collected mode -------------------------------------------------------------------------------


def test_collected_mode_uses_credit_at_the_invoicing_run(collected: System, tmp_path: Path) -> None:
    live = collected
    p = patron(live)
    a = fee(live, p, 12000)
    with live.db.begin() as conn:
        run_invoicing(conn, live.clock, live.clock.today(), K)
    live.drain()
    found = invoice_of(live, a)
    assert found is not None
    bank(live, tmp_path, "C1", 13000, found[0])  # 10 kr too much
    live.clock.set_date(LATER)
    b = fee(live, p, 600)
    c = fee(live, p, 5000)
    # until the next collection the credit waits and the claims stay uninvoiced
    assert fee_state(live, b)[:2] == (Money(600), FeeStatus.OPEN)
    assert available(live) == 1000
    assert date(2026, 3, 2) + timedelta(days=7) <= LATER  # the next collection is due
    with live.db.begin() as conn:
        result = run_invoicing(conn, live.clock, LATER, K)
    live.drain()
    # 6 kr pays b in full (no invoice); 4 kr of c; one invoice for c's remaining 46 kr
    assert (result.invoices, result.claims) == (1, 1)
    assert fee_state(live, b) == (Money(0), FeeStatus.PAID, LATER)
    assert fee_state(live, c) == (Money(4600), FeeStatus.OPEN, None)
    assert invoice_of(live, b) is None
    found_c = invoice_of(live, c)
    assert found_c is not None and found_c[1] == 4600
    assert issued_message(live, c)["amount_ore"] == 4600
    assert available(live) == 0
    assert_reconciled(live)


# -- refunds ----------------------------------------------------------------------------------------


def test_refund_part_then_all_refused_beyond_credit_and_idempotent(
    live: System, tmp_path: Path
) -> None:
    overpaid(live, tmp_path, 2500)
    first, made = refund(live, 1000, "REF-1")
    assert made and (first["amount_ore"], first["reference"]) == (1000, "REF-1")
    assert available(live) == 1500
    again, made = refund(live, 700, "REF-1")  # the same reference: the first refund, unchanged
    assert not made and again == first
    assert available(live) == 1500
    with pytest.raises(ConflictError) as too_much:
        refund(live, 1501, "REF-2")
    assert too_much.value.code == "refund-exceeds-credit"
    assert too_much.value.extra["available_ore"] == 1500
    with pytest.raises(ValidationError):
        refund(live, 0, "REF-3")
    rest, made = refund(live, None, "REF-4")  # None: all of it
    assert made and rest["amount_ore"] == 1500
    assert available(live) == 0
    with pytest.raises(ConflictError) as none_left:
        refund(live, None, "REF-5")
    assert none_left.value.code == "no-credit"
    view = account(live)
    assert view["credit_ore"] == 0
    assert [(r["reference"], r["amount_ore"]) for r in view["refunds"]] == [
        ("REF-1", 1000),
        ("REF-4", 1500),
    ]
    # a refunded credit pays nothing: the next claim is invoiced whole
    b = fee(live, patron(live), 3000)
    assert fee_state(live, b)[:2] == (Money(3000), FeeStatus.OPEN)
    assert invoice_of(live, b) is not None
    assert_reconciled(live)


def test_refund_reference_of_another_account_is_refused(live: System, tmp_path: Path) -> None:
    overpaid(live, tmp_path, 1000)
    overpaid(live, tmp_path, 2000, patron(live, OTHER_CPR))
    refund(live, 500, "SHARED")
    with pytest.raises(ConflictError) as used:
        refund(live, 500, "SHARED", cpr=OTHER_CPR)
    assert used.value.code == "refund-reference-used"
    assert (available(live), available(live, OTHER_CPR)) == (500, 2000)


# -- reversal ----------------------------------------------------------------------------------------


def test_reversed_overpayment_takes_its_unused_credit_away(live: System, tmp_path: Path) -> None:
    f = overpaid(live, tmp_path, 1000)
    reverse(live, f"bank:O{f}", 1)
    assert fee_state(live, f)[:2] == (Money(12000), FeeStatus.OPEN)
    assert available(live) == 0
    assert account(live)["credit_shortfall_ore"] == 0
    assert_reconciled(live)


def test_reversed_overpayment_whose_credit_was_used_leaves_a_shortfall(
    live: System, tmp_path: Path
) -> None:
    """The rule: credit already used stays used (the claim it paid stays paid); the account's
    available credit never goes below zero, and the shortfall is made up by later credit."""
    p = patron(live)
    f = overpaid(live, tmp_path, 1000, p)
    b = fee(live, p, 5000)
    assert fee_state(live, b)[:2] == (Money(4000), FeeStatus.OPEN)
    reverse(live, f"bank:O{f}", 1)
    assert fee_state(live, f)[:2] == (Money(12000), FeeStatus.OPEN)  # the bank's money is gone
    assert fee_state(live, b)[:2] == (Money(4000), FeeStatus.OPEN)  # the credit's use stays
    view = account(live)
    assert (view["credit_ore"], view["credit_shortfall_ore"]) == (0, 1000)
    with pytest.raises(ConflictError):
        refund(live, None, "AFTER-REVERSAL")
    # b's slip paid with 15 kr too much: 10 kr make up the shortfall, 5 kr are credit
    found = invoice_of(live, b)
    assert found is not None
    bank(live, tmp_path, "B-OVER", 5500, found[0])
    assert fee_state(live, b)[:2] == (Money(0), FeeStatus.PAID)
    view = account(live)
    assert (view["credit_ore"], view["credit_shortfall_ore"]) == (500, 0)
    assert available(live) == 500
    assert_reconciled(live)


def test_credit_payments_never_count_as_credit(live: System, tmp_path: Path) -> None:
    p = patron(live)
    overpaid(live, tmp_path, 5000, p)
    fee(live, p, 2000)
    fee(live, p, 1000)
    a = account_id(live)
    with live.db.connect() as conn:
        rows = conn.execute(
            select(payments.c.payment_ref, payments.c.covered_ore, payments.c.credit_ore)
            .where(payments.c.channel == credit.CREDIT_CHANNEL)
            .order_by(payments.c.id)
        ).all()
        with_credit = credit.accounts_with_credit(conn, K, [a, a + 1000])
    assert [tuple(r) for r in rows] == [(f"credit:{a}:1", 2000, 0), (f"credit:{a}:2", 1000, 0)]
    assert with_credit == {a: 2000}
    assert_reconciled(live)


# -- HTTP ---------------------------------------------------------------------------------------------


@pytest.fixture
def client(live: System) -> TestClient:
    with live.db.begin() as conn:
        for role in (Role.DEBTOR_STAFF, Role.OPS):
            tenant_keys.create_api_key(conn, live.clock, K, role, role.value, f"key-{role.value}")
    return TestClient(create_app(live), raise_server_exceptions=False)


def _auth(role: Role = Role.DEBTOR_STAFF) -> dict[str, str]:
    return {"Authorization": f"Bearer key-{role.value}"}


def test_http_account_shows_credit_and_refund_is_idempotent(
    live: System, client: TestClient, tmp_path: Path
) -> None:
    overpaid(live, tmp_path, 3000)
    found = client.post(f"/api/v1/{K}/debtors/lookup", json={"debtor": CPR}, headers=_auth())
    url = f"/api/v1/{K}/debtors/{found.json()['debtor_ref']}"
    view = client.get(url, headers=_auth()).json()
    assert (view["credit_ore"], view["credit"], view["refunds"]) == (3000, "30.00", [])

    why = "borgeren bad om det"
    body = {"amount_ore": 1000, "reference": "NK-1", "by": "Hanne", "reason": why}
    first = client.post(f"{url}/refunds", json=body, headers=_auth())
    assert first.status_code == 201, first.text
    assert first.json()["refund"]["amount_ore"] == 1000
    assert first.json()["credit_ore"] == 2000
    again = client.post(f"{url}/refunds", json={**body, "amount_ore": 5}, headers=_auth())
    assert again.status_code == 200
    assert again.json()["refund"] == first.json()["refund"]
    assert again.json()["created"] is False

    too_much = client.post(
        f"{url}/refunds",
        json={"amount_ore": 2001, "reference": "NK-2", "reason": why},
        headers=_auth(),
    )
    assert too_much.status_code == 409
    assert too_much.headers["content-type"].startswith("application/problem+json")
    assert too_much.json()["type"].endswith("/refund-exceeds-credit")
    assert too_much.json()["available_ore"] == 2000

    ops = client.post(
        f"{url}/refunds", json={"reference": "NK-3", "reason": why}, headers=_auth(Role.OPS)
    )
    assert ops.status_code == 403
    bad = client.post(
        f"{url}/refunds", json={"amount_ore": 0, "reference": "X", "reason": why}, headers=_auth()
    )
    assert bad.status_code == 422

    rest = client.post(f"{url}/refunds", json={"reference": "NK-4", "reason": why}, headers=_auth())
    assert rest.status_code == 201
    assert rest.json()["refund"]["amount_ore"] == 2000
    assert rest.json()["refund"]["requested_by"].startswith("key:")  # the key that asked
    view = client.get(url, headers=_auth()).json()
    assert view["credit_ore"] == 0
    assert [r["reference"] for r in view["refunds"]] == ["NK-1", "NK-4"]
    none_left = client.post(
        f"{url}/refunds", json={"reference": "NK-5", "reason": why}, headers=_auth()
    )
    assert none_left.status_code == 409
    assert none_left.json()["type"].endswith("/no-credit")
    unknown = client.post(
        f"/api/v1/{K}/debtors/D999999/refunds",
        json={"reference": "NK-6", "reason": why},
        headers=_auth(),
    )
    assert unknown.status_code == 404
    assert_reconciled(live)
