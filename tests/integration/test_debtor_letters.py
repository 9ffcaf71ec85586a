"""The letter outbox and the debtor's account view over HTTP, on SQLite and PostgreSQL: letters
are rows until the delivery job renders them into a folder; a PDF can be had at any time, with
the amount and a FIK code line whose payment ID is valid; the CPR shows masked everywhere."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pypdf
import pytest
from fastapi.testclient import TestClient

from fbs_debitor.core.fik import validate_payment_id
from fbs_debitor.debtor import handlers
from fbs_debitor.debtor.adapters.address.fake import FakeAddressLookup
from fbs_debitor.debtor.service.invoicing import InvoicingResult
from fbs_debitor.debtor.service.letters import deliver_letters
from tests.integration.debtor_billing_support import (
    CPR,
    CREDITOR,
    Desk,
    K,
    auth,
)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_the_reminder_pdf_holds_the_amount_and_a_valid_code_line(
    desk: Desk, staff: TestClient
) -> None:
    desk.register("fee-1", 12500, text="Gebyr for sen aflevering", materials=("Kaninen",))
    desk.dun(date(2026, 3, 30))
    desk.dun(date(2026, 4, 19))
    listing = staff.get(f"/api/v1/{K}/letters", headers=auth())
    assert listing.status_code == 200
    newest = listing.json()["letters"][0]
    assert (newest["kind"], newest["title"], newest["total_ore"]) == (
        "reminder",
        "1. rykker",
        22500,
    )
    r = staff.get(f"/api/v1/{K}/letters/{newest['id']}.pdf", headers=auth())
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    text = pdf_text(r.content)
    assert "1. rykker" in text
    assert "225,00 kr." in text and "Rykkergebyr" in text and "Kaninen" in text
    assert "Gældsstyrelsen" in text  # the second step announces hand-over to collection
    assert "29. april 2026" in text  # pay within 10 days (19 April + 10)
    match = re.search(r"\+71<(\d{15})\+(\d{8})<", text.replace(" ", ""))
    assert match, text
    assert validate_payment_id(match.group(1)) == (True, "")
    assert match.group(2) == CREDITOR
    assert "010180-XXXX" in text and CPR not in text

    invoice_letter = listing.json()["letters"][-1]
    text = pdf_text(staff.get(invoice_letter["pdf"], headers=auth()).content)
    assert "Opkrævning" in text and "125,00 kr." in text and "16. marts 2026" in text


def test_letters_of_another_municipality_are_not_found(desk: Desk, staff: TestClient) -> None:
    desk.register("fee-1")
    letter = staff.get(f"/api/v1/{K}/letters", headers=auth()).json()["letters"][0]
    assert (
        staff.get(f"/api/v1/{K}/letters/{letter['id'] + 1000}.pdf", headers=auth()).status_code
        == 404
    )
    assert staff.get(f"/api/v1/461/letters/{letter['id']}.pdf", headers=auth()).status_code == 403
    r = staff.get(f"/api/v1/{K}/letters?status=pending", headers=auth())
    assert [x["id"] for x in r.json()["letters"]] == [letter["id"]]
    assert staff.get(f"/api/v1/{K}/letters?status=lost", headers=auth()).status_code == 422


def test_the_delivery_job_renders_pending_letters_into_the_folder(
    desk: Desk, staff: TestClient, tmp_path: Path
) -> None:
    desk.register("fee-1", 12500)
    desk.register("fee-2", 4500)
    desk.dun(date(2026, 3, 30))
    lookup = FakeAddressLookup()
    assert deliver_letters(desk.system.db, desk.clock, tmp_path, lookup=lookup, batch=3) == 4
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.pdf"))
    letters = staff.get(f"/api/v1/{K}/letters", headers=auth()).json()["letters"]
    assert files == sorted(f"{K}/{x['id']}.pdf" for x in letters)
    assert {x["status"] for x in letters} == {"delivered"}
    assert all(x["delivered_at"] is not None for x in letters)
    assert "45,00 kr." in pdf_text((tmp_path / K / f"{letters[-1]['id'] + 1}.pdf").read_bytes())
    assert deliver_letters(desk.system.db, desk.clock, tmp_path, lookup=lookup) == 0  # none left


def test_the_debtor_account_shows_invoices_reminders_letters_and_agreement(
    desk: Desk, staff: TestClient
) -> None:
    desk.register("fee-1", 12500)
    desk.register("erst-1", 34900, kind="compensation")
    desk.dun(date(2026, 3, 30))
    found = staff.post(f"/api/v1/{K}/debtors/lookup", json={"debtor": CPR}, headers=auth())
    ref = found.json()["debtor_ref"]
    r = staff.post(
        f"/api/v1/{K}/debtors/{ref}/payment-agreement",
        json={"until": "2026-06-30", "note": "Afdrag 100 kr/md, CPR 0101801234 oplyst"},
        headers=auth(),
    )
    assert r.status_code == 200, r.text
    assert r.json()["active"] is True and "0101801234" not in r.text
    view = staff.get(f"/api/v1/{K}/debtors/{ref}", headers=auth())
    assert view.status_code == 200
    assert CPR not in view.text
    body = view.json()
    assert body["debtor"] == "010180-XXXX"
    assert body["balance_ore"] == 12500 + 34900
    assert [c["claim_id"] for c in body["claims"]] == ["fee-1", "erst-1"]
    first = body["invoices"][0]
    assert first["code_line"] == f"+71<{first['payment_id']}+{CREDITOR}<"
    assert first["due_date"] == first["last_timely_payment_date"] == "2026-03-16"
    assert first["amount_due_ore"] == 12500 and first["status"] == "open"
    assert first["reminders"] == [
        {"number": 1, "date": "2026-03-30", "fee_total_ore": 0, "announces_collection": False}
    ]
    assert len(body["letters"]) == 4
    assert body["payment_agreement"]["until"] == "2026-06-30"
    assert body["payment_agreement"]["active"] is True
    assert body["deceased_on"] is None
    r = staff.post(
        f"/api/v1/{K}/debtors/D999999/payment-agreement",
        json={"until": "2026-06-30"},
        headers=auth(),
    )
    assert r.status_code == 404


def test_the_scheduled_jobs_invoice_dun_and_deliver(
    desk: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert {"invoicing", "dunning", "letters"} <= {name for name, _, _ in desk.system.scheduled}
    monkeypatch.setenv("FBS_DEBITOR_LETTER_DIR", str(tmp_path / "out"))
    job = {name: fn for name, _, fn in handlers.jobs(desk.system.db, desk.clock)}
    desk.rules(invoicing_mode="collected")
    desk.register("fee-1", 12500)
    invoiced = job["invoicing"]()
    assert isinstance(invoiced, InvoicingResult) and invoiced.invoices == 1
    desk.today(date(2026, 3, 30))
    (result,) = job["dunning"]()
    assert result.reminders == 1 and result.on == date(2026, 3, 30)
    assert job["letters"]() == 2
    assert sorted(p.name for p in (tmp_path / "out" / K).iterdir()) == ["1.pdf", "2.pdf"]
