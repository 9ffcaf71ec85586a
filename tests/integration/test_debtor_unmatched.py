"""Unmatched payments applied by a person, end to end, the whole system wired: a bank payment
debtor could not match waits; staff assign it to an invoice's payment ID, a debtor or chosen
claims; the one allocation path pays the claims (the library's fee shows paid), the rest is
credit on the account, the bank entry in payments hears the outcome, and library and debtor
agree to the øre. The same assignment again changes nothing; another one is refused."""

import threading
from pathlib import Path
from typing import Any

import pytest

from fbs_debitor.bootstrap import System
from fbs_debitor.contracts.payment import PaymentReceived
from fbs_debitor.contracts.sending import send
from fbs_debitor.core.errors import ConflictError, NotFoundError, ValidationError
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.service import allocation, unmatched
from fbs_debitor.library.model import FeeStatus
from fbs_debitor.library.service import accounts
from tests.integration.leg34_support import (
    CPR,
    K,
    assert_reconciled,
    bank,
    credit,
    fee_open,
    new_fee,
    reverse,
)
from tests.integration.unmatched_support import (
    NO_INVOICE,
    OTHER_CPR,
    PAID_ON,
    answers_for,
    assert_counted_once,
    assign,
    counts,
    credit_of,
    entry,
    row,
    unmatched_in_bank,
    waiting,
)

# -- the flows --------------------------------------------------------------------------------------


def test_wrong_payment_id_assigned_to_the_invoice_pays_the_fee(
    live: System, tmp_path: Path
) -> None:
    f, pid = new_fee(live, 12000)
    ref = unmatched_in_bank(live, tmp_path, "W1", 12000)
    [waits] = waiting(live)
    assert (waits["payment_ref"], waits["amount_ore"], waits["amount"]) == (ref, 12000, "120.00")
    assert (waits["payment_id"], waits["debtor"]) == (NO_INVOICE, None)
    assert waits["payer_text"] == "Borger"  # the camt's payer name
    assert "belongs to no invoice" in waits["reason"]
    assert (entry(live, "W1").allocation, entry(live, "W1").state) == ("unmatched", "unmatched")

    done = assign(live, ref, payment_id=pid)

    assert done.as_dict() | {"reason": ""} == {
        "payment_ref": ref,
        "assigned_ref": f"assigned:{ref}",
        "amount_ore": 12000,
        "outcome": "matched",
        "covered_ore": 12000,
        "credit_ore": 0,
        "claim_ids": [str(f)],
        "debtor": "010190-XXXX",
        "reason": "",
        "created": True,
    }
    assert fee_open(live, f) == (Money(0), FeeStatus.PAID)
    with live.db.connect() as conn:
        assert accounts.get_fee(conn, K, f).paid_date == PAID_ON
    # payments hears how its bank entry went
    e = entry(live, "W1")
    assert (e.allocation, e.covered_ore, e.credit_ore) == ("matched", 12000, 0)
    assert e.state == "matched"  # GET /bank-entries?state=unmatched no longer lists it
    assert "assigned by Hanne Hansen" in e.allocation_reason
    assert [a["outcome"] for a in answers_for(live, ref)] == ["unmatched", "matched"]
    assert answers_for(live, f"assigned:{ref}") == []  # the internal payment answers nobody
    assert_counted_once(live, ref)
    reason = row(live, ref).reason
    assert "Hanne Hansen" in reason and f"payment ID {pid}" in reason
    assert "forkert betalings-ID" in reason
    assert waiting(live) == []
    with live.db.connect() as conn:
        assert allocation.unmatched_payments(conn, K) == []
    assert credit_of(live) == 0
    assert_reconciled(live)


