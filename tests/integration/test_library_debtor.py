"""The library and debtor: debtor's answers, debtor changes (guardian, company, a corrected CPR),
moving old balances, the figures for reconciliation and the copies of the municipal set-up.
Debtor is played by the test: it reads the outbox and publishes the answers itself."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from fbs_debitor.bootstrap import System
from fbs_debitor.contracts.registration import RegistrationAccepted, RegistrationRejected
from fbs_debitor.core.errors import ValidationError
from fbs_debitor.core.money import Money
from fbs_debitor.library.model import DebtorState, EventKind, FeeStatus
from fbs_debitor.library.service import accounts, payment
from fbs_debitor.library.store import setup_copy
from fbs_debitor.tenants.service import municipalities as tenants
from tests.integration.library_support import (
    CPR,
    CUTOFF,
    CVR,
    GUARDIAN,
    K,
    Sent,
    answer,
    assert_histories_add_up,
    fee,
    library_only,
    map_kind,
    new_fee,
    new_patron,
    sent,
    set_up,
)

OLD = date(2025, 11, 20)


@pytest.fixture
def lib(system: System) -> System:
    set_up(lib := library_only(system))
    return lib


def accepted(lib: System, msg: Sent, balance_ore: int) -> RegistrationAccepted:
    return RegistrationAccepted(
        municipality=K,
        occurred_at=lib.clock.now(),
        claim_id=msg.payload["claim_id"],
        accepted_message_id=msg.message_id,
        accepted_type=msg.type,
        debtor_balance_ore=balance_ore,
    )


def rejected(
    lib: System, msg: Sent, reason: str, code: str = "invalid-debtor"
) -> RegistrationRejected:
    return RegistrationRejected(
        municipality=K,
        occurred_at=lib.clock.now(),
        claim_id=msg.payload["claim_id"],
        rejected_message_id=msg.message_id,
        rejected_type=msg.type,
        code=code,
        reason=reason,
    )


def test_accepted_registration_makes_the_fee_registered(lib: System) -> None:
    f = new_fee(lib, new_patron(lib).id, "75,00")
    [registration] = sent(lib)
    answer(lib, accepted(lib, registration, 7500))
    now = fee(lib, f.id)
    assert now.debtor_state is DebtorState.REGISTERED
    assert now.debtor_balance == Money(7500)
    with lib.db.begin() as conn:
        accounts.write_down(conn, lib.clock, K, f.id, Money(2500))
    answer(lib, accepted(lib, sent(lib, "ClaimWrittenDown")[0], 5000))
    now = fee(lib, f.id)
    assert now.debtor_state is DebtorState.REGISTERED and now.debtor_balance == Money(5000)
    with lib.db.connect() as conn:
        kinds = [e.kind for e in accounts.fee_history(conn, K, f.id)]
    assert kinds[-3:] == [EventKind.REGISTERED, EventKind.WRITTEN_DOWN, EventKind.CONFIRMED]


def test_rejected_registration_shows_the_reason_and_a_debtor_change_sends_it_again(
    lib: System,
) -> None:
    p = new_patron(lib, cpr=CPR)
    f = new_fee(lib, p.id, "40,00")
    answer(lib, rejected(lib, sent(lib)[0], "CPR 010190-XXXX is not in the CPR register"))
    now = fee(lib, f.id)
    assert now.debtor_state is DebtorState.REJECTED
    assert now.debtor_reason == "CPR 010190-XXXX is not in the CPR register"
    with lib.db.begin() as conn:  # debtor has no claim: regulation stays in the library
        accounts.write_up(conn, lib.clock, K, f.id, Money(1000))
    assert len(sent(lib)) == 1
    with lib.db.begin() as conn:
        account = accounts.change_debtor(
            conn, lib.clock, K, p.id, cpr="0101901235", reason="CPR corrected"
        )
    first, again = sent(lib, "ClaimRegistered")
    assert again.sequence == 2 and again.leg == "leg1"
    assert again.payload["debtor"] == {"id_type": "cpr", "id": "0101901235"}
    assert again.payload["amount_ore"] == 5000
    assert [m.type for m in sent(lib)] == [first.type, again.type]  # no ClaimDebtorChanged
    assert account.fees[0].debtor_state is DebtorState.SENT
    assert account.fees[0].debtor_reason is None
    # the answer to the first (rejected) registration no longer counts; the new one does
    answer(lib, accepted(lib, first, 4000))
    assert fee(lib, f.id).debtor_state is DebtorState.SENT
    answer(lib, accepted(lib, again, 5000))
    assert fee(lib, f.id).debtor_state is DebtorState.REGISTERED


def test_a_rejected_regulation_is_noted_on_the_fee(lib: System) -> None:
    f = new_fee(lib, new_patron(lib).id)
    answer(lib, accepted(lib, sent(lib)[0], 10000))
    with lib.db.begin() as conn:
        accounts.write_up(conn, lib.clock, K, f.id, Money(500))
    answer(
        lib, rejected(lib, sent(lib, "ClaimWrittenUp")[0], "claim is with PSRM", "in-collection")
    )
    now = fee(lib, f.id)
    assert now.debtor_state is DebtorState.REGISTERED
    assert now.debtor_note == "debtor rejected ClaimWrittenUp [in-collection]: claim is with PSRM"
    with lib.db.connect() as conn:
        last = accounts.fee_history(conn, K, f.id)[-1]
    assert last.kind is EventKind.REJECTED and "claim is with PSRM" in last.text


def test_answers_about_no_fee_change_nothing(lib: System) -> None:
    f = new_fee(lib, new_patron(lib).id)
    msg = sent(lib)[0]
    stranger = accepted(lib, msg, 1).model_copy(update={"claim_id": str(f.id + 1000)})
    answer(lib, stranger)
    answer(lib, accepted(lib, msg, 1).model_copy(update={"claim_id": "fee-x"}))
    assert fee(lib, f.id).debtor_state is DebtorState.SENT
    assert_histories_add_up(lib)


def test_a_guardian_becomes_the_debtor_of_the_open_fees_debtor_has(lib: System) -> None:
    p = new_patron(lib, cpr=CPR)
    open_new = new_fee(lib, p.id)
    cancelled = new_fee(lib, p.id)
    old = new_fee(lib, p.id, creation_date=OLD)
    held = new_fee(lib, p.id, kind="card_replacement")
    with lib.db.begin() as conn:
        accounts.cancel_fee(conn, lib.clock, K, cancelled.id)
    with lib.db.begin() as conn:
        account = accounts.change_debtor(
            conn, lib.clock, K, p.id, cpr=CPR, guardian_cpr=GUARDIAN, reason="minor"
        )
    [changed] = sent(lib, "ClaimDebtorChanged")
    assert changed.payload["claim_id"] == str(open_new.id)
    assert changed.payload["debtor"] == {"id_type": "cpr", "id": GUARDIAN}
    assert changed.payload["reason"] == "minor"
    assert changed.sequence == 2
    assert account.patron.guardian_cpr is not None
    for f in (old, held):  # recorded in the library, nothing sent
        with lib.db.connect() as conn:
            assert accounts.fee_history(conn, K, f.id)[-1].kind is EventKind.DEBTOR_CHANGED
    map_kind(lib, "card_replacement")
    lib.drain()
    released = sent(lib, "ClaimRegistered", claim_id=held.id)
    assert released[0].payload["debtor"] == {"id_type": "cpr", "id": GUARDIAN}
    with lib.db.begin() as conn:  # same debtor again (the patron's own CPR changes): no message
        accounts.change_debtor(conn, lib.clock, K, p.id, cpr="0101901235", guardian_cpr=GUARDIAN)
    assert len(sent(lib, "ClaimDebtorChanged")) == 1


def test_a_company_patron_owes_as_the_company(lib: System) -> None:
    p = new_patron(lib, cvr=CVR)
    new_fee(lib, p.id)
    assert sent(lib)[0].payload["debtor"] == {"id_type": "cvr", "id": CVR}


def test_moving_old_balances_registers_them_with_debtor_once(lib: System) -> None:
    p = new_patron(lib)
    a = new_fee(lib, p.id, "30,00", creation_date=OLD)
    b = new_fee(lib, p.id, "20,00", creation_date=OLD, kind="card_replacement")
    paid = new_fee(lib, p.id, "10,00", creation_date=OLD)
    new = new_fee(lib, p.id, "5,00")
    with lib.db.begin() as conn:
        accounts.write_down(conn, lib.clock, K, a.id, Money(500))
        payment.pay_fee(conn, lib.clock, K, paid.id)
    for bad in (CUTOFF - timedelta(days=1), lib.clock.today() + timedelta(days=1)):
        with pytest.raises(ValidationError) as info, lib.db.begin() as conn:
            accounts.move_old_balances(conn, lib.clock, K, bad)
        assert info.value.code == "invalid-move-date"
    with lib.db.begin() as conn:
        result = accounts.move_old_balances(conn, lib.clock, K, date(2026, 3, 1))
    assert (result.moved, result.sent, result.held, result.total) == (2, 1, 1, Money(4500))
    [registration] = sent(lib, "ClaimRegistered", claim_id=a.id)
    assert registration.payload["amount_ore"] == 2500
    assert registration.payload["created_on"] == OLD.isoformat()
    assert registration.sequence == 1
    moved = fee(lib, a.id)
    assert moved.moved_on == date(2026, 3, 1) and moved.in_debtor
    assert not moved.payable_by_client
    assert fee(lib, b.id).debtor_state is DebtorState.HELD
    assert fee(lib, paid.id).moved_on is None and fee(lib, paid.id).status is FeeStatus.PAID
    assert fee(lib, new.id).moved_on is None
    with lib.db.begin() as conn:
        again = accounts.move_old_balances(conn, lib.clock, K, date(2026, 3, 2))
    assert again.moved == 0
    assert len(sent(lib, "ClaimRegistered")) == 2  # fee "new" and fee "a"
    with lib.db.connect() as conn:
        claims = accounts.open_claims_by_id(conn, K)
    assert claims == {str(new.id): 500, str(a.id): 2500}
    assert_histories_add_up(lib)


def test_moving_needs_a_cutoff(system: System) -> None:
    lib = library_only(system)
    set_up(lib, cutoff=None)
    with pytest.raises(ValidationError) as info, lib.db.begin() as conn:
        accounts.move_old_balances(conn, lib.clock, K, date(2026, 3, 1))
    assert info.value.code == "not-live"


def test_open_claims_are_what_debtor_should_have(lib: System) -> None:
    p = new_patron(lib)
    sent_fee = new_fee(lib, p.id, "10,00")
    registered = new_fee(lib, p.id, "20,00")
    cancelled = new_fee(lib, p.id, "30,00")
    refused = new_fee(lib, p.id, "40,00")
    new_fee(lib, p.id, "50,00", creation_date=OLD)
    new_fee(lib, p.id, "60,00", kind="card_replacement")
    answer(lib, accepted(lib, sent(lib, claim_id=registered.id)[0], 2000))
    answer(lib, rejected(lib, sent(lib, claim_id=refused.id)[0], "no"))
    with lib.db.begin() as conn:
        accounts.cancel_fee(conn, lib.clock, K, cancelled.id)
        claims = accounts.open_claims_by_id(conn, K)
    assert claims == {str(sent_fee.id): 1000, str(registered.id): 2000, str(cancelled.id): 0}


def test_the_library_keeps_the_newest_set_up(lib: System) -> None:
    with lib.db.begin() as conn:
        tenants.set_cutoff_date(conn, lib.clock, K, date(2026, 3, 1))
    lib.drain()
    p = new_patron(lib)
    assert new_fee(lib, p.id, creation_date=date(2026, 2, 27)).old
    with lib.db.begin() as conn:  # an older copy arriving late changes nothing
        copy = setup_copy.MunicipalityCopy(K, "x", "710100", date(2020, 1, 1))
        accounts.save_municipality(conn, copy, datetime(2020, 1, 1, tzinfo=UTC))
        assert setup_copy.find_municipality(conn, K) == setup_copy.MunicipalityCopy(
            K, "Kommune 101", "710100", date(2026, 3, 1)
        )
