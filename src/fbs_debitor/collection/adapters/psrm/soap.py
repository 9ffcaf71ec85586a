"""The SOAP adapter: PSRM's creditor services over HTTP, as SOAP 1.1.

Three operations, modelled on the EFI services (namespace :data:`EFI_NS`,
``urn:oio:skat:efi:ws:1.0.1``; request ``<Operation>_I``, response ``<Operation>_O``):

* ``MFFordringIndberet_I``: ``Kommunekode`` and the ``FordringAktion`` elements (as in
  ``psrm-v1.xsd``, in the EFI namespace); the answer lists ``AktionModtaget`` (``AktionID``,
  ``Status`` MODTAGET). One call per municipality of a batch.
* ``MFKvitteringHent_I`` / ``MFUnderretSamlingHent_I``: ``Kommunekode``, ``Cursor`` (absent: from
  the start), ``MaksAntal``; the answer lists ``Kvittering`` / ``Underretning`` elements, then
  ``Cursor`` and ``FlereIndikator``.

**The mapping is the seam.** The exact production XSDs, WSDL, endpoint and the certificate come
from the municipality's debtor vendor and Gældsstyrelsen's onboarding; what they name differently
is changed here (``documents.Xml`` for the elements, the builders below for the envelopes)
without touching the collection context.

**Signing.** ``signer`` takes the whole envelope as bytes and returns the bytes to send. In
production it applies WS-Security (an XML signature with the municipality's OCES system
certificate, usually done by the vendor's gateway); by default it is the identity (no signature),
for the stand-in and tests.

Errors: a timeout, a connection error, an HTTP 5xx without a SOAP fault, or an answer that is
not SOAP -> PsrmUnavailable (the outcome is unknown; send again with the same ids). A SOAP fault
(any HTTP status) or a 4xx -> PsrmError (PSRM refused the call; not retried).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import httpx
from lxml import etree

from fbs_debitor.collection.adapters.psrm.documents import DocumentError, Xml
from fbs_debitor.collection.adapters.psrm.files import group_by_municipality
from fbs_debitor.collection.adapters.psrm.interface import PsrmError, PsrmUnavailable
from fbs_debitor.collection.model.psrm import FordringAktion, Kvittering, Page, Underretning

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
EFI_NS = "urn:oio:skat:efi:ws:1.0.1"
EFI = Xml(EFI_NS)

INDBERET = "MFFordringIndberet"
KVITTERING = "MFKvitteringHent"
UNDERRET = "MFUnderretSamlingHent"

T = TypeVar("T")
Signer = Callable[[bytes], bytes]


def identity(envelope: bytes) -> bytes:
    """The default signer: sends the envelope as it is (no WS-Security)."""
    return envelope


def envelope(body: etree._Element) -> bytes:
    """A SOAP 1.1 envelope around one body element."""
    root = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"soapenv": SOAP_NS, "efi": EFI_NS})
    etree.SubElement(root, f"{{{SOAP_NS}}}Header")
    etree.SubElement(root, f"{{{SOAP_NS}}}Body").append(body)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def fault(code: str, message: str) -> bytes:
    """A SOAP 1.1 fault envelope (``code``: ``Client`` or ``Server``)."""
    root = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"soapenv": SOAP_NS})
    body = etree.SubElement(root, f"{{{SOAP_NS}}}Body")
    f = etree.SubElement(body, f"{{{SOAP_NS}}}Fault")
    etree.SubElement(f, "faultcode").text = f"soapenv:{code}"
    etree.SubElement(f, "faultstring").text = message
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def body_of(data: bytes) -> etree._Element:
    """The one element in a SOAP envelope's body. Raises DocumentError if it is no envelope."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise DocumentError(f"not XML: {exc}") from exc
    if root.getroottree().docinfo.doctype:
        raise DocumentError("a DOCTYPE is refused (no entities, no DTD)")
    if root.tag != f"{{{SOAP_NS}}}Envelope":
        raise DocumentError("not a SOAP 1.1 envelope")
    body = root.find(f"{{{SOAP_NS}}}Body")
    children = [] if body is None else [c for c in body if isinstance(c.tag, str)]
    if len(children) != 1:
        raise DocumentError("a SOAP body holds exactly one element")
    return children[0]


