"""Letters render to PDF; the text in the PDF holds the amount and a valid FIK code line."""

from __future__ import annotations

import io
import re
from datetime import date

import pypdf
from lxml import html as lxml_html

from fbs_debitor.core.fik import PaymentId, code_line, validate_payment_id
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.adapters.pdf import render_html, render_pdf
from fbs_debitor.debtor.model.letters import Letter, LetterLine


def letter(**kw: object) -> Letter:
    pid = PaymentId.generate(4711)
    fields: dict[str, object] = {
        "kind": "invoice",
        "municipality_name": "København",
        "debtor_masked": "211062-XXXX",
        "letter_date": date(2026, 3, 2),
        "due_date": date(2026, 3, 16),
        "last_timely_payment_date": date(2026, 3, 16),
        "payment_id": pid.value,
        "creditor_number": "89123456",
        "code_line": code_line(pid, "89123456"),
        "lines": (
            LetterLine("Gebyr for overskredet lånetid", Money(12000), ("Kældermennesker",)),
            LetterLine("Erstatning for materiale", Money(112450)),
        ),
    }
    fields.update(kw)
    return Letter(**fields)  # type: ignore[arg-type]


def pdf_text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_invoice_pdf_holds_amount_and_a_valid_code_line() -> None:
    text = pdf_text(render_pdf(letter()))
    assert "Opkrævning" in text
    assert "1.244,50 kr." in text  # 120,00 + 1.124,50
    assert "16. marts 2026" in text
    match = re.search(r"\+71<(\d{15})\+(\d{8})<", text)
    assert match, text
    assert validate_payment_id(match.group(1)) == (True, "")
    assert match.group(2) == "89123456"
    assert "2110625629" not in text


def test_reminder_with_fee_announces_collection() -> None:
    lines = (*letter().lines, LetterLine("Rykkergebyr", Money(10000)))
    text = pdf_text(
        render_pdf(
            letter(kind="reminder", reminder_number=2, lines=lines, announces_collection=True)
        )
    )
    assert "Rykker 2" in text  # a letter stored before titles were: as it was titled then
    assert "1.344,50 kr." in text
    assert "Gældsstyrelsen" in text


def itemised_reminder(**kw: object) -> Letter:
    lines = (
        LetterLine(
            "Gebyr for overskredet lånetid (fee-1)",
            Money(12592),
            ("Kældermennesker",),
            claim_id="fee-1",
            parts=(Money(12345), Money(0), Money(247)),
        ),
        LetterLine(
            "Erstatning for materiale (erst-1)",
            Money(39900),
            claim_id="erst-1",
            parts=(Money(34900), Money(5000), Money(0)),
        ),
        LetterLine("Rykkergebyr for denne rykker", Money(10000), is_fee=True),
    )
    fields: dict[str, object] = {
        "kind": "reminder",
        "reminder_number": 3,
        "heading": "2. rykker",
        "lines": lines,
        "letter_date": date(2026, 4, 19),
        "pay_by": date(2026, 4, 29),
        "announces_collection": True,
    }
    fields.update(kw)
    return letter(**fields)


def test_a_reminder_itemises_each_claim_and_its_one_fee() -> None:
    reminder = itemised_reminder()
    assert reminder.title == "2. rykker" and reminder.fee == Money(10000)
    assert reminder.total == Money(12592 + 39900 + 10000)
    page = render_html(reminder)
    html = " ".join(page.split())
    assert "<h1>2. rykker</h1>" in html
    tree = lxml_html.fromstring(page)
    assert [" ".join(th.text_content().split()) for th in tree.xpath("//table//th")] == [
        "Krav",
        "Hovedstol",
        "Rykkergebyrer hidtil",
        "Renter",
        "I alt",
    ]
    assert [
        [" ".join(" ".join(td.itertext()).split()) for td in tr.xpath("./td")]
        for tr in tree.xpath("//table//tr[td]")
    ] == [
        ["Gebyr for overskredet lånetid (fee-1) Kældermennesker", "123,45 kr.", "0,00 kr.",
         "2,47 kr.", "125,92 kr."],
        ["Erstatning for materiale (erst-1)", "349,00 kr.", "50,00 kr.", "0,00 kr.",
         "399,00 kr."],
        ["Rykkergebyr for denne rykker", "100,00 kr."],
        ["I alt at betale", "624,92 kr."],
    ]  # fmt: skip
    assert "rykkergebyr på 100,00 kr. for denne rykker" in html
    assert (
        "Hvis du ikke betaler senest 29. april 2026, kan kravet blive sendt til inddrivelse "
        "hos Gældsstyrelsen" in html
    )
    text = pdf_text(render_pdf(reminder))
    assert "2. rykker" in text and "624,92 kr." in text and "Gældsstyrelsen" in text


def test_a_reminder_without_fee_and_without_collection_says_neither() -> None:
    reminder = itemised_reminder(
        heading="Påmindelse",
        lines=itemised_reminder().lines[:2],
        announces_collection=False,
    )
    html = render_html(reminder)
    assert reminder.fee is None
    assert "<h1>Påmindelse</h1>" in html
    assert "rykkergebyr på" not in html and "Gældsstyrelsen" not in html


def test_first_reminder_without_fee_is_a_paamindelse() -> None:
    html = render_html(letter(kind="reminder", reminder_number=1))
    assert "Påmindelse" in html
    assert "Gældsstyrelsen" not in html