def test_assigned_to_a_debtor_who_owes_less_leaves_credit(live: System, tmp_path: Path) -> None:
    f, _ = new_fee(live, 12000)
    ref = "bank:M1"
    assert bank(live, tmp_path, credit("M1", 20050, None, "bøder 0101901234"))["unmatched"] == 1
    [waits] = waiting(live)
    assert waits["payer_text"] == "Borger / bøder 010190-XXXX"
    assert "no usable payment reference" in waits["reason"]

    done = assign(live, ref, debtor="010190-1234", note="ringede 0101901234")

    assert (done.outcome, done.covered_ore, done.credit_ore) == ("partly_matched", 12000, 8050)
    assert done.claim_ids == (str(f),)
    assert fee_open(live, f) == (Money(0), FeeStatus.PAID)
    assert credit_of(live) == 8050
    e = entry(live, "M1")
    assert (e.allocation, e.covered_ore, e.credit_ore) == ("partly_matched", 12000, 8050)
    assert e.state == "partly_matched"
    assert_counted_once(live, ref)
    reason = row(live, ref).reason
    assert "0101901234" not in reason and "010190-1234" not in reason
    assert "debtor 010190-XXXX" in reason and "ringede 010190-XXXX" in reason
    assert_reconciled(live)


def test_same_assignment_again_is_idempotent_another_is_refused(
    live: System, tmp_path: Path
) -> None:
    f, pid = new_fee(live, 12000)
    ref = unmatched_in_bank(live, tmp_path, "I1", 15000)
    first = assign(live, ref, debtor=CPR)
    before = counts(live)

    again = assign(live, ref, debtor="010190-1234", by="Else", note="igen")

    assert again.as_dict() == first.as_dict() | {"created": False}
    assert first.claim_ids == (str(f),)
    assert counts(live) == before  # no second posting, no second answer
    assert credit_of(live) == 3000
    with pytest.raises(ConflictError) as refused:
        assign(live, ref, payment_id=pid)
    assert refused.value.code == "payment-assigned"
    with pytest.raises(ConflictError):
        assign(live, ref, claim_ids=[str(f)])
    assert counts(live) == before
    assert credit_of(live) == 3000
    assert_counted_once(live, ref)
    assert_reconciled(live)


def test_debtor_with_nothing_open_gets_it_all_as_credit_and_it_pays_the_next_fee(
    live: System, tmp_path: Path
) -> None:
    _, pid = new_fee(live, 12000)
    bank(live, tmp_path, credit("P1", 12000, pid))  # the fee is paid: nothing open
    ref = unmatched_in_bank(live, tmp_path, "C1", 5000)

    done = assign(live, ref, debtor=CPR)

    assert (done.outcome, done.covered_ore, done.credit_ore, done.claim_ids) == (
        "partly_matched",
        0,
        5000,
        (),
    )
    assert "kept as credit" in done.reason
    assert credit_of(live) == 5000
    assert (entry(live, "C1").allocation, entry(live, "C1").credit_ore) == ("partly_matched", 5000)
    assert waiting(live) == []  # the new row is no unmatched payment
    assert_counted_once(live, ref)
    # the credit pays the debtor's next fee when it is invoiced
    g, _ = new_fee(live, 12000)
    assert fee_open(live, g) == (Money(7000), FeeStatus.OPEN)
    assert credit_of(live) == 0
    assert_reconciled(live)


def test_second_payment_of_a_paid_invoice_is_credit_not_waiting(
    live: System, tmp_path: Path
) -> None:
    """The payer is known (the slip's debtor): paying twice is an overpayment, credit on the
    account that pays the next claim or is refunded, not money waiting for a person."""
    _, pid = new_fee(live, 12000)
    bank(live, tmp_path, credit("D1", 12000, pid))
    bank(live, tmp_path, credit("D2", 12000, pid))  # the same slip, paid twice
    assert waiting(live) == []
    assert credit_of(live) == 12000
    kept = row(live, "bank:D2")
    assert (kept.outcome, kept.covered_ore, kept.credit_ore) == ("partly_matched", 0, 12000)
    before = counts(live)
    with pytest.raises(ConflictError) as refused:
        assign(live, "bank:D2", debtor=CPR)
    assert refused.value.code == "payment-not-unmatched"
    assert counts(live) == before
    h, _ = new_fee(live, 15000)  # the credit pays 120 kr of the next fee
    assert fee_open(live, h) == (Money(3000), FeeStatus.OPEN)
    assert credit_of(live) == 0
    assert_reconciled(live)


