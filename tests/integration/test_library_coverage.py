"""Leg 4 in the library: coverage, write-off and reversal from debtor change what is left to pay,
set paidDate, lift the block, and show in the FBS fee API."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fbs_debitor.bootstrap import System
from fbs_debitor.contracts.base import Contract
from fbs_debitor.contracts.coverage import (
    ClaimClosed,
    ClaimCovered,
    ClaimWrittenOff,
    CoverageReversed,
)
from fbs_debitor.contracts.sending import send
from fbs_debitor.core.money import Money
from fbs_debitor.library.model import EventKind, FeeStatus
from fbs_debitor.library.service import accounts
from tests.integration.library_support import (
    K,
    assert_histories_add_up,
    fee,
    library_only,
    new_fee,
    new_patron,
    set_up,
)

T = date(2026, 3, 20)
NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


def deliver(lib: System, message: Contract, sequence: int) -> None:
    with lib.db.begin() as conn:
        send(conn, message, source="debtor", sequence=sequence, leg="leg4")
    lib.drain()


def covered(claim_id: int, ore: int, remaining: int, ref: str = "bank:1") -> ClaimCovered:
    return ClaimCovered(
        municipality=K,
        occurred_at=NOW,
        claim_id=str(claim_id),
        amount_ore=ore,
        payment_date=T,
        channel="bank",
        payment_reference=ref,
        remaining_ore=remaining,
    )


def test_partial_then_full_coverage_pays_the_fee_and_lifts_the_block(system: System) -> None:
    lib = library_only(system)
    set_up(lib)
    p = new_patron(lib)
    f = new_fee(lib, p.id, "250,00")
    with lib.db.connect() as conn:
        assert accounts.patron_account(conn, K, p.id).blocked
    deliver(lib, covered(f.id, 10000, 15000, "bank:a"), 1)
    assert fee(lib, f.id).open == Money(15000)
    assert fee(lib, f.id).status is FeeStatus.OPEN
    deliver(lib, covered(f.id, 15000, 0, "bank:b"), 2)
    after = fee(lib, f.id)
    assert after.open == Money(0)
    assert after.status is FeeStatus.PAID
    assert after.paid_date == T
    with lib.db.connect() as conn:
        assert not accounts.patron_account(conn, K, p.id).blocked
        kinds = [e.kind for e in accounts.fee_history(conn, K, f.id)]
        fbs = accounts.fbs_fees(conn, K, p.id, include_paid=True, include_nonpayable=True)
    assert kinds.count(EventKind.COVERED) == 2
    assert fbs[0].paid_date == T


def test_write_off_closes_and_reversal_reopens(system: System) -> None:
    lib = library_only(system)
    set_up(lib)
    p = new_patron(lib)
    a = new_fee(lib, p.id, "100,00")
    b = new_fee(lib, p.id, "60,00")
    deliver(
        lib,
        ClaimWrittenOff(
            municipality=K,
            occurred_at=NOW,
            claim_id=str(a.id),
            amount_ore=10000,
            reason="forældet",
            remaining_ore=0,
        ),
        1,
    )
    deliver(
        lib,
        ClaimClosed(municipality=K, occurred_at=NOW, claim_id=str(a.id), outcome="written_off"),
        2,
    )
    assert fee(lib, a.id).status is FeeStatus.CLOSED
    assert fee(lib, a.id).open == Money(0)
    deliver(lib, covered(b.id, 6000, 0, "bank:x"), 1)
    assert fee(lib, b.id).status is FeeStatus.PAID
    deliver(
        lib,
        CoverageReversed(
            municipality=K,
            occurred_at=NOW,
            claim_id=str(b.id),
            amount_ore=6000,
            payment_reference="bank:x",
            reason="tilbageført af banken",
            remaining_ore=6000,
        ),
        2,
    )
    reopened = fee(lib, b.id)
    assert reopened.status is FeeStatus.OPEN
    assert reopened.open == Money(6000)
    assert reopened.paid_date is None


def test_coverage_beyond_what_is_open_stops_at_zero_with_a_note(system: System) -> None:
    lib = library_only(system)
    set_up(lib)
    p = new_patron(lib)
    f = new_fee(lib, p.id, "100,00")
    with lib.db.begin() as conn:
        accounts.write_down(conn, lib.clock, K, f.id, Money(2000), "fejl")
    deliver(lib, covered(f.id, 10000, 0), 1)
    after = fee(lib, f.id)
    assert after.open == Money(0)
    assert after.status is FeeStatus.PAID
    with lib.db.connect() as conn:
        texts = [e.text for e in accounts.fee_history(conn, K, f.id)]
    assert any("more than open here" in t for t in texts)


def test_coverage_messages_apply_in_sequence_and_once(system: System) -> None:
    from sqlalchemy import update

    from fbs_debitor.messaging.store import outbox

    lib = library_only(system)
    set_up(lib)
    p = new_patron(lib)
    f = new_fee(lib, p.id, "100,00")
    with lib.db.begin() as conn:
        send(conn, covered(f.id, 3000, 4000, "bank:2"), source="debtor", sequence=2, leg="leg4")
        send(conn, covered(f.id, 3000, 7000, "bank:1"), source="debtor", sequence=1, leg="leg4")
    lib.drain()
    assert fee(lib, f.id).open == Money(4000)
    with lib.db.begin() as conn:
        conn.execute(update(outbox).values(status="pending"))
    lib.drain()
    assert fee(lib, f.id).open == Money(4000)
    assert_histories_add_up(lib)
