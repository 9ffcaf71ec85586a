"""Letters carry the debtor's name and address in the envelope window and the municipality as
sender (decision 0013); the address lines are written the Danish way; a CPR is never printed in
full."""

from __future__ import annotations

import io
import re
from datetime import date

import pypdf
import pytest

from fbs_debitor.core.fik import PaymentId, code_line
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.adapters.pdf import render_html, render_pdf
from fbs_debitor.debtor.model.addresses import (
    NoAddress,
    NoAddressReason,
    PostalAddress,
    Recipient,
    company_recipient,
    person_recipient,
)
from fbs_debitor.debtor.model.letters import Letter, LetterLine

CPR = "2110625629"
ADDRESS = PostalAddress(
    street="Vesterbrogade",
    building="12A",
    floor="2",
    door="tv",
    postcode="1620",
    city="København V",
)


def letter(**kw: object) -> Letter:
    pid = PaymentId.generate(4711)
    fields: dict[str, object] = {
        "kind": "invoice",
        "municipality_name": "Odense",
        "debtor_masked": "211062-XXXX",
        "letter_date": date(2026, 3, 2),
        "due_date": date(2026, 3, 16),
        "last_timely_payment_date": date(2026, 3, 16),
        "payment_id": pid.value,
        "creditor_number": "89123456",
        "code_line": code_line(pid, "89123456"),
        "lines": (LetterLine("Gebyr for overskredet lånetid", Money(12000)),),
        "reference": "Opkrævning nr. 7",
    }
    fields.update(kw)
    return Letter(**fields)  # type: ignore[arg-type]


def window(html: str) -> list[str]:
    """The lines in the envelope window of a rendered letter, tags removed."""
    match = re.search(r'<div class="window">(.*?)<div class="sender">', html, re.S)
    assert match, html
    text = re.sub(r"<br>", "\n", match.group(1))
    text = re.sub(r"<[^>]+>", "\n", text)
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_postal_address_lines_the_danish_way() -> None:
    assert ADDRESS.lines() == ("Vesterbrogade 12A, 2. tv", "1620 København V")
    ground = PostalAddress("Algade", "3", "9000", "Aalborg", floor="st", door="th")
    assert ground.lines() == ("Algade 3, st. th", "9000 Aalborg")
    house = PostalAddress("Strandvejen", "7", "3050", "Humlebæk", care_of="Hanne Holm")
    assert house.lines() == ("c/o Hanne Holm", "Strandvejen 7", "3050 Humlebæk")
    door_only = PostalAddress("Gade", "1", "5000", "Odense C", door="3")
    assert door_only.lines() == ("Gade 1, 3", "5000 Odense C")


def test_a_person_record_becomes_a_recipient_by_one_rule() -> None:
    assert person_recipient(status="01", name="A B", protected=False, address=ADDRESS) == (
        Recipient("A B", ADDRESS)
    )
    assert person_recipient(status="05", name="A B", protected=True, address=ADDRESS) == (
        Recipient("A B", None)
    )
    assert person_recipient(status="90", name="A B", protected=True, address=ADDRESS) == (
        NoAddress(NoAddressReason.DEAD)
    )
    assert person_recipient(status="99", name="A B", protected=False, address=ADDRESS) == (
        NoAddress(NoAddressReason.NO_RESIDENCE)  # a status we do not know: no residence
    )
    assert person_recipient(status="01", name="", protected=False, address=ADDRESS) == (
        NoAddress(NoAddressReason.NO_RESIDENCE)
    )
    assert company_recipient(name="X ApS", address=None) == NoAddress(NoAddressReason.NO_RESIDENCE)


@pytest.mark.parametrize(("kind", "number"), [("invoice", None), ("reminder", 2)])
def test_the_window_holds_name_and_address_and_the_sender_is_the_municipality(
    kind: str, number: int | None
) -> None:
    recipient = Recipient("Anne Marie Nielsen", ADDRESS)
    html = render_html(letter(kind=kind, reminder_number=number), recipient)
    assert window(html) == [
        "Afsender: Odense, Biblioteket, Opkrævning",
        "Anne Marie Nielsen",
        "Vesterbrogade 12A, 2. tv",
        "1620 København V",
    ]
    sender = re.search(r'<div class="sender">(.*?)<div class="meta">', html, re.S)
    assert sender, html
    assert re.sub(r"<[^>]+>|\s+", " ", sender.group(1)).split() == [
        "Odense",
        "Biblioteket",
        "Opkrævning",
    ]
    assert "CPR-nr.: 211062-XXXX" in html and CPR not in html
    assert "Reference: Opkrævning nr. 7" in html and "Dato: 2. marts 2026" in html


def test_a_protected_person_gets_the_name_only_and_a_company_its_cvr() -> None:
    html = render_html(letter(), Recipient("Sofie Dahl", None))
    assert window(html)[1:] == ["Sofie Dahl"]
    assert "Vesterbrogade" not in html and "Adresse mangler" not in html
    company = render_html(
        letter(debtor_masked="13585628"), Recipient("Bogbinderiet Nord ApS", ADDRESS)
    )
    assert "CVR-nr.: 13585628" in company
    assert window(company)[1] == "Bogbinderiet Nord ApS"


def test_without_a_recipient_the_window_says_the_address_is_missing() -> None:
    html = render_html(letter(), address_note="Personen er død (CPR-status 90)")
    assert window(html)[1:] == [
        "211062-XXXX",
        "Adresse mangler: Personen er død (CPR-status 90)",
    ]


def test_the_pdf_shows_the_window_and_the_sender() -> None:
    pdf = render_pdf(letter(), Recipient("Anne Marie Nielsen", ADDRESS))
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    for expected in (
        "Anne Marie Nielsen",
        "Vesterbrogade 12A, 2. tv",
        "1620 København V",
        "Biblioteket",
        "211062-XXXX",
    ):
        assert expected in text, text
    assert CPR not in text.replace(" ", "").replace("-", "")
