"""Leg 1 end to end, the whole system wired: fees in the library become claims in debtor, old
fees never do, every regulation reaches debtor, and both sides agree to the øre, also after
redelivered and reordered messages."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, update

from fbs_debitor.bootstrap import System
from fbs_debitor.core.money import Money
from fbs_debitor.debtor import guard, views
from fbs_debitor.library.model import DebtorState, NewFee
from fbs_debitor.library.service import accounts
from fbs_debitor.messaging.store import outbox
from fbs_debitor.reconcile import reconcile
from fbs_debitor.tenants.service import municipalities as tenants
from tests.integration.municipality_support import K, set_up_kobenhavn


@pytest.fixture
def live(system: System) -> System:
    """København with cutoff 1 January 2026, fees and replacement charges mapped."""
    set_up_kobenhavn(system, ("BIB-GEB", "BIB-ERS"), "BIB")
    return system


def fee(system: System, patron: int, kind: str, ore: int, created: date | None = None) -> int:
    with system.db.begin() as conn:
        return accounts.create_fee(
            conn,
            system.clock,
            K,
            NewFee(patron_id=patron, kind=kind, amount=Money(ore), creation_date=created),
        ).id


def patron(system: System, cpr: str, **kw: str) -> int:
    with system.db.begin() as conn:
        return accounts.create_patron(conn, system.clock, K, cpr=cpr, **kw).id


def assert_reconciled(system: System) -> None:
    with system.db.connect() as conn:
        result = reconcile(conn, K)
        assert guard.check_ledger(conn, K) == []
    assert result.differences == []
    assert result.reconciled


def test_new_fees_become_claims_old_ones_never(live: System) -> None:
    p = patron(live, "0101901234")
    old = fee(live, p, "fee", 2000, created=date(2025, 12, 31))
    on_cutoff = fee(live, p, "fee", 9000, created=date(2026, 1, 1))
    new = fee(live, p, "compensation", 34950)
    live.drain()
    with live.db.connect() as conn:
        balances = views.claim_balances(conn, K)
        states = {i: accounts.get_fee(conn, K, i).debtor_state for i in (old, on_cutoff, new)}
    assert balances == {str(on_cutoff): 9000, str(new): 34950}
    assert states == {
        old: DebtorState.NOT_SENT,
        on_cutoff: DebtorState.REGISTERED,
        new: DebtorState.REGISTERED,
    }
    assert_reconciled(live)


def test_every_regulation_reaches_debtor_to_the_ore(live: System) -> None:
    p = patron(live, "0101901234")
    a = fee(live, p, "fee", 12000)
    b = fee(live, p, "compensation", 34950)
    c = fee(live, p, "fee", 2000)
    with live.db.begin() as conn:
        accounts.write_down(conn, live.clock, K, a, Money(2050), "fejl i takst")
        accounts.write_up(conn, live.clock, K, a, Money(125), "porto")
        accounts.write_down(conn, live.clock, K, b, Money(34950), "materialet fundet")
        accounts.cancel_fee(conn, live.clock, K, c, "afleveret")
    live.drain()
    with live.db.connect() as conn:
        balances = views.claim_balances(conn, K)
        assert accounts.get_fee(conn, K, a).open == Money(10075)
    assert balances == {str(a): 10075, str(b): 0, str(c): 0}
    assert_reconciled(live)


def test_guardian_pays_for_a_minor_and_debtor_change_moves_the_claim(live: System) -> None:
    minor = patron(live, "0101121234", guardian_cpr="0202652345")
    f = fee(live, minor, "fee", 9000)
    live.drain()
    with live.db.connect() as conn:
        assert views.get_claim(conn, K, str(f))["debtor"] == "020265-XXXX"
    with live.db.begin() as conn:
        accounts.change_debtor(
            conn, live.clock, K, minor, cpr="0101121234", guardian_cpr="1501729995"
        )
    live.drain()
    with live.db.connect() as conn:
        assert views.get_claim(conn, K, str(f))["debtor"] == "150172-XXXX"
    assert_reconciled(live)


def test_unmapped_kind_is_held_visibly_and_sent_once_mapped(live: System) -> None:
    p = patron(live, "0101901234")
    held = fee(live, p, "card_replacement", 5000)
    live.drain()
    with live.db.connect() as conn:
        f = accounts.get_fee(conn, K, held)
    assert f.debtor_state is DebtorState.HELD
    assert "card_replacement" in (f.debtor_reason or "")
    with live.db.begin() as conn:
        tenants.map_claim_kind(
            conn,
            live.clock,
            K,
            "card_replacement",
            debtor_classification="BIB-KORT",
            psrm_claim_type="BIB",
        )
    live.drain()
    with live.db.connect() as conn:
        assert accounts.get_fee(conn, K, held).debtor_state is DebtorState.REGISTERED
        assert views.claim_balances(conn, K) == {str(held): 5000}
    assert_reconciled(live)


def test_redelivered_messages_change_nothing(live: System) -> None:
    p = patron(live, "0101901234")
    a = fee(live, p, "fee", 12000)
    with live.db.begin() as conn:
        accounts.write_down(conn, live.clock, K, a, Money(1000))
    live.drain()
    with live.db.begin() as conn:
        conn.execute(update(outbox).values(status="pending", sent_at=None))
    live.drain()
    with live.db.connect() as conn:
        assert views.claim_balances(conn, K) == {str(a): 11000}
        assert len(views.get_claim(conn, K, str(a))["postings"]) == 2
    assert_reconciled(live)


def test_reordered_messages_end_in_the_same_state(live: System) -> None:
    p = patron(live, "0101901234")
    a = fee(live, p, "fee", 12000)
    with live.db.begin() as conn:
        accounts.write_down(conn, live.clock, K, a, Money(1000))
        accounts.write_up(conn, live.clock, K, a, Money(300))
    # the registration (sequence 1) arrives last of the three
    with live.db.begin() as conn:
        first = conn.execute(
            select(func.min(outbox.c.id)).where(
                outbox.c.message_type == "registration.ClaimRegistered.v1"
            )
        ).scalar_one()
        conn.execute(update(outbox).where(outbox.c.id == first).values(id=first + 1_000_000))
    live.worker().drain(timeout_s=30)
    with live.db.connect() as conn:
        assert views.claim_balances(conn, K) == {str(a): 11300}
        assert (
            conn.execute(
                select(func.count()).select_from(outbox).where(outbox.c.status != "sent")
            ).scalar_one()
            == 0
        )
    assert_reconciled(live)
