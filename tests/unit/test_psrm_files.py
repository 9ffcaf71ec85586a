"""The PSRM file adapter's own edges: the files it writes (name, schema), in-files that are not
valid (quarantined with their reason, the read goes on), a folder it cannot write."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import xmlschema

from fbs_debitor.collection.adapters.psrm import documents
from fbs_debitor.collection.adapters.psrm.exchange import exchange_with
from fbs_debitor.collection.adapters.psrm.files import PsrmFiles
from fbs_debitor.collection.adapters.psrm.interface import PsrmError, PsrmUnavailable
from fbs_debitor.collection.adapters.psrm.standin import PsrmStandIn
from fbs_debitor.collection.adapters.psrm.standin_rules import StandInRules
from fbs_debitor.collection.model.psrm import (
    Aktion,
    Fordring,
    FordringAktion,
    Haeftelse,
    IdType,
    KvitteringStatus,
)
from fbs_debitor.core.clock import SettableClock

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "docs" / "contracts" / "psrm-v1.xsd"
PACKAGED = ROOT / "src" / "fbs_debitor" / "collection" / "adapters" / "psrm" / "psrm-v1.xsd"
TODAY = date(2026, 5, 4)
NAME = re.compile(r"^MFFordringIndberet-(\d{3})-\d{8}T\d{12}Z-[0-9a-f]{8}\.xml$")


def create(reference: str, municipality: str = "101", cvr: bool = False) -> FordringAktion:
    debtor = (
        Haeftelse(IdType.CVR, "13585753", date(2029, 1, 1))
        if cvr
        else Haeftelse(IdType.CPR, "0101901234", date(2029, 1, 1))
    )
    return FordringAktion(
        aktion_id=f"aktion-{reference}",
        municipality=municipality,
        reference=reference,
        aktion=Aktion.OPRETFORDRING,
        virkningsdato=TODAY,
        fordring=Fordring(
            fordringstype="GEBYR",
            forfaldsdato=date(2026, 3, 1),
            sidste_rettidige_betalingsdato=date(2026, 3, 15),
            periode_fra=date(2026, 2, 1),
            periode_til=date(2026, 3, 1),
            hovedstol_ore=20000,
            gebyr_ore=10000,
            rente_ore=150,
            haeftelse=debtor,
            tekst="Erstatning for bog & <dvd>",
        ),
    )


def regulation(
    reference: str, aktion: Aktion, amount: int | None, code: str | None
) -> FordringAktion:
    return FordringAktion(
        aktion_id=f"{aktion}-{reference}",
        municipality="101",
        reference=reference,
        aktion=aktion,
        virkningsdato=TODAY,
        beloeb_ore=amount,
        aarsagskode=code,
    )


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock.at_date(TODAY)


def test_the_packaged_schema_is_the_published_one() -> None:
    assert PACKAGED.read_bytes() == PUBLISHED.read_bytes()


def test_every_file_written_is_valid_and_named_per_municipality(
    tmp_path: Path, clock: SettableClock
) -> None:
    psrm = PsrmFiles(tmp_path, clock)
    batch = [
        create("A"),
        create("B", municipality="461", cvr=True),
        regulation("A", Aktion.NEDSKRIV, 500, "INDB"),
        regulation("A", Aktion.OPSKRIV, 200, None),
        regulation("A", Aktion.TILBAGEKALD, None, "HENS"),
    ]
    assert psrm.submit(batch) == [a.aktion_id for a in batch]
    files = sorted((tmp_path / "out").iterdir())
    assert [NAME.match(f.name).group(1) for f in files] == ["101", "461"]  # type: ignore[union-attr]
    schema = xmlschema.XMLSchema(str(PUBLISHED))  # an independent validator of the published XSD
    for f in files:
        schema.validate(str(f))
    municipality, actions = documents.read_batch(files[0].read_bytes())
    assert municipality == "101"
    assert actions == [batch[0], *batch[2:]]  # everything survives the round trip
    assert documents.read_batch(files[1].read_bytes()) == ("461", [batch[1]])
    data = schema.to_dict(str(files[0]))
    first = data["FordringAktion"][0]
    assert first["Fordring"]["Hovedstol"] == 20000  # øre as integers
    assert first["Fordring"]["Haeftelse"]["CPR"] == "0101901234"


def test_a_submission_the_schema_refuses_writes_nothing(
    tmp_path: Path, clock: SettableClock
) -> None:
    bad = regulation("A", Aktion.NEDSKRIV, 0, "INDB")  # an amount must be positive
    with pytest.raises(PsrmError) as err:
        PsrmFiles(tmp_path, clock).submit([bad])
    assert isinstance(err.value, PsrmError) and not isinstance(err.value, PsrmUnavailable)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_a_folder_that_cannot_be_written_is_unavailable(
    tmp_path: Path, clock: SettableClock
) -> None:
    (tmp_path / "out").write_text("a file where the folder should be")
    with pytest.raises(PsrmUnavailable):
        PsrmFiles(tmp_path, clock).submit([create("A")])


def test_bad_in_files_are_quarantined_with_their_reason_and_the_rest_is_read(
    tmp_path: Path, clock: SettableClock
) -> None:
    standin = PsrmStandIn(clock, StandInRules(settle_share=0.0))
    psrm = PsrmFiles(tmp_path, clock)
    psrm.submit([create("A")])
    exchange_with(standin, tmp_path)
    inbox = tmp_path / "in"
    [good] = list(inbox.iterdir())
    valid = good.read_bytes()
    (inbox / "MFKvitteringHent-101-0000-a.xml").write_bytes(b"<not xml")
    (inbox / "MFKvitteringHent-101-0000-b.xml").write_bytes(
        valid.replace(b"<Status>UDFOERT</Status>", b"")
    )
    (inbox / "MFKvitteringHent-101-0000-c.xml").write_bytes(
        valid.replace(b"<Kommunekode>101</Kommunekode>", b"<Kommunekode>461</Kommunekode>")
    )
    (inbox / "MFKvitteringHent-101-0000-d.xml").write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<MFKvitteringHent xmlns="urn:fbs-debitor:psrm:v1"><Kommunekode>&e;</Kommunekode>'
        b"</MFKvitteringHent>"
    )
    (inbox / "readme.txt").write_text("hello")
    page = psrm.receipts("101", None)
    assert [(k.reference, k.status) for k in page.items] == [("A", KvitteringStatus.UDFOERT)]
    assert page.cursor == f"{good.name}#1" and not page.more
    rejected = inbox / "rejected"
    names = sorted(p.name for p in rejected.iterdir())
    assert names == sorted(
        [
            *(f"MFKvitteringHent-101-0000-{x}.xml" for x in "abcd"),
            *(f"MFKvitteringHent-101-0000-{x}.xml.reason.txt" for x in "abcd"),
            "readme.txt",
            "readme.txt.reason.txt",
        ]
    )
    reason = (rejected / "MFKvitteringHent-101-0000-b.xml.reason.txt").read_text()
    assert "Status" in reason
    assert "461" in (rejected / "MFKvitteringHent-101-0000-c.xml.reason.txt").read_text()
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == [good.name]
    again = psrm.receipts("101", page.cursor)
    assert again.items == () and again.cursor == page.cursor


def test_a_cursor_of_another_kind_is_refused(tmp_path: Path, clock: SettableClock) -> None:
    with pytest.raises(PsrmError):
        PsrmFiles(tmp_path, clock).receipts("101", "17")


def test_an_empty_in_folder_reads_as_nothing(tmp_path: Path, clock: SettableClock) -> None:
    page = PsrmFiles(tmp_path, clock).notifications("101", None)
    assert (page.items, page.cursor, page.more) == ((), None, False)


def test_the_exchange_quarantines_a_bad_submission_and_goes_on(
    tmp_path: Path, clock: SettableClock
) -> None:
    standin = PsrmStandIn(clock)
    psrm = PsrmFiles(tmp_path, clock)
    psrm.submit([create("A")])
    (tmp_path / "out" / "MFFordringIndberet-101-00000000T000000000000Z-bad.xml").write_text("x")
    moved = exchange_with(standin, tmp_path)
    assert (moved.actions, moved.receipts) == (1, 1)
    assert len(list((tmp_path / "out" / "processed").iterdir())) == 1
    assert len(list((tmp_path / "out" / "rejected").iterdir())) == 2
    assert exchange_with(standin, tmp_path).receipts == 0  # nothing carried twice
