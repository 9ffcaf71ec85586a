"""The camt parser against the genkgo/camt samples and their expected parser output (a third-party
oracle: skipped when absent, see tests/oracles.py), and our own Danish fixtures against the XSDs.

The expected ``*.json`` files are dumps of genkgo's PHP objects: amounts in minor units (cents,
øre) signed by credit/debit, dates as UTC ISO strings. Their dumper keys the entries of a message
by their position within each statement, so for a file of several statements only the last
statement's entries survive in the JSON (``camt053.v2.multi.statement``): the comparison is made
the same way, and the whole file is checked by hand in its own test.
"""

from __future__ import annotations

import filecmp
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fbs_debitor.core.errors import ValidationError
from fbs_debitor.payments.adapters import camt
from fbs_debitor.payments.model import Entry
from tests.oracles import MISSING, oracle_params, oracle_path

ORACLE = "camt/genkgo-camt"
SAMPLES = oracle_params(
    ORACLE,
    lambda genkgo: sorted(
        p for p in (genkgo / "data").glob("*.xml") if p.name != "camt053.v2.wrong.xml"
    ),
)
OURS = Path(__file__).resolve().parents[1] / "fixtures" / "camt"
DANISH = sorted(OURS.glob("*.xml"))
INVALID = OURS / "invalid" / "dk-no-statement.xml"


@pytest.fixture
def genkgo() -> Path:
    """The genkgo/camt folder; skips the test (fails it under CI) when it is absent."""
    return oracle_path(ORACLE)


def _name(sample: Any) -> str:
    return MISSING if sample == MISSING else str(sample.name)


def _minor(amount: Decimal, credit_debit: str | None) -> str:
    """An amount as genkgo dumps it: minor units (2 decimals), negative for a debit."""
    minor = int((amount * 100).to_integral_value())
    return str(-minor if credit_debit == "DBIT" else minor)


def _expected(sample: Path) -> list[dict[str, Any]]:
    return json.loads(sample.with_suffix(".json").read_text(encoding="utf-8"))["getEntries"]


def _as_dumped(entries: list[Entry]) -> list[Entry]:
    """Our entries keyed by their position in their record, later records overwriting earlier
    ones, as genkgo's dumper does."""
    by_index: dict[int, Entry] = {}
    for e in entries:
        by_index[e.index] = e
    return [by_index[i] for i in sorted(by_index)]


@pytest.mark.parametrize("sample", SAMPLES, ids=_name)
@pytest.mark.usefixtures("genkgo")
def test_every_sample_parses_to_the_expected_entries(sample: Path) -> None:
    document, count = camt.validate(sample)
    parsed = list(camt.iter_entries(sample, document))
    assert len(parsed) == count
    expected = _expected(sample)
    ours = _as_dumped(parsed)
    assert len(ours) == len(expected)
    for entry, want in zip(ours, expected, strict=True):
        assert _minor(entry.amount, entry.credit_debit) == want["getAmount"]["getAmount"]
        assert entry.currency == want["getAmount"]["getCurrency"]["getCode"]
        assert entry.credit_debit == want["getCreditDebitIndicator"]
        assert entry.reversal == bool(want["getReversalIndicator"])
        assert entry.index == want["getIndex"]
        assert entry.bank_ref == want["getAccountServicerReference"]
        booked = want["getBookingDate"]
        assert (entry.booking_date.isoformat() if entry.booking_date else None) == (
            booked["0"][:10] if booked else None
        )
        assert entry.record_id == want["getRecord"]["getId"]
        details = want["getTransactionDetails"]
        assert len(entry.transactions) == len(details)
        for tx, tx_want in zip(entry.transactions, details, strict=True):
            if tx_want == "__RECURSIVITY__":
                tx_want = want["getTransactionDetail"]
            amount = tx_want["getAmount"]
            if amount is None:
                assert tx.amount is None
            else:
                assert tx.amount is not None
                assert _minor(tx.amount, entry.credit_debit) == amount["getAmount"]
                assert tx.currency == amount["getCurrency"]["getCode"]
            info = tx_want["getRemittanceInformation"]
            refs = (info or {}).get("getCreditorReferenceInformation")
            if refs:
                assert tx.creditor_refs[0] == refs["getRef"]


