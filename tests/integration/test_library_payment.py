"""Payment in the library: old fees only, in full, idempotent per order id."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from fbs_debitor.bootstrap import System
from fbs_debitor.core.errors import ConflictError, NotFoundError, ValidationError
from fbs_debitor.core.money import Money
from fbs_debitor.library.model import FeeStatus, PaymentStatus
from fbs_debitor.library.service import accounts, payment
from fbs_debitor.library.store import tables
from tests.integration.library_support import (
    K,
    assert_histories_add_up,
    fee,
    library_only,
    new_fee,
    new_patron,
    sent,
    set_up,
)

OLD = date(2025, 10, 1)


@pytest.fixture
def lib(system: System) -> System:
    set_up(lib := library_only(system))
    return lib


def pay(lib: System, patron_id: int, order_id: str, *fee_ids: int) -> list[tuple[int, str]]:
    with lib.db.begin() as conn:
        answers = payment.pay_fees(conn, lib.clock, K, patron_id, order_id, list(fee_ids))
    return [(a.fee_id, a.status.value) for a in answers]


def test_an_old_fee_is_paid_in_full_and_a_new_one_is_not_allowed(lib: System) -> None:
    p = new_patron(lib)
    old = new_fee(lib, p.id, "25,50", creation_date=OLD)
    new = new_fee(lib, p.id, "30,00")
    messages_before = sent(lib)
    assert pay(lib, p.id, "order-1", old.id, new.id) == [
        (old.id, "paymentRegistered"),
        (new.id, "paymentNotAllowedByClient"),
    ]
    paid = fee(lib, old.id)
    assert paid.status is FeeStatus.PAID and paid.open.is_zero()
    assert paid.paid_date == date(2026, 3, 2)
    untouched = fee(lib, new.id)
    assert untouched.status is FeeStatus.OPEN and untouched.open == Money(3000)
    assert sent(lib) == messages_before  # payment of an old fee is the library's business
    assert_histories_add_up(lib)


def test_the_same_order_again_answers_the_same_and_changes_nothing(lib: System) -> None:
    p = new_patron(lib)
    a = new_fee(lib, p.id, "10,00", creation_date=OLD)
    b = new_fee(lib, p.id, "20,00")
    with lib.db.begin() as conn:
        first = payment.pay_fees(conn, lib.clock, K, p.id, "order-1", [a.id, b.id, a.id])
    with lib.db.begin() as conn:
        second = payment.pay_fees(conn, lib.clock, K, p.id, "order-1", [a.id, b.id])
    assert first == second
    assert first[0].confirmation_id is not None and first[1].confirmation_id is None
    with lib.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tables.payments)).scalar_one() == 1
        kinds = [e.kind.value for e in accounts.fee_history(conn, K, a.id)]
    assert kinds.count("paid_manually") == 1


def test_a_fee_paid_by_another_order_is_reported_so(lib: System) -> None:
    p = new_patron(lib)
    a = new_fee(lib, p.id, creation_date=OLD)
    b = new_fee(lib, p.id, creation_date=OLD)
    pay(lib, p.id, "order-1", a.id)
    assert pay(lib, p.id, "order-2", a.id, b.id) == [
        (a.id, PaymentStatus.REGISTERED_BY_DIFFERENT_ORDER_ID.value),
        (b.id, PaymentStatus.REGISTERED.value),
    ]
    with lib.db.connect() as conn:
        orders = dict(
            conn.execute(select(tables.payments.c.fee_id, tables.payments.c.order_id)).all()
        )
    assert orders == {a.id: "order-1", b.id: "order-2"}


def test_cancelled_old_fees_are_not_payable(lib: System) -> None:
    p = new_patron(lib)
    a = new_fee(lib, p.id, creation_date=OLD)
    with lib.db.begin() as conn:
        accounts.cancel_fee(conn, lib.clock, K, a.id)
    assert pay(lib, p.id, "order-1", a.id) == [(a.id, "paymentNotAllowedByClient")]


def test_an_unknown_fee_or_patron_pays_nothing(lib: System) -> None:
    p = new_patron(lib)
    other = new_patron(lib)
    a = new_fee(lib, p.id, creation_date=OLD)
    theirs = new_fee(lib, other.id, creation_date=OLD)
    with pytest.raises(NotFoundError) as info:
        pay(lib, p.id, "order-1", a.id, theirs.id)
    assert info.value.code == "unknown-fee"
    assert fee(lib, a.id).status is FeeStatus.OPEN
    with pytest.raises(NotFoundError):
        pay(lib, p.id + 1000, "order-1", a.id)
    with pytest.raises(ValidationError):
        pay(lib, p.id, " ", a.id)


def test_staff_may_pay_an_old_fee_but_a_new_one_only_through_debtor(lib: System) -> None:
    p = new_patron(lib)
    old = new_fee(lib, p.id, creation_date=OLD)
    new = new_fee(lib, p.id)
    with lib.db.begin() as conn:
        paid = payment.pay_fee(conn, lib.clock, K, old.id, "till-7")
    assert paid.status is FeeStatus.PAID
    with pytest.raises(ConflictError) as info, lib.db.begin() as conn:
        payment.pay_fee(conn, lib.clock, K, new.id)
    assert info.value.code == "fee-in-debtor"
    assert "only be paid through the debtor system" in info.value.detail
    with pytest.raises(ConflictError) as again, lib.db.begin() as conn:
        payment.pay_fee(conn, lib.clock, K, old.id)
    assert again.value.code == "fee-not-open"
    assert pay(lib, p.id, "web-1", old.id) == [(old.id, "paymentRegisteredByDifferentOrderId")]
