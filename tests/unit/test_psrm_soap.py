"""The PSRM SOAP adapter's own edges: the envelope it sends, signing, and how PSRM's failures
map to PsrmError (refused: not retried) and PsrmUnavailable (retry later)."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from lxml import etree

from fbs_debitor.collection.adapters.psrm.interface import PsrmError, PsrmUnavailable
from fbs_debitor.collection.adapters.psrm.soap import EFI_NS, SOAP_NS, PsrmSoap, fault
from fbs_debitor.collection.adapters.psrm.standin import PsrmStandIn
from fbs_debitor.collection.adapters.psrm.standin_soap import answer, soap_handler
from fbs_debitor.collection.model.psrm import Aktion, FordringAktion, KvitteringStatus
from fbs_debitor.core.clock import SettableClock

URL = "http://psrm.test/efi"


def recall(reference: str, municipality: str = "101") -> FordringAktion:
    return FordringAktion(
        aktion_id=f"recall-{reference}",
        municipality=municipality,
        reference=reference,
        aktion=Aktion.TILBAGEKALD,
        virkningsdato=date(2026, 5, 4),
        aarsagskode="FEJL",
    )


def adapter(handler: object, **kw: object) -> PsrmSoap:
    client = httpx.Client(transport=httpx.MockTransport(handler))  # type: ignore[arg-type]
    return PsrmSoap(URL, client=client, **kw)  # type: ignore[arg-type]


@pytest.fixture
def standin() -> PsrmStandIn:
    return PsrmStandIn(SettableClock.at_date(date(2026, 5, 4)))


def test_the_envelope_is_soap_1_1_with_the_efi_operation(standin: PsrmStandIn) -> None:
    seen: list[httpx.Request] = []
    face = soap_handler(standin)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return face(request)

    psrm = adapter(handler)
    assert psrm.submit([recall("A"), recall("B", "461")]) == ["recall-A", "recall-B"]
    assert len(seen) == 2  # one call per municipality
    request = seen[0]
    assert request.method == "POST" and str(request.url) == URL
    assert request.headers["Content-Type"].startswith("text/xml")
    assert request.headers["SOAPAction"] == f'"{EFI_NS}/MFFordringIndberet_I"'
    root = etree.fromstring(request.content)
    assert root.tag == f"{{{SOAP_NS}}}Envelope"
    [operation] = root.find(f"{{{SOAP_NS}}}Body")  # type: ignore[misc]
    assert operation.tag == f"{{{EFI_NS}}}MFFordringIndberet_I"
    assert operation.findtext(f"{{{EFI_NS}}}Kommunekode") == "101"
    aktion = operation.find(f"{{{EFI_NS}}}FordringAktion")
    assert aktion is not None and aktion.findtext(f"{{{EFI_NS}}}Aarsagskode") == "FEJL"
    page = psrm.receipts("101", None, limit=10)
    assert [(k.aktion_id, k.status, k.aarsag_kode) for k in page.items] == [
        ("recall-A", KvitteringStatus.AFVIST, "FORDRING_UKENDT")
    ]
    assert page.cursor == "1" and not page.more


def test_the_signer_signs_what_is_sent(standin: PsrmStandIn) -> None:
    signed: list[bytes] = []
    face = soap_handler(standin)

    def sign(envelope: bytes) -> bytes:
        marked = envelope.replace(
            b"<soapenv:Header/>", b"<soapenv:Header><Signed/></soapenv:Header>"
        )
        signed.append(marked)
        return marked

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.content == signed[-1]
        return face(request)

    adapter(handler, signer=sign).submit([recall("A")])
    assert len(signed) == 1 and b"<Signed/>" in signed[0]
    assert [a.aktion_id for a in standin.actions_received()] == ["recall-A"]


def test_a_soap_fault_is_refused_not_retried() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, content=fault("Client", "Ugyldig kommunekode"))

    with pytest.raises(PsrmError, match="Ugyldig kommunekode") as err:
        adapter(handler).submit([recall("A")])
    assert not isinstance(err.value, PsrmUnavailable)


def test_the_standins_face_answers_a_request_it_cannot_read_with_a_fault(
    standin: PsrmStandIn,
) -> None:
    status, body = answer(standin, b"<not-soap/>")
    assert status == 500 and b"faultcode" in body
    with pytest.raises(PsrmError) as err:
        adapter(soap_handler(standin)).receipts("101", "not-a-number")
    assert not isinstance(err.value, PsrmUnavailable)


@pytest.mark.parametrize(
    "respond",
    [
        lambda request: httpx.Response(503, text="Service Unavailable"),
        lambda request: httpx.Response(200, text="<html>proxy</html>"),
        lambda request: (_ for _ in ()).throw(httpx.ConnectError("refused", request=request)),
        lambda request: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=request)),
    ],
    ids=["5xx", "not-soap", "connection", "timeout"],
)
def test_failures_of_the_transport_are_unavailable(respond: object) -> None:
    with pytest.raises(PsrmUnavailable):
        adapter(respond).notifications("101", None)


def test_a_4xx_without_a_fault_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, text="Forbidden")

    with pytest.raises(PsrmError) as err:
        adapter(handler).submit([recall("A")])
    assert not isinstance(err.value, PsrmUnavailable)


def test_an_endpoint_is_required() -> None:
    with pytest.raises(ValueError, match="endpoint"):
        PsrmSoap("")
