"""Letters render to PDF; the text in the PDF holds the amount and a valid FIK code line."""

from __future__ import annotations

import io
import re
from datetime import date

import pypdf

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
    assert "Rykker 2" in text
    assert "1.344,50 kr." in text
    assert "Gældsstyrelsen" in text


def test_first_reminder_without_fee_is_a_paamindelse() -> None:
    html = render_html(letter(kind="reminder", reminder_number=1))
    assert "Påmindelse" in html
    assert "Gældsstyrelsen" not in html
