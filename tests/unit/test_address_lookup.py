"""The address look-up (decision 0013): one contract suite that the fake and the real registers
adapter both pass, the real adapter's reading of the registers' answers and failures, and the fake's
invented people.

The real adapter runs against an emulation of the CPR and CVR registers (``Registers``): an
``httpx.MockTransport`` that answers in the registers' own shapes, from the same records the
fake is given. One test runs over a real socket (a local HTTP server) for the credentials and the
timeout."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

import httpx
import pydantic
import pytest

from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.ids import Cpr, Cvr
from fbs_debitor.debtor.adapters.address.configured import configured_lookup
from fbs_debitor.debtor.adapters.address.fake import (
    CompanyRecord,
    FakeAddressLookup,
    PersonRecord,
)
from fbs_debitor.debtor.adapters.address.lookup import AddressLookup, AddressLookupError
from fbs_debitor.debtor.adapters.address.registers import RegisterAddressLookup
from fbs_debitor.debtor.model.addresses import (
    NoAddress,
    NoAddressReason,
    PostalAddress,
    Recipient,
)
from fbs_debitor.settings import Settings

CPR = "0101801234"
OTHER_CPR = "2110625629"
CVR = "13585628"
K = "101"
TODAY = date(2026, 3, 2)

FLAT = PostalAddress(
    street="Vesterbrogade",
    building="12A",
    floor="2",
    door="tv",
    postcode="1620",
    city="København V",
)
CARE_OF = PostalAddress(
    street="Strandvejen",
    building="7",
    postcode="3050",
    city="Humlebæk",
    care_of="Hanne Holm",
    locality="Sletten",
)


# -- the registers, emulated ------------------------------------------------------------------


def cpr_address_json(a: PostalAddress) -> dict[str, Any]:
    """A ``CprAdresse`` as the register writes it: house number in 3 digits and a letter,
    floor in 2 digits, the door padded."""
    digits = "".join(c for c in a.building if c.isdigit())
    letter = a.building[len(digits) :]
    return {
        "conavn": a.care_of or None,
        "vejadresseringsnavn": a.street,
        "vejnavn": a.street,
        "husnummer": f"{int(digits):03d}{letter}",
        "etage": a.floor.zfill(2) if a.floor.isdigit() else a.floor,
        "sidedoer": f"{a.door:<4}" if a.door else "",
        "bynavn": a.locality or None,
        "postnummer": a.postcode,
        "postdistrikt": a.city,
    }


def cvr_address_json(a: PostalAddress) -> dict[str, Any]:
    digits = "".join(c for c in a.building if c.isdigit())
    return {
        "vejnavn": a.street,
        "husnummerFra": int(digits),
        "husnummerTil": None,
        "bogstavFra": a.building[len(digits) :] or None,
        "etage": a.floor or None,
        "sidedoer": a.door or None,
        "conavn": a.care_of or None,
        "bynavn": a.locality or None,
        "postboks": None,
        "postnummer": int(a.postcode),
        "postdistrikt": a.city,
        "kommune": {"kommuneKode": 101, "kommuneNavn": "KØBENHAVN"},
    }


class Registers:
    """The CPR person look-up (``/cpr/person``) and the CVR search
    (``/cvr-permanent/virksomhed/_search``) as an ``httpx.MockTransport``."""

    CPR_URL = "https://registers.test/cpr/person"
    CVR_URL = "https://registers.test/cvr-permanent/virksomhed/_search"

    def __init__(self) -> None:
        self.people: dict[str, dict[str, Any]] = {}
        self.companies: dict[str, dict[str, Any]] = {}
        self.failure: int | str | None = None
        self.requests: list[httpx.Request] = []

    def person_json(self, cpr: str, person: dict[str, Any]) -> None:
        self.people[cpr] = person

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failure == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if self.failure == "refused":
            raise httpx.ConnectError("connection refused", request=request)
        if isinstance(self.failure, int):  # a register that echoes what it was asked
            return httpx.Response(self.failure, text=f"error for {request.content.decode()}")
        body = json.loads(request.content)
        if request.url.path == "/cpr/person":
            person = self.people.get(body["personnummer"])
            if person is None:
                return httpx.Response(404, json={"fejl": "ukendt personnummer"})
            return httpx.Response(200, json={"person": person})
        number = str(body["query"]["term"]["Vrvirksomhed.cvrNummer"])
        company = self.companies.get(number)
        hits = [] if company is None else [{"_source": {"Vrvirksomhed": company}}]
        return httpx.Response(200, json={"hits": {"total": len(hits), "hits": hits}})

    def adapter(self) -> RegisterAddressLookup:
        return RegisterAddressLookup(
            cpr_url=self.CPR_URL,
            cvr_url=self.CVR_URL,
            client=httpx.Client(transport=httpx.MockTransport(self.handle)),
            clock=SettableClock.at_date(TODAY),
        )


class World(Protocol):
    """What the contract suite puts into a register, whichever adapter reads it."""

    lookup: AddressLookup

    def add_person(self, cpr: str, record: PersonRecord) -> None: ...
    def add_company(self, cvr: str, record: CompanyRecord) -> None: ...
    def forget(self, number: str) -> None: ...
    def fail(self) -> None: ...


class FakeWorld:
    def __init__(self) -> None:
        self.fake = FakeAddressLookup()
        self.lookup = self.fake

    def add_person(self, cpr: str, record: PersonRecord) -> None:
        self.fake.add_person(cpr, record)

    def add_company(self, cvr: str, record: CompanyRecord) -> None:
        self.fake.add_company(cvr, record)

    def forget(self, number: str) -> None:
        self.fake.forget(number)

    def fail(self) -> None:
        self.fake.fail()


class RegisterWorld:
    def __init__(self) -> None:
        self.registers = Registers()
        self.lookup = self.registers.adapter()

    def add_person(self, cpr: str, record: PersonRecord) -> None:
        given, _, last = record.name.rpartition(" ")
        self.registers.people[cpr] = {
            "status": record.status,
            "navn": {"adresseringsnavn": record.name, "fornavne": given, "efternavn": last},
            "adresse": None if record.address is None else cpr_address_json(record.address),
            "beskyttelser": (
                [{"beskyttelsestype": "0001", "virkningfra": "2020-01-01", "virkningtil": None}]
                if record.protected
                else []
            ),
        }

    def add_company(self, cvr: str, record: CompanyRecord) -> None:
        self.registers.companies[cvr] = {
            "cvrNummer": int(cvr),
            "virksomhedMetadata": {
                "nyesteNavn": {"navn": record.name, "periode": {"gyldigFra": "2001-01-01"}},
                "nyesteBeliggenhedsadresse": (
                    None if record.address is None else cvr_address_json(record.address)
                ),
                "sammensatStatus": "Aktiv",
            },
        }

    def forget(self, number: str) -> None:
        self.registers.people.pop(number, None)
        self.registers.companies.pop(number, None)

    def fail(self) -> None:
        self.registers.failure = 503


@pytest.fixture(params=["fake", "register"])
def world(request: pytest.FixtureRequest) -> World:
    return FakeWorld() if request.param == "fake" else RegisterWorld()


# -- the contract: both adapters ---------------------------------------------------------------


def test_a_person_has_name_and_address(world: World) -> None:
    world.add_person(CPR, PersonRecord(name="Anne Marie Nielsen", address=FLAT))
    result = world.lookup.lookup(Cpr(CPR), K)
    assert result == Recipient(name="Anne Marie Nielsen", address=FLAT)
    assert isinstance(result, Recipient)
    assert result.window_lines() == (
        "Anne Marie Nielsen",
        "Vesterbrogade 12A, 2. tv",
        "1620 København V",
    )


def test_care_of_and_town_name_are_kept(world: World) -> None:
    world.add_person(CPR, PersonRecord(name="Jens Hansen", address=CARE_OF))
    result = world.lookup.lookup(Cpr(CPR), K)
    assert isinstance(result, Recipient)
    assert result.window_lines() == (
        "Jens Hansen",
        "c/o Hanne Holm",
        "Strandvejen 7",
        "Sletten",
        "3050 Humlebæk",
    )


def test_name_and_address_protection_gives_the_name_only(world: World) -> None:
    world.add_person(CPR, PersonRecord(name="Sofie Dahl", address=FLAT, protected=True))
    result = world.lookup.lookup(Cpr(CPR), K)
    assert result == Recipient(name="Sofie Dahl", address=None)
    assert isinstance(result, Recipient) and result.protected
    assert result.window_lines() == ("Sofie Dahl",)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("90", NoAddressReason.DEAD),
        ("80", NoAddressReason.EMIGRATED),
        ("70", NoAddressReason.DISAPPEARED),
        ("20", NoAddressReason.NO_RESIDENCE),
        ("60", NoAddressReason.NUMBER_REPLACED),
        ("30", NoAddressReason.NUMBER_REPLACED),
    ],
)
def test_a_person_without_residence_has_no_address(
    world: World, status: str, reason: NoAddressReason
) -> None:
    world.add_person(CPR, PersonRecord(name="Lars Madsen", address=FLAT, status=status))
    assert world.lookup.lookup(Cpr(CPR), K) == NoAddress(reason)


def test_a_living_person_with_no_address_on_record_has_none(world: World) -> None:
    world.add_person(CPR, PersonRecord(name="Lars Madsen", address=None))
    assert world.lookup.lookup(Cpr(CPR), K) == NoAddress(NoAddressReason.NO_RESIDENCE)


def test_an_unknown_number_is_no_address_not_an_error(world: World) -> None:
    world.add_person(CPR, PersonRecord(name="Anne Nielsen", address=FLAT))
    world.forget(CPR)
    world.forget(CVR)
    assert world.lookup.lookup(Cpr(CPR), K) == NoAddress(NoAddressReason.UNKNOWN)
    assert world.lookup.lookup(Cvr(CVR), K) == NoAddress(NoAddressReason.UNKNOWN)


def test_a_company_has_its_newest_name_and_address(world: World) -> None:
    address = PostalAddress(
        street="Grønttorvet", building="8", postcode="2500", city="Valby", floor="st"
    )
    world.add_company(CVR, CompanyRecord(name="Bogbinderiet Nord ApS", address=address))
    result = world.lookup.lookup(Cvr(CVR), K)
    assert result == Recipient(name="Bogbinderiet Nord ApS", address=address)
    assert isinstance(result, Recipient)
    assert result.window_lines() == ("Bogbinderiet Nord ApS", "Grønttorvet 8, st.", "2500 Valby")


def test_a_failing_register_raises_without_the_number(world: World) -> None:
    world.add_person(CPR, PersonRecord(name="Anne Nielsen", address=FLAT))
    world.fail()
    with pytest.raises(AddressLookupError) as caught:
        world.lookup.lookup(Cpr(CPR), K)
    error = caught.value
    assert error.code == "address-lookup-failed"
    assert CPR not in f"{error} {error.detail} {error.extra}"
    assert CPR[:6] not in error.detail


# -- the real adapter: what it sends and how it reads -----------------------------------------


def test_the_cpr_goes_in_the_body_never_the_url_and_the_municipality_asks() -> None:
    world = RegisterWorld()
    world.add_person(CPR, PersonRecord(name="Anne Nielsen", address=FLAT))
    world.lookup.lookup(Cpr(CPR), "461")
    (request,) = world.registers.requests
    assert request.method == "POST"
    assert CPR not in str(request.url)
    assert json.loads(request.content) == {"personnummer": CPR, "myndighed": "461"}
    assert request.headers["accept"] == "application/json"


def test_the_cvr_search_is_a_term_query_on_the_number() -> None:
    registers = Registers()
    registers.adapter().lookup(Cvr(CVR), K)
    (request,) = registers.requests
    assert request.url.path == "/cvr-permanent/virksomhed/_search"
    body = json.loads(request.content)
    assert body["query"] == {"term": {"Vrvirksomhed.cvrNummer": 13585628}}


def test_register_fields_are_read_as_written_in_the_register() -> None:
    registers = Registers()
    registers.person_json(
        CPR,
        {
            "status": "1",  # a status without its leading zero
            "navn": {"fornavne": "Anne Marie", "mellemnavn": "Birk", "efternavn": "Nielsen"},
            "adresse": {
                "conavn": "  ",
                "vejadresseringsnavn": "H C Andersens Blvd",
                "vejnavn": "H.C. Andersens Boulevard",
                "husnummer": "007b",
                "etage": "01",
                "sidedoer": "0003",
                "bynavn": "København V",
                "postnummer": "1553",
                "postdistrikt": "København V",
            },
        },
    )
    result = registers.adapter().lookup(Cpr(CPR), K)
    assert result == Recipient(
        name="Anne Marie Birk Nielsen",  # no adresseringsnavn: the names in order
        address=PostalAddress(
            street="H C Andersens Blvd",  # the addressing name, made for envelopes
            building="7B",
            floor="1",
            door="3",
            postcode="1553",
            city="København V",  # bynavn equal to the district is not repeated
        ),
    )
    assert isinstance(result, Recipient)
    assert result.window_lines()[1] == "H C Andersens Blvd 7B, 1. 3"


def test_a_cvr_post_box_and_a_numeric_postcode() -> None:
    registers = Registers()
    registers.companies[CVR] = {
        "virksomhedMetadata": {
            "nyesteNavn": {"navn": "Læsehesten A/S"},
            "nyesteBeliggenhedsadresse": {
                "postboks": "120",
                "postnummer": 800,
                "postdistrikt": "Høje Taastrup",
            },
        }
    }
    result = registers.adapter().lookup(Cvr(CVR), K)
    assert isinstance(result, Recipient)
    assert result.window_lines() == ("Læsehesten A/S", "Postboks 120", "0800 Høje Taastrup")


@pytest.mark.parametrize(
    ("protections", "protected"),
    [
        ([{"beskyttelsestype": "0001", "virkningtil": None}], True),
        ([{"beskyttelsestype": "0001", "virkningtil": "2026-03-03T00:00:00+01:00"}], True),
        ([{"beskyttelsestype": "0001", "virkningtil": "2026-03-02"}], False),  # ended today
        ([{"beskyttelsestype": "0001", "virkningtil": "2025-12-31"}], False),
        ([{"beskyttelsestype": "0003", "virkningtil": None}], False),  # marketing only
        ([], False),
        (None, False),
    ],
)
def test_only_name_and_address_protection_in_force_hides_the_address(
    protections: Any, protected: bool
) -> None:
    registers = Registers()
    registers.person_json(
        CPR,
        {
            "status": "01",
            "navn": {"adresseringsnavn": "Ida Skov"},
            "adresse": cpr_address_json(FLAT),
            "beskyttelser": protections,
        },
    )
    result = registers.adapter().lookup(Cpr(CPR), K)
    assert result == Recipient(name="Ida Skov", address=None if protected else FLAT)


@pytest.mark.parametrize(
    ("failure", "words"),
    [
        (401, "refused the credentials (HTTP 401)"),
        (403, "refused the credentials (HTTP 403)"),
        (500, "answered HTTP 500"),
        (400, "answered HTTP 400"),
        ("timeout", "did not answer in time"),
        ("refused", "could not be reached (ConnectError)"),
    ],
)
def test_register_failures_are_typed_errors_that_never_hold_the_number(
    failure: int | str, words: str
) -> None:
    registers = Registers()
    registers.failure = failure
    for debtor in (Cpr(CPR), Cvr(CVR)):
        with pytest.raises(AddressLookupError) as caught:
            registers.adapter().lookup(debtor, K)
        assert words in caught.value.detail
        assert caught.value.detail.startswith(
            "CPR-registret" if isinstance(debtor, Cpr) else "CVR-registret"
        )
        assert CPR not in caught.value.detail and CPR not in repr(caught.value.extra)


def _answering(answer: httpx.Response) -> RegisterAddressLookup:
    return RegisterAddressLookup(
        cpr_url=Registers.CPR_URL,
        cvr_url=Registers.CVR_URL,
        client=httpx.Client(transport=httpx.MockTransport(lambda _request: answer)),
        clock=SettableClock.at_date(TODAY),
    )


UNREADABLE = [
    httpx.Response(200, text="<html>maintenance</html>"),
    httpx.Response(200, json=["not", "an", "object"]),
]


@pytest.mark.parametrize(
    "answer",
    [
        *UNREADABLE,
        httpx.Response(200, json={"person": None}),
        httpx.Response(200, json={"person": {"navn": {"adresseringsnavn": "X"}}}),  # no status
    ],
)
def test_cpr_answers_that_do_not_read_are_errors(answer: httpx.Response) -> None:
    with pytest.raises(AddressLookupError, match=r"^CPR-registret"):
        _answering(answer).lookup(Cpr(CPR), K)


@pytest.mark.parametrize(
    "answer",
    [
        *UNREADABLE,
        httpx.Response(200, json={"took": 1}),  # no hits
        httpx.Response(200, json={"hits": {"hits": [{"_source": {}}]}}),  # no Vrvirksomhed
    ],
)
def test_cvr_answers_that_do_not_read_are_errors(answer: httpx.Response) -> None:
    with pytest.raises(AddressLookupError, match=r"^CVR-registret"):
        _answering(answer).lookup(Cvr(CVR), K)


# -- over a real socket: credentials and the timeout ------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    seen: list[tuple[str, str | None, dict[str, Any]]] = []  # noqa: RUF012

    def do_POST(self) -> None:  # the registers' one verb
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append((self.path, self.headers.get("Authorization"), body))
        if self.path == "/slow/cpr":
            time.sleep(1.0)
        payload = json.dumps(
            {
                "person": {
                    "status": "01",
                    "navn": {"adresseringsnavn": "Mads Jørgensen"},
                    "adresse": cpr_address_json(FLAT),
                }
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a test server's access log is noise


@pytest.fixture
def local_register() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    _Handler.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_configured_registers_over_http_with_credentials_and_a_timeout(
    local_register: str,
) -> None:
    clock = SettableClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    settings = Settings(
        address_lookup="register",
        address_lookup_cpr_url=f"{local_register}/cpr",
        address_lookup_cvr_url=f"{local_register}/cvr",
        address_lookup_username="kommune-101",
        address_lookup_password=pydantic.SecretStr("hemmeligt"),
        address_lookup_timeout_s=0.3,
    )
    lookup = configured_lookup(settings, clock)
    assert isinstance(lookup, RegisterAddressLookup)
    assert lookup.lookup(Cpr(CPR), K) == Recipient(name="Mads Jørgensen", address=FLAT)
    path, authorization, body = _Handler.seen[0]
    assert path == "/cpr" and body == {"personnummer": CPR, "myndighed": K}
    assert authorization == "Basic " + base64.b64encode(b"kommune-101:hemmeligt").decode()

    slow = configured_lookup(
        settings.model_copy(update={"address_lookup_cpr_url": f"{local_register}/slow/cpr"}),
        clock,
    )
    started = time.monotonic()
    with pytest.raises(AddressLookupError, match="did not answer in time"):
        slow.lookup(Cpr(CPR), K)
    assert time.monotonic() - started < 0.9  # the timeout, not the server, ended it


def test_the_setting_chooses_the_fake_by_default_and_the_registers_need_urls() -> None:
    clock = SettableClock.at_date(TODAY)
    assert isinstance(configured_lookup(Settings(), clock), FakeAddressLookup)
    with pytest.raises(pydantic.ValidationError, match="ADDRESS_LOOKUP_CPR_URL"):
        Settings(address_lookup="register", address_lookup_cvr_url="http://cvr.test")
    with pytest.raises(pydantic.ValidationError):
        Settings(address_lookup="cpr-direct")  # type: ignore[arg-type]


# -- the fake's invented people ---------------------------------------------------------------


def test_the_fake_invents_the_same_person_for_the_same_number_in_the_asking_municipality() -> None:
    fake = FakeAddressLookup()
    first = fake.lookup(Cpr(CPR), "461")
    assert first == FakeAddressLookup().lookup(Cpr(CPR), "461")
    assert isinstance(first, Recipient) and first.address is not None
    assert first.address.city.startswith("Odense") and first.address.postcode.startswith("5")
    assert len(first.name.split()) >= 2
    company = fake.lookup(Cvr(CVR), "751")
    assert isinstance(company, Recipient) and company.address is not None
    assert company.name.split()[-1] in {"ApS", "A/S", "I/S", "IVS"}
    assert company.address.city.startswith("Aarhus")
    # numbers differ, people differ (a handful of names for a few dozen numbers)
    names = set()
    for day in range(1, 29):
        person = fake.lookup(Cpr(f"{day:02d}0180{day:04d}"), K)
        assert isinstance(person, Recipient)
        names.add(person.window_lines())
    assert len(names) > 20
    assert fake.lookups == 2 + 28
    fake.fail(None)  # answering again after fail(None)
    assert isinstance(fake.lookup(Cpr(OTHER_CPR), K), Recipient)


def test_a_person_a_test_adds_replaces_a_forgotten_number() -> None:
    fake = FakeAddressLookup()
    fake.forget(CPR)
    assert fake.lookup(Cpr(CPR), K) == NoAddress(NoAddressReason.UNKNOWN)
    fake.add_person(CPR, PersonRecord(name="Anne Nielsen", address=FLAT))
    assert fake.lookup(Cpr(CPR), K) == Recipient(name="Anne Nielsen", address=FLAT)
    assert NoAddress(NoAddressReason.DEAD).text.startswith("Personen er død")