def test_a_file_of_two_statements_gives_both_entries(genkgo: Path) -> None:
    sample = genkgo / "data" / "camt053.v2.multi.statement.xml"
    parsed = list(camt.iter_entries(sample))
    assert [(e.record_id, e.signed_amount, e.currency) for e in parsed] == [
        ("253EURNL26VAYB8060476890", Decimal("8.85"), "EUR"),
        ("254EURNL26VAYB8060476890", Decimal("-7.00"), "EUR"),
    ]


@pytest.mark.parametrize("origin", ["ours", "genkgo"])
def test_the_wrong_sample_is_refused_with_a_clear_error(origin: str) -> None:
    path = INVALID if origin == "ours" else oracle_path(f"{ORACLE}/data/camt053.v2.wrong.xml")
    with pytest.raises(ValidationError) as refused:
        camt.validate(path)
    assert refused.value.code == "bank-file-invalid"
    assert "camt.053.001.02.xsd" in refused.value.detail
    assert "Stmt" in refused.value.detail


def test_not_xml_and_unknown_documents_are_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.xml"
    junk.write_bytes(b"\x00\x01 not xml")
    with pytest.raises(ValidationError) as refused:
        camt.validate(junk)
    assert refused.value.code == "bank-file-not-xml"
    pain = tmp_path / "pain.xml"
    pain.write_text('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>')
    with pytest.raises(ValidationError) as unsupported:
        camt.validate(pain)
    assert unsupported.value.code == "unsupported-bank-file"


@pytest.mark.parametrize("fixture", DANISH, ids=lambda p: p.name)
def test_our_danish_fixtures_are_valid_against_their_xsd(fixture: Path) -> None:
    document, count = camt.validate(fixture)
    assert document.startswith("camt.054.001.")
    assert count >= 1
    assert all(e.currency in ("DKK", "EUR") for e in camt.iter_entries(fixture))


def test_the_vendored_xsds_are_the_shared_ones_unchanged(genkgo: Path) -> None:
    vendored = Path(camt.__file__).resolve().parent / "xsd"
    names = sorted(p.name for p in (genkgo / "xsd").glob("*.xsd"))
    assert names == sorted(f"{d}.xsd" for d in camt.SUPPORTED)
    for name in names:
        assert filecmp.cmp(vendored / name, genkgo / "xsd" / name, shallow=False), name


def test_the_xsd_folder_can_be_configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    xsds = tmp_path / "xsd"
    shutil.copytree(Path(camt.__file__).resolve().parent / "xsd", xsds)
    sample = OURS / "dk-single-fik.v8.xml"
    monkeypatch.setenv(camt.XSD_DIR_ENV, str(xsds))
    assert camt.xsd_dir() == xsds
    assert camt.validate(sample) == ("camt.054.001.08", 1)
    monkeypatch.setenv(camt.XSD_DIR_ENV, "/nonexistent")
    with pytest.raises(ValidationError, match=r"XSD for camt\.054\.001\.08 not found"):
        camt.validate(sample)


def test_a_file_of_many_entries_streams_through(tmp_path: Path) -> None:
    """20,000 entries, validated and read one at a time (``bench.payments --memory-only`` shows
    the memory staying flat for a million)."""
    path = tmp_path / "big.xml"
    ns = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"
    entry = (
        '<Ntry><Amt Ccy="DKK">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
        "<BkTxCd/><NtryDtls><TxDtls><RmtInf><Ustrd>x</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )
    with path.open("w") as f:
        f.write(f'<Document xmlns="{ns}"><BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>M</MsgId>')
        f.write("<CreDtTm>2026-03-02T10:00:00</CreDtTm></GrpHdr><Ntfctn><Id>N</Id>")
        f.write("<CreDtTm>2026-03-02T10:00:00</CreDtTm><Acct><Id><IBAN>DK5000400440116243</IBAN>")
        f.write("</Id></Acct>")
        for _ in range(20000):
            f.write(entry)
        f.write("</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>")
    assert camt.validate(path) == ("camt.054.001.02", 20000)
    seen = 0
    for e in camt.iter_entries(path):
        seen += 1
        assert e.index == seen - 1
    assert seen == 20000