def test_debtor_without_account_or_unknown_targets_are_refused_and_change_nothing(
    live: System, tmp_path: Path
) -> None:
    new_fee(live, 12000)
    ref = unmatched_in_bank(live, tmp_path, "R1", 5000)
    before = counts(live)
    refusals: list[tuple[type[Exception], str, dict[str, Any]]] = [
        (NotFoundError, "unknown-debtor", {"debtor": OTHER_CPR}),
        (ValidationError, "invalid-debtor-id", {"debtor": "12"}),
        (NotFoundError, "unknown-payment-id", {"payment_id": NO_INVOICE}),
        (ValidationError, "invalid-payment-id", {"payment_id": "12ab"}),
        (NotFoundError, "unknown-claim", {"claim_ids": ["999999"]}),
        (ValidationError, "assign-target", {}),
        (ValidationError, "assign-target", {"debtor": CPR, "payment_id": NO_INVOICE}),
        (ValidationError, "assign-note", {"debtor": CPR, "note": "  "}),
        (ValidationError, "assign-by", {"debtor": CPR, "by": "a\x00b"}),
    ]
    for error, code, target in refusals:
        with pytest.raises(error) as refused:
            assign(live, ref, **target)
        assert refused.value.code == code, target
    for unknown_ref in ("bank:NOPE", "x" * 200, "bank:\x00"):
        with pytest.raises(NotFoundError) as refused:
            assign(live, unknown_ref, debtor=CPR)
        assert refused.value.code == "unknown-payment"
    assert counts(live) == before
    assert [w["payment_ref"] for w in waiting(live)] == [ref]
    assert row(live, ref).outcome == "unmatched"
    assert_reconciled(live)


def test_claim_ids_target_pays_the_chosen_claims_only(live: System, tmp_path: Path) -> None:
    a, pid_a = new_fee(live, 12000)
    b, _ = new_fee(live, 9000)
    c, _ = new_fee(live, 4000, cpr=OTHER_CPR)
    ref = unmatched_in_bank(live, tmp_path, "K1", 15000)
    with pytest.raises(ValidationError) as several:
        assign(live, ref, claim_ids=[str(b), str(c)])
    assert several.value.code == "claims-of-several-debtors"

    done = assign(live, ref, claim_ids=[str(b)])

    assert (done.outcome, done.covered_ore, done.credit_ore) == ("partly_matched", 9000, 6000)
    assert done.claim_ids == (str(b),)
    assert fee_open(live, a) == (Money(12000), FeeStatus.OPEN)
    assert fee_open(live, b) == (Money(0), FeeStatus.PAID)
    assert credit_of(live) == 6000
    assert_counted_once(live, ref)
    # a paid claim cannot be chosen for the next one
    other = unmatched_in_bank(live, tmp_path, "K2", 1000)
    with pytest.raises(ConflictError) as closed:
        assign(live, other, claim_ids=[str(b)])
    assert closed.value.code == "claim-not-open"
    # an allocated payment is not waiting; debtor's internal payments are no payments to assign
    bank(live, tmp_path, credit("K3", 1000, pid_a))
    with pytest.raises(ConflictError) as matched:
        assign(live, "bank:K3", claim_ids=[str(a)])
    assert matched.value.code == "payment-not-unmatched"
    with pytest.raises(NotFoundError):
        assign(live, f"assigned:{ref}", claim_ids=[str(a)])
    assert fee_open(live, a) == (Money(11000), FeeStatus.OPEN)
    assert_reconciled(live)


