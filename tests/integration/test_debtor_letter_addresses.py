"""Letters leave with the debtor's name and address, looked up when they are delivered
(decision 0013), on SQLite and PostgreSQL: a letter the look-up cannot address stays pending with
the reason and is tried again later; a protected person gets the name only; the full CPR is in no
letter, no hold reason and no log line."""

from __future__ import annotations

import io
import json
import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pypdf
import pytest
from fastapi.testclient import TestClient

from fbs_debitor.debtor.adapters.address.fake import (
    CompanyRecord,
    FakeAddressLookup,
    PersonRecord,
    invented_person,
)
from fbs_debitor.debtor.adapters.address.registers import RegisterAddressLookup
from fbs_debitor.debtor.model.addresses import PostalAddress
from fbs_debitor.debtor.service.letters import (
    LOOKUP_FAILED_RETRY,
    NO_ADDRESS_RETRY,
    deliver_letters,
    letter_pdf,
)
from tests.integration.debtor_billing_support import CPR, CVR, OTHER_CPR, Desk, K, auth

FLAT = PostalAddress(
    street="Vesterbrogade",
    building="12A",
    floor="2",
    door="tv",
    postcode="1620",
    city="København V",
)
WINDOW = ("Anne Marie Nielsen", "Vesterbrogade 12A, 2. tv", "1620 København V")


def pdf_text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def letters(staff: TestClient) -> list[dict[str, Any]]:
    """The municipality's letters, oldest first."""
    found = staff.get(f"/api/v1/{K}/letters", headers=auth()).json()["letters"]
    return sorted(found, key=lambda x: x["id"])


def delivered_text(folder: Path, letter_id: int) -> str:
    return pdf_text((folder / K / f"{letter_id}.pdf").read_bytes())


def no_full_cpr(text: str, *numbers: str) -> bool:
    flat = text.replace(" ", "").replace("-", "")
    return not any(n in flat for n in numbers or (CPR, OTHER_CPR))


def test_invoice_and_reminder_leave_with_name_address_and_the_municipality_as_sender(
    desk: Desk, staff: TestClient, tmp_path: Path
) -> None:
    desk.register("fee-1", 12500)
    desk.register("fee-c", 30000, debtor=CVR, id_type="cvr")
    desk.dun(date(2026, 3, 30))  # reminder 1 of both invoices
    lookup = FakeAddressLookup()
    lookup.add_person(CPR, PersonRecord(name="Anne Marie Nielsen", address=FLAT))
    company = PostalAddress(street="Grønttorvet", building="8", postcode="2500", city="Valby")
    lookup.add_company(CVR, CompanyRecord(name="Bogbinderiet Nord ApS", address=company))

    assert deliver_letters(desk.system.db, desk.clock, tmp_path, lookup=lookup) == 4
    assert lookup.lookups == 2  # one look-up per debtor in a run, however many letters

    rows = letters(staff)
    assert [(x["kind"], x["debtor"]) for x in rows] == [
        ("invoice", "010180-XXXX"),
        ("invoice", CVR),
        ("reminder", "010180-XXXX"),
        ("reminder", CVR),
    ]
    for row in rows:
        text = delivered_text(tmp_path, row["id"])
        assert "Afsender: København, Biblioteket, Opkrævning" in text
        if row["debtor"] == CVR:
            assert "Bogbinderiet Nord ApS\nGrønttorvet 8\n2500 Valby" in text, text
            assert "CVR-nr.: 13585628" in text
        else:
            assert "\n".join(WINDOW) in text, text
            assert "CPR-nr.: 010180-XXXX" in text
            assert no_full_cpr(text)
        assert row["status"] == "delivered" and row["hold_reason"] is None


