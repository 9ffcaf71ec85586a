"""The stand-in's SOAP face: a :class:`~.standin.PsrmStandIn` behind the envelopes of
:mod:`.soap`, so that the SOAP adapter is tested against it with nothing listening on a port::

    client = httpx.Client(transport=httpx.MockTransport(soap_handler(standin)))
    psrm = PsrmSoap("http://psrm.test/efi", client=client)

:func:`answer` turns a request body into ``(HTTP status, response body)``; a request it cannot
read gets a ``soapenv:Client`` fault (HTTP 500, as SOAP 1.1 has it). When the stand-in fails as
a timeout would (``fail_calls``), :func:`soap_handler` raises ``httpx.ReadTimeout``.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
from lxml import etree

from fbs_debitor.collection.adapters.psrm.documents import DocumentError
from fbs_debitor.collection.adapters.psrm.interface import PsrmError, PsrmUnavailable
from fbs_debitor.collection.adapters.psrm.soap import (
    EFI,
    INDBERET,
    KVITTERING,
    UNDERRET,
    body_of,
    envelope,
    fault,
)
from fbs_debitor.collection.adapters.psrm.standin import PsrmStandIn
from fbs_debitor.collection.model.psrm import KvitteringStatus


def answer(standin: PsrmStandIn, body: bytes) -> tuple[int, bytes]:
    """The stand-in's SOAP response to one request body. Raises PsrmUnavailable when the
    stand-in fails as a timeout would."""
    try:
        request = body_of(body)
        municipality = EFI.text(request, "Kommunekode")
        if request.tag == EFI.q(f"{INDBERET}_I"):
            actions = [
                EFI.read_aktion(el, municipality)
                for el in request.iterfind(EFI.q("FordringAktion"))
            ]
            received = standin.submit(actions)
            out = etree.Element(EFI.q(f"{INDBERET}_O"))
            for aktion_id in received:
                row = EFI.sub(out, "AktionModtaget")
                EFI.sub(row, "AktionID", aktion_id)
                EFI.sub(row, "Status", KvitteringStatus.MODTAGET.value)
            return 200, envelope(out)
        cursor = EFI.opt(request, "Cursor")
        limit = int(EFI.text(request, "MaksAntal"))
        if request.tag == EFI.q(f"{KVITTERING}_I"):
            out = etree.Element(EFI.q(f"{KVITTERING}_O"))
            receipts = standin.receipts(municipality, cursor, limit)
            for k in receipts.items:
                EFI.kvittering(out, k)
            page_cursor, more = receipts.cursor, receipts.more
        elif request.tag == EFI.q(f"{UNDERRET}_I"):
            out = etree.Element(EFI.q(f"{UNDERRET}_O"))
            notes = standin.notifications(municipality, cursor, limit)
            for u in notes.items:
                EFI.underretning(out, u)
            page_cursor, more = notes.cursor, notes.more
        else:
            return 500, fault("Client", f"unknown operation {request.tag}")
        if page_cursor is not None:
            EFI.sub(out, "Cursor", page_cursor)
        EFI.sub(out, "FlereIndikator", "true" if more else "false")
        return 200, envelope(out)
    except PsrmUnavailable:
        raise
    except (DocumentError, PsrmError, ValueError) as exc:
        return 500, fault("Client", str(exc))


def soap_handler(standin: PsrmStandIn) -> Callable[[httpx.Request], httpx.Response]:
    """A handler for ``httpx.MockTransport`` that puts ``standin`` behind SOAP."""

    def handle(request: httpx.Request) -> httpx.Response:
        try:
            status, data = answer(standin, request.content)
        except PsrmUnavailable as exc:
            raise httpx.ReadTimeout(str(exc), request=request) from exc
        return httpx.Response(
            status, content=data, headers={"Content-Type": "text/xml; charset=utf-8"}
        )

    return handle