def test_bank_reversal_of_an_assigned_payment_undoes_the_assignment(
    live: System, tmp_path: Path
) -> None:
    f, _ = new_fee(live, 12000)
    ref = unmatched_in_bank(live, tmp_path, "V1", 15000)
    assign(live, ref, debtor=CPR)
    assert (fee_open(live, f), credit_of(live)) == ((Money(0), FeeStatus.PAID), 3000)

    reverse(live, ref, 15000)

    assert fee_open(live, f) == (Money(12000), FeeStatus.OPEN)
    assert credit_of(live) == 0
    assert row(live, ref).reversed and row(live, f"assigned:{ref}").reversed
    assert_reconciled(live)


def test_a_reversed_unmatched_payment_cannot_be_assigned(live: System, tmp_path: Path) -> None:
    new_fee(live, 12000)
    ref = unmatched_in_bank(live, tmp_path, "V2", 5000)
    reverse(live, ref, 5000)
    assert waiting(live) == []
    with pytest.raises(ConflictError) as refused:
        assign(live, ref, debtor=CPR)
    assert refused.value.code == "payment-reversed"
    assert_reconciled(live)


def portal_payment(system: System, ref: str, ore: int) -> None:
    """A portal payment without any reference: it ends unmatched."""
    with system.db.begin() as conn:
        send(
            conn,
            PaymentReceived(
                municipality=K,
                occurred_at=system.clock.now(),
                payment_ref=ref,
                channel="portal",
                booked_on=PAID_ON,
                amount_ore=ore,
            ),
            source="payments",
        )
    system.drain()


def test_a_reference_too_long_to_prefix_gets_the_row_id(live: System, tmp_path: Path) -> None:
    f, _ = new_fee(live, 4000)
    ref = "portal:" + "x" * 113  # 120 characters: "assigned:" would make it too long
    portal_payment(live, ref, 4000)
    done = assign(live, ref, debtor=CPR)
    made = row(live, done.assigned_ref)
    assert done.assigned_ref == f"assigned:#{row(live, ref).id}"
    assert (made.channel, made.covered_ore, made.credit_ore) == ("staff", 4000, 0)
    assert fee_open(live, f) == (Money(0), FeeStatus.PAID)
    reverse(live, ref, 4000)  # the reversal finds it too
    assert fee_open(live, f) == (Money(4000), FeeStatus.OPEN)
    assert_reconciled(live)


def test_concurrent_assignments_of_one_payment_one_wins(live: System, tmp_path: Path) -> None:
    """PostgreSQL: the second waits for the row lock, then sees the payment assigned."""
    if live.db.dialect != "postgresql":
        pytest.skip("SQLite serialises writers; the row lock is PostgreSQL's")
    f, pid = new_fee(live, 12000)
    new_fee(live, 4000, cpr=OTHER_CPR)
    ref = unmatched_in_bank(live, tmp_path, "L1", 12000)
    outcome: dict[str, Any] = {}

    def second(**target: Any) -> None:
        try:
            outcome["done"] = assign(live, ref, **target)
        except ConflictError as error:
            outcome["error"] = error.code

    with live.db.begin() as conn:
        unmatched.assign(conn, live.clock, K, ref, payment_id=pid, by="A", note="først")
        other = threading.Thread(target=second, kwargs={"debtor": OTHER_CPR})
        same = threading.Thread(target=second, kwargs={"payment_id": pid})
        other.start()
        other.join(timeout=1.0)
        assert other.is_alive()  # waiting for the lock
    other.join(timeout=10)
    assert outcome == {"error": "payment-assigned"}
    same.start()
    same.join(timeout=10)
    assert outcome["done"].created is False
    live.drain()
    assert fee_open(live, f) == (Money(0), FeeStatus.PAID)
    assert_counted_once(live, ref)
    assert_reconciled(live)