def submit_request(municipality: str, actions: Sequence[FordringAktion]) -> etree._Element:
    el = etree.Element(EFI.q(f"{INDBERET}_I"))
    EFI.sub(el, "Kommunekode", municipality)
    for a in actions:
        EFI.aktion(el, a)
    return el


def read_request(
    operation: str, municipality: str, cursor: str | None, limit: int
) -> etree._Element:
    el = etree.Element(EFI.q(f"{operation}_I"))
    EFI.sub(el, "Kommunekode", municipality)
    if cursor is not None:
        EFI.sub(el, "Cursor", cursor)
    EFI.sub(el, "MaksAntal", limit)
    return el


class PsrmSoap:
    """PSRM over SOAP at ``endpoint`` (see the module docstring). Implements
    :class:`~.interface.Psrm`. ``client``: an httpx client to use (e.g. with a
    ``MockTransport`` in tests, or mutual TLS); otherwise one is made with ``timeout_s``."""

    def __init__(
        self,
        endpoint: str,
        *,
        client: httpx.Client | None = None,
        timeout_s: float = 30.0,
        signer: Signer = identity,
    ) -> None:
        if not endpoint:
            raise ValueError("PsrmSoap needs the endpoint's URL")
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self.signer = signer
        self._own_client = client is None
        self.client = client if client is not None else httpx.Client(timeout=timeout_s)

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def _call(self, operation: str, request: etree._Element) -> etree._Element:
        """Post one operation and return the body element of its answer."""
        payload = self.signer(envelope(request))
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{EFI_NS}/{operation}_I"',
        }
        try:
            response = self.client.post(
                self.endpoint, content=payload, headers=headers, timeout=self.timeout_s
            )
        except httpx.TimeoutException as exc:
            raise PsrmUnavailable(f"PSRM {operation}: no answer in time ({exc})") from exc
        except httpx.TransportError as exc:
            raise PsrmUnavailable(f"PSRM {operation}: connection failed ({exc})") from exc
        try:
            answer = body_of(response.content)
        except DocumentError as exc:
            if response.status_code >= 500 or response.is_success:
                raise PsrmUnavailable(
                    f"PSRM {operation}: HTTP {response.status_code} without a SOAP answer"
                ) from exc
            raise PsrmError(f"PSRM {operation}: HTTP {response.status_code}") from exc
        if answer.tag == f"{{{SOAP_NS}}}Fault":
            code = answer.findtext("faultcode") or ""
            message = answer.findtext("faultstring") or ""
            raise PsrmError(f"PSRM {operation} fault {code}: {message}")
        if response.status_code >= 500:
            raise PsrmUnavailable(f"PSRM {operation}: HTTP {response.status_code}")
        if not response.is_success:
            raise PsrmError(f"PSRM {operation}: HTTP {response.status_code}")
        if answer.tag != EFI.q(f"{operation}_O"):
            raise PsrmError(f"PSRM {operation}: unexpected answer {answer.tag}")
        return answer

    def submit(self, actions: Sequence[FordringAktion]) -> list[str]:
        received: list[str] = []
        for municipality, group in group_by_municipality(actions).items():
            answer = self._call(INDBERET, submit_request(municipality, group))
            for row in answer.iterfind(EFI.q("AktionModtaget")):
                received.append(EFI.text(row, "AktionID"))
        return received

    def receipts(self, municipality: str, cursor: str | None, limit: int = 500) -> Page[Kvittering]:
        return self._page(
            KVITTERING, "Kvittering", municipality, cursor, limit, EFI.read_kvittering
        )

    def notifications(
        self, municipality: str, cursor: str | None, limit: int = 500
    ) -> Page[Underretning]:
        return self._page(
            UNDERRET, "Underretning", municipality, cursor, limit, EFI.read_underretning
        )

    def _page(
        self,
        operation: str,
        element: str,
        municipality: str,
        cursor: str | None,
        limit: int,
        read: Callable[[etree._Element, str], T],
    ) -> Page[T]:
        answer = self._call(operation, read_request(operation, municipality, cursor, limit))
        try:
            items = tuple(read(el, municipality) for el in answer.iterfind(EFI.q(element)))
        except (DocumentError, ValueError) as exc:
            raise PsrmError(f"PSRM {operation}: an answer we cannot read: {exc}") from exc
        return Page(
            items=items,
            cursor=EFI.opt(answer, "Cursor") or cursor,
            more=(EFI.opt(answer, "FlereIndikator") or "false") == "true",
        )