def test_a_failed_look_up_keeps_the_letters_pending_with_the_reason_and_they_leave_later(
    desk: Desk, staff: TestClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    desk.register("fee-1", 12500)
    desk.register("fee-2", 4500, debtor=OTHER_CPR)
    lookup = FakeAddressLookup()
    lookup.fail()
    db, clock = desk.system.db, desk.clock

    assert deliver_letters(db, clock, tmp_path, lookup=lookup) == 0
    assert lookup.lookups == 1  # the register is down: the run stops at the first failure
    first, second = letters(staff)
    assert first["status"] == second["status"] == "pending"
    assert first["hold_reason"] == "Registret svarer ikke / the register does not answer"
    assert datetime.fromisoformat(first["next_attempt_at"]) == clock.now() + LOOKUP_FAILED_RETRY
    assert second["hold_reason"] is None and second["next_attempt_at"] is None
    assert not list(tmp_path.rglob("*.pdf"))  # nothing left without an address

    # the held letter is not asked about again before its time; the next one is
    assert deliver_letters(db, clock, tmp_path, lookup=lookup) == 0
    assert lookup.lookups == 2
    lookup.fail(None)  # the register answers again
    assert deliver_letters(db, clock, tmp_path, lookup=lookup) == 0  # both wait their time
    assert lookup.lookups == 2

    clock.advance(LOOKUP_FAILED_RETRY)
    assert deliver_letters(db, clock, tmp_path, lookup=lookup) == 2
    assert [(x["status"], x["hold_reason"], x["next_attempt_at"]) for x in letters(staff)] == [
        ("delivered", None, None),
        ("delivered", None, None),
    ]
    assert "letter %d waits for its address: %s" in {r.msg for r in caplog.records}
    assert no_full_cpr(caplog.text) and no_full_cpr(json.dumps(letters(staff)))


def test_a_debtor_the_register_has_no_address_for_waits_a_day_while_the_others_leave(
    desk: Desk, staff: TestClient, tmp_path: Path
) -> None:
    desk.register("fee-1", 12500)
    desk.register("fee-2", 4500, debtor=OTHER_CPR)
    lookup = FakeAddressLookup()
    lookup.add_person(CPR, PersonRecord(name="Lars Madsen", address=FLAT, status="90"))
    db, clock = desk.system.db, desk.clock

    assert deliver_letters(db, clock, tmp_path, lookup=lookup) == 1
    dead, other = letters(staff)
    assert dead["status"] == "pending"
    assert dead["hold_reason"] == "Personen er død (CPR-status 90) / the person is dead"
    assert datetime.fromisoformat(dead["next_attempt_at"]) == clock.now() + NO_ADDRESS_RETRY
    assert other["status"] == "delivered"
    assert not (tmp_path / K / f"{dead['id']}.pdf").exists()

    clock.advance(NO_ADDRESS_RETRY - timedelta(minutes=1))
    assert deliver_letters(db, clock, tmp_path, lookup=lookup) == 0
    assert lookup.lookups == 2  # not yet due: not asked
    clock.advance(timedelta(minutes=1))
    lookup.add_person(
        CPR, PersonRecord(name="Lars Madsen", address=FLAT)
    )  # a register error, fixed
    assert deliver_letters(db, clock, tmp_path, lookup=lookup) == 1
    assert "Lars Madsen\nVesterbrogade 12A, 2. tv" in delivered_text(tmp_path, dead["id"])


def test_a_protected_person_gets_the_letter_with_the_name_only(
    desk: Desk, staff: TestClient, tmp_path: Path
) -> None:
    desk.register("fee-1", 12500)
    lookup = FakeAddressLookup()
    lookup.add_person(CPR, PersonRecord(name="Sofie Dahl", address=FLAT, protected=True))
    assert deliver_letters(desk.system.db, desk.clock, tmp_path, lookup=lookup) == 1
    (row,) = letters(staff)
    text = delivered_text(tmp_path, row["id"])
    assert "Sofie Dahl" in text
    assert "Vesterbrogade" not in text and "1620" not in text and "Adresse mangler" not in text


def test_the_staff_copy_is_addressed_now_and_says_why_when_it_cannot_be(
    desk: Desk, staff: TestClient
) -> None:
    desk.register("fee-1", 12500)
    (row,) = letters(staff)
    # the route uses the configured look-up: the fake by default, which invents the person
    text = pdf_text(staff.get(row["pdf"], headers=auth()).content)
    invented = invented_person(CPR, K)
    assert invented.address is not None
    assert "\n".join((invented.name, *invented.address.lines())) in text
    assert no_full_cpr(text)

    lookup = FakeAddressLookup()
    lookup.forget(CPR)
    with desk.system.db.connect() as conn:
        text = pdf_text(letter_pdf(conn, K, row["id"], lookup))
    assert "Adresse mangler: Registret kender ikke nummeret" in " ".join(text.split())
    assert "010180-XXXX" in text and no_full_cpr(text)
    lookup.fail("CPR-registret svarede HTTP 503")
    with desk.system.db.connect() as conn:
        text = pdf_text(letter_pdf(conn, K, row["id"], lookup))
    assert "Adresse mangler: CPR-registret svarede HTTP 503" in " ".join(text.split())
    assert letters(staff)[0]["status"] == "pending"  # a staff copy delivers nothing


def test_the_real_registers_adapter_delivers_and_nothing_logs_the_cpr(
    desk: Desk, staff: TestClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The delivery over the HTTP adapter (the register answering through a mock transport):
    httpx logs its requests, and neither they nor ours hold the number."""
    caplog.set_level(logging.DEBUG)
    asked: list[dict[str, Any]] = []

    def register(request: httpx.Request) -> httpx.Response:
        asked.append(json.loads(request.content))
        if len(asked) == 1:
            return httpx.Response(503, text=f"unavailable for {request.content.decode()}")
        return httpx.Response(
            200,
            json={
                "person": {
                    "status": "01",
                    "navn": {"adresseringsnavn": "Anne Marie Nielsen"},
                    "adresse": {
                        "vejadresseringsnavn": "Vesterbrogade",
                        "husnummer": "012A",
                        "etage": "02",
                        "sidedoer": "tv",
                        "postnummer": "1620",
                        "postdistrikt": "København V",
                    },
                    "beskyttelser": [],
                }
            },
        )

    lookup = RegisterAddressLookup(
        cpr_url="https://cpr.test/person",
        cvr_url="https://cvr.test/_search",
        client=httpx.Client(transport=httpx.MockTransport(register)),
        clock=desk.clock,
    )
    desk.register("fee-1", 12500)
    db, clock = desk.system.db, desk.clock
    assert deliver_letters(db, clock, tmp_path, lookup=lookup) == 0
    (row,) = letters(staff)
    assert row["hold_reason"] == ("CPR-registret svarede HTTP 503 / the register answered HTTP 503")
    clock.advance(LOOKUP_FAILED_RETRY)
    assert deliver_letters(db, clock, tmp_path, lookup=lookup) == 1
    assert asked == [{"personnummer": CPR, "myndighed": K}] * 2
    assert "\n".join(WINDOW) in delivered_text(tmp_path, row["id"])
    assert any("cpr.test" in r.getMessage() for r in caplog.records)  # httpx did log
    assert no_full_cpr(caplog.text)
