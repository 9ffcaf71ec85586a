"""The library's pure rules: old or new, the debtor of a patron, write-down, block, payment."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fbs_debitor.core.errors import ValidationError
from fbs_debitor.core.ids import Cpr, Cvr
from fbs_debitor.core.money import Money
from fbs_debitor.library.model import (
    BLOCK_THRESHOLD,
    DebtorState,
    Fee,
    FeeStatus,
    NewFee,
    Patron,
    PaymentStatus,
    after_write_down,
    check_identity,
    check_new_fee,
    decide_payment,
    held_reason,
    is_blocked,
    is_old,
)

CUTOFF = date(2026, 1, 1)
TODAY = date(2026, 3, 2)


def a_fee(**changes: object) -> Fee:
    fee = Fee(
        id=1,
        municipality="101",
        patron_id=1,
        kind="fee",
        reason_message="Gebyr",
        amount=Money(1000),
        open=Money(1000),
        status=FeeStatus.OPEN,
        old=True,
        moved_on=None,
        creation_date=date(2025, 5, 1),
        due_date=None,
        paid_date=None,
        acknowledged=False,
        debtor_state=DebtorState.NOT_SENT,
        debtor_reason=None,
        debtor_note=None,
        debtor_balance=None,
        last_sequence=0,
        registration_message_id=None,
    )
    return replace(fee, **changes)  # type: ignore[arg-type]


def test_created_on_the_cutoff_is_new_and_the_day_before_is_old() -> None:
    assert is_old(date(2025, 12, 31), CUTOFF)
    assert not is_old(CUTOFF, CUTOFF)
    assert not is_old(date(2026, 1, 2), CUTOFF)
    assert is_old(date(2030, 1, 1), None)


def test_the_debtor_is_the_guardian_else_the_company_else_the_patron() -> None:
    minor, guardian, company = Cpr("0101101234"), Cpr("0202652345"), Cvr("13585628")
    assert Patron(1, "101", minor, guardian, company, "").debtor.id == guardian.value
    assert Patron(1, "101", minor, None, company, "").debtor.model_dump() == {
        "id_type": "cvr",
        "id": "13585628",
    }
    assert Patron(1, "101", minor, None, None, "").debtor.id == minor.value
    assert Patron(1, "101", None, None, company, "").debtor.id_type == "cvr"
    with pytest.raises(ValidationError):
        check_identity(None, None, None)
    with pytest.raises(ValidationError):
        check_identity(None, guardian, company)


@given(open_ore=st.integers(0, 10**9), by_ore=st.integers(1, 10**9))
def test_write_down_never_goes_below_zero(open_ore: int, by_ore: int) -> None:
    if by_ore > open_ore:
        with pytest.raises(ValidationError):
            after_write_down(Money(open_ore), Money(by_ore))
    else:
        assert after_write_down(Money(open_ore), Money(by_ore)) == Money(open_ore - by_ore)


def test_write_down_of_nothing_is_refused() -> None:
    with pytest.raises(ValidationError):
        after_write_down(Money(100), Money(0))


def test_blocked_from_200_kroner() -> None:
    assert Money.parse("200,00") == BLOCK_THRESHOLD
    assert not is_blocked(Money(19999))
    assert is_blocked(Money(20000))


def test_only_old_open_fees_not_moved_are_payable_in_the_library() -> None:
    assert a_fee().payable_by_client
    assert not a_fee(old=False).payable_by_client
    assert not a_fee(moved_on=date(2026, 2, 1)).payable_by_client
    assert not a_fee(status=FeeStatus.CANCELLED).payable_by_client


def test_the_fbs_payment_answer() -> None:
    old, new = a_fee(), a_fee(old=False)
    assert decide_payment(old, None, "o1") is PaymentStatus.REGISTERED
    assert decide_payment(old, "o1", "o1") is PaymentStatus.REGISTERED
    assert decide_payment(old, "o1", "o2") is PaymentStatus.REGISTERED_BY_DIFFERENT_ORDER_ID
    assert decide_payment(new, None, "o1") is PaymentStatus.NOT_ALLOWED_BY_CLIENT


def test_a_new_fee_is_checked() -> None:
    kind, created, reason = check_new_fee(NewFee(1, "compensation", Money(100)), TODAY)
    assert (kind.value, created, reason) == ("compensation", TODAY, "Erstatning for materiale")
    for bad in (
        NewFee(1, "Fee", Money(100)),
        NewFee(1, "fee", Money(0)),
        NewFee(1, "fee", Money(100), creation_date=date(2026, 3, 3)),
    ):
        with pytest.raises(ValidationError):
            check_new_fee(bad, TODAY)


def test_the_held_reason_names_kind_and_municipality() -> None:
    assert held_reason("fee", "461") == (
        "claim kind fee is not mapped in the sortiment of municipality 461; "
        "it is sent as soon as it is mapped"
    )
