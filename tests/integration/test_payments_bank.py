"""Bank notifications in (leg 3): the camt import on both databases, from the payable copy (leg 2
in) to PaymentReceived / PaymentReversed in the outbox."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from fbs_debitor.bootstrap import System
from fbs_debitor.contracts.coverage import InvoiceUpdated
from fbs_debitor.contracts.payment import PaymentAllocated
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.errors import ValidationError
from fbs_debitor.messaging.store import inbox
from fbs_debitor.payments.service import invoices
from fbs_debitor.payments.service.bank import import_bank_file
from fbs_debitor.payments.store import records
from tests.integration.payments_support import (
    BATCH,
    CAMT,
    OVER,
    PERSON_MASKED,
    SINGLE,
    TEXT,
    UNDER,
    K,
    counts,
    deliver,
    entries,
    import_fixture,
    issue,
    payments_only,
    sent,
    update,
)
from tests.oracles import oracle_path


@pytest.fixture
def pay(system: System) -> System:
    return payments_only(system)


def test_invoice_issued_makes_it_payable_and_closes_leg_2(pay: System) -> None:
    issue(pay, "1", SINGLE, 12500)
    with pay.db.connect() as conn:
        found = records.payables_by_payment_id(conn, K, [SINGLE])
        applied = conn.execute(
            select(inbox.c.leg).where(
                inbox.c.consumer == "payments",
                inbox.c.message_type == "coverage.InvoiceIssued.v1",
            )
        ).all()
    assert found[SINGLE].invoice_id == "1"
    assert found[SINGLE].amount_due_ore == 12500
    assert found[SINGLE].is_open
    assert found[SINGLE].debtor_id_masked == PERSON_MASKED
    assert [r.leg for r in applied] == ["leg2"]


def test_a_single_fik_payment_is_matched_and_goes_to_debtor(pay: System) -> None:
    issue(pay, "1", SINGLE, 12500)
    summary = import_fixture(pay, "dk-single-fik.xml")
    assert (summary.entries, summary.payments) == (1, 1)
    assert summary.counts["matched"] == 1
    assert summary.total_ore == 12500
    [row] = entries(pay)
    assert (row.state, row.entry_key, row.invoice_id, row.amount_ore) == (
        "matched",
        "DB2026030200001",
        "1",
        12500,
    )
    [message] = sent(pay, "PaymentReceived")
    assert message.leg == "leg3"
    assert message.message_id == row.message_id
    p = message.payload
    assert p["payment_ref"] == "bank:DB2026030200001"
    assert (p["channel"], p["amount_ore"], p["booked_on"]) == ("bank", 12500, "2026-03-02")
    assert (p["payment_id"], p["invoice_id"]) == (SINGLE, "1")
    assert p["payer_text"] == "Jens Hansen"


def test_importing_the_same_file_again_changes_nothing(pay: System) -> None:
    issue(pay, "1", SINGLE, 12500)
    import_fixture(pay, "dk-single-fik.xml")
    before = counts(pay)
    again = import_fixture(pay, "dk-single-fik.xml")
    assert again.already_imported
    assert again.counts["duplicate"] == 1
    assert again.counts["matched"] == 0
    assert again.total_ore == 0
    assert counts(pay) == before
    # the same payment in another file (camt.054.001.08 with its own bank reference) is new
    other = import_fixture(pay, "dk-single-fik.v8.xml")
    assert other.counts["matched"] == 1


def test_a_batch_entry_carries_several_payments(pay: System) -> None:
    for n, (pid, ore) in enumerate(zip(BATCH, (2000, 9000, 23000), strict=True), start=1):
        issue(pay, f"b{n}", pid, ore)
    summary = import_fixture(pay, "dk-batch.xml")
    assert (summary.entries, summary.payments, summary.counts["matched"]) == (1, 3, 3)
    assert summary.total_ore == 34000
    rows = entries(pay)
    assert [r.entry_key for r in rows] == [f"DB2026030200002#{n}" for n in (1, 2, 3)]
    assert [r.invoice_id for r in rows] == ["b1", "b2", "b3"]
    refs = [m.payload["payment_ref"] for m in sent(pay, "PaymentReceived")]
    assert refs == [f"bank:DB2026030200002#{n}" for n in (1, 2, 3)]


def test_under_and_overpayments_are_partly_matched(pay: System) -> None:
    issue(pay, "u", UNDER, 12500)
    issue(pay, "o", OVER, 12500)
    under = import_fixture(pay, "dk-underpayment.xml")
    over = import_fixture(pay, "dk-overpayment.xml")
    assert under.counts["partly_matched"] == over.counts["partly_matched"] == 1
    rows = {r.invoice_id: r for r in entries(pay, "partly_matched")}
    assert "underpayment" in rows["u"].reason and rows["u"].amount_ore == 10000
    assert "overpayment" in rows["o"].reason and rows["o"].amount_ore == 15000
    assert [m.payload["amount_ore"] for m in sent(pay, "PaymentReceived")] == [10000, 15000]


def test_an_unknown_fik_is_unmatched_but_still_sent(pay: System) -> None:
    summary = import_fixture(pay, "dk-unknown-fik.xml")
    assert summary.counts["unmatched"] == 1
    [row] = entries(pay)
    assert row.state == "unmatched" and "000000009999996" in row.reason
    [message] = sent(pay, "PaymentReceived")
    assert message.payload["payment_id"] == "000000009999996"
    assert message.payload["invoice_id"] is None
    with pay.db.connect() as conn:
        waiting = invoices.list_bank_entries(conn, K, state="unmatched")
    assert [e["key"] for e in waiting] == ["DB2026030200007"]


def test_the_payment_id_is_found_in_the_text_and_cprs_are_masked(pay: System) -> None:
    issue(pay, "t", TEXT, 12500)
    summary = import_fixture(pay, "dk-text-reference.xml")
    assert summary.counts["matched"] == 1
    [row] = entries(pay)
    assert row.payer_text == "Jens Hansen / Bibliotek 010170-XXXX betaling 000000000005017"
    [message] = sent(pay, "PaymentReceived")
    assert "010170-1234" not in str(message.payload)
    assert message.payload["payment_id"] == TEXT


@pytest.mark.parametrize(
    ("fixture", "words"),
    [
        ("dk-foreign-currency.xml", "EUR"),
        ("dk-bad-check-digit.xml", "check digit"),
    ],
)
def test_errors_are_kept_for_a_person_and_not_sent(pay: System, fixture: str, words: str) -> None:
    issue(pay, "1", SINGLE, 12500)
    summary = import_fixture(pay, fixture)
    assert summary.counts["error"] == 1
    [error] = summary.errors
    assert words in error["reason"]
    assert error["entry_reference"] == entries(pay)[0].entry_key
    assert sent(pay, "PaymentReceived") == []
    with pay.db.connect() as conn:
        assert len(invoices.list_bank_entries(conn, K, state="error")) == 1


def test_a_reversal_takes_back_the_imported_payment(pay: System) -> None:
    issue(pay, "1", SINGLE, 12500)
    import_fixture(pay, "dk-single-fik.xml")
    summary = import_fixture(pay, "dk-reversal.xml")
    assert summary.counts["reversed"] == 1
    original, reversal = entries(pay)
    assert original.reversed_by_key == "DB2026030300001"
    assert (reversal.state, reversal.reverses_key) == ("reversed", "DB2026030200001")
    [message] = sent(pay, "PaymentReversed")
    assert message.payload["payment_ref"] == "bank:DB2026030200001"
    assert message.payload["reversal_ref"] == "bank:DB2026030300001"
    assert message.payload["amount_ore"] == 12500


def test_a_reversal_of_nothing_imported_is_an_error(pay: System) -> None:
    summary = import_fixture(pay, "dk-reversal.xml")
    assert summary.counts["error"] == 1
    assert "reversal of no imported payment" in summary.errors[0]["reason"]
    assert sent(pay, "PaymentReversed") == []


def test_a_dry_run_reports_and_changes_nothing(pay: System) -> None:
    issue(pay, "1", SINGLE, 12500)
    before = counts(pay)
    summary = import_fixture(pay, "dk-single-fik.xml", dry_run=True)
    assert summary.dry_run and summary.counts["matched"] == 1
    assert counts(pay) == before
    assert import_fixture(pay, "dk-single-fik.xml").counts["matched"] == 1


@pytest.mark.parametrize("bad", ["wrong", "not-xml", "other-namespace"])
def test_an_invalid_file_is_refused_whole(pay: System, tmp_path: Path, bad: str) -> None:
    if bad == "wrong":
        path = CAMT / "invalid" / "dk-no-statement.xml"
    else:
        path = tmp_path / "bad.xml"
        path.write_text("this is no XML" if bad == "not-xml" else "<Document xmlns='urn:x'/>")
    before = counts(pay)
    with pytest.raises(ValidationError) as refused:
        import_bank_file(pay.db, pay.clock, K, path)
    assert "refused" in refused.value.detail
    assert counts(pay) == before


def test_foreign_samples_import_as_errors(pay: System) -> None:
    """The genkgo samples are Swiss/Swedish/Dutch: every payment in them is kept as an error."""
    sample = oracle_path("camt/genkgo-camt/data/camt054.v4.xml")
    summary = import_bank_file(pay.db, pay.clock, K, sample)
    assert (summary.entries, summary.payments, summary.counts["error"]) == (1, 3, 3)
    assert sent(pay, "PaymentReceived") == []


def test_invoice_updates_keep_the_copy_current(pay: System, clock: SettableClock) -> None:
    issue(pay, "1", SINGLE, 12500)
    clock.advance(timedelta(minutes=5))
    update(pay, "1", SINGLE, 10000, "open")  # a write-down in debtor
    summary = import_fixture(pay, "dk-underpayment.xml")  # pays 100 kr. to another FIK
    assert summary.counts["unmatched"] == 1
    stale = InvoiceUpdated(
        municipality=K,
        occurred_at=clock.now() - timedelta(minutes=1),
        invoice_id="1",
        payment_id=SINGLE,
        amount_due_ore=0,
        status="paid",
    )
    with pay.db.begin() as conn:
        assert records.payables_by_payment_id(conn, K, [SINGLE])[SINGLE].amount_due_ore == 10000
        assert invoices.invoice_updated(conn, stale) is False  # older than the kept state
        assert records.payables_by_payment_id(conn, K, [SINGLE])[SINGLE].amount_due_ore == 10000


def test_debtors_allocation_is_kept_on_the_entry(pay: System) -> None:
    issue(pay, "1", SINGLE, 12500)
    import_fixture(pay, "dk-overpayment.xml")  # 150 kr. to an unknown FIK: unmatched
    [row] = entries(pay)
    deliver(
        pay,
        PaymentAllocated(
            municipality=K,
            occurred_at=pay.clock.now(),
            payment_ref=f"bank:{row.entry_key}",
            outcome="unmatched",
            covered_ore=0,
            credit_ore=15000,
            reason="kept as credit",
        ),
    )
    [row] = entries(pay)
    assert (row.allocation, row.covered_ore, row.credit_ore) == ("unmatched", 0, 15000)
