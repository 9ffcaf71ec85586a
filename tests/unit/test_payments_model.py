"""The payments domain without a database: payment IDs, keys, batches and verdicts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from fbs_debitor.core.fik import PaymentId
from fbs_debitor.payments.model import (
    KEY_MAX,
    Entry,
    EntryState,
    FoundId,
    Payable,
    Transaction,
    entry_key,
    find_payment_id,
    judge,
    payments_of,
)

PID = PaymentId.generate(101).value  # 000000000001016


def entry(amount: str = "125.00", *txs: Transaction, **changes: object) -> Entry:
    fields: dict[str, object] = {
        "document": "camt.054.001.02",
        "record_id": "N1",
        "account": "DK5000400440116243",
        "index": 0,
        "amount": Decimal(amount),
        "currency": "DKK",
        "credit_debit": "CRDT",
        "booking_date": date(2026, 3, 2),
        "bank_ref": "REF1",
        "transactions": txs or (Transaction(0, creditor_refs=(PID,)),),
    }
    fields.update(changes)
    return Entry(**fields)  # type: ignore[arg-type]


def invoice(due: int = 12500, status: str = "open") -> Payable:
    return Payable("101", "7", PID, due, status)


@pytest.mark.parametrize(
    ("refs", "texts", "want"),
    [
        ((PID,), (), PID),
        (("000 0000 0000 1016",), (), PID),
        ((f"+71<{PID}+89123456<",), (), PID),
        (("RF18539007547034",), (f"faktura {PID}",), PID),
        ((), (f"Betaling {PID} tak",), PID),
        ((), ("konto 1234567890123456789",), None),
    ],
)
def test_the_payment_id_is_found(refs: tuple[str, ...], texts: tuple[str, ...], want: str) -> None:
    assert find_payment_id(refs, texts).payment_id == want


def test_a_wrong_check_digit_is_an_error_and_a_foreign_reference_a_note() -> None:
    bad = find_payment_id(("000000000001017",), ())
    assert bad.payment_id is None and bad.error and "check digit" in bad.error
    note = find_payment_id(("ISR ref",), ())
    assert note.error is None and "not a FIK payment ID" in note.note
    assert "check digit" in find_payment_id((), ("000000000001017",)).note


def test_keys_prefer_the_banks_reference_then_ntryref_then_a_hash() -> None:
    assert payments_of(entry())[0].key == "REF1"
    assert entry_key(entry(bank_ref=None, entry_ref="7")) == "ntry:DK5000400440116243:7"
    hashed = payments_of(entry(bank_ref=None))[0].key
    assert hashed.startswith("hash:") and hashed == payments_of(entry(bank_ref=None))[0].key
    assert hashed != payments_of(entry(bank_ref=None, index=1))[0].key
    assert len(payments_of(entry(bank_ref="x" * 200))[0].key) == KEY_MAX


def test_a_batch_gives_one_payment_per_transaction() -> None:
    txs = (
        Transaction(0, Decimal("20.00"), "DKK", creditor_refs=("a",)),
        Transaction(1, Decimal("30.00"), "DKK", creditor_refs=("b",)),
    )
    payments = payments_of(entry("50.00", *txs))
    assert [(p.key, p.amount, p.problem) for p in payments] == [
        ("REF1#1", Decimal("20.00"), None),
        ("REF1#2", Decimal("30.00"), None),
    ]
    own = tuple(Transaction(i, Decimal("25.00"), "DKK", bank_ref=f"T{i}") for i in range(2))
    assert [p.key for p in payments_of(entry("50.00", *own))] == ["T0", "T1"]
    wrong = payments_of(entry("60.00", *txs))
    assert all(p.problem and "do not add up" in p.problem for p in wrong)


def test_payer_text_is_masked_and_capped() -> None:
    tx = Transaction(0, payer_name="Jens", texts=("cpr 0101701234 " + "x" * 600,))
    [p] = payments_of(entry("1.00", tx))
    assert p.payer_text.startswith("Jens / cpr 010170-XXXX")
    assert len(p.payer_text) == 500


def test_verdicts() -> None:
    [p] = payments_of(entry())
    found = FoundId(payment_id=PID)
    assert judge(p, found, invoice()).state is EntryState.MATCHED
    assert judge(p, found, invoice(10000)).state is EntryState.PARTLY_MATCHED
    assert "overpayment" in (judge(p, found, invoice(10000)).reason or "")
    assert "underpayment" in (judge(p, found, invoice(20000)).reason or "")
    assert "paid" in (judge(p, found, invoice(0, "paid")).reason or "")
    assert judge(p, found, None).state is EntryState.UNMATCHED
    assert judge(p, FoundId(note="none"), None).reason == "none"
    assert judge(p, FoundId(error="check"), None).state is EntryState.ERROR
    [eur] = payments_of(entry(currency="EUR"))
    assert judge(eur, found, invoice()).state is EntryState.ERROR
    [fraction] = payments_of(entry("1.005"))
    assert judge(fraction, found, invoice()).state is EntryState.ERROR
    [zero] = payments_of(entry("0"))
    assert judge(zero, found, invoice()).state is EntryState.ERROR
