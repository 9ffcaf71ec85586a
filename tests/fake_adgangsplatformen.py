"""An emulation of Adgangsplatformen's token introspection (login.bib.dk/oauth/introspection) as
an ``httpx.MockTransport``, for the tests of the real adapter.

It answers as Adgangsplatformen does (the field names of decision 0018): ``active``,
``clientId``, ``expires`` (ISO 8601, milliseconds, ``Z``), ``agency``, ``uniqueId``, ``type``
(``authorized`` or ``anonymous``), plus the patron attribute (``patronId``); an unknown, revoked
or expired token is ``{"active": false}``. It checks our basic authentication (401 otherwise)
and can fail on purpose: an HTTP status, a timeout, a refused connection, a body that is not
JSON, an ``error`` answer, or ``active: true`` past the expiry (a sloppy server).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx

from fbs_debitor.core.clock import Clock

URL = "https://login.bib.test/oauth/introspection"
CLIENT_ID = "fbs-debitor-test"
CLIENT_SECRET = "test-client-secret"


@dataclass
class Issued:
    agency: str
    patron: int | None
    expires: datetime
    revoked: bool = False


class FakeAdgangsplatformen:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.tokens: dict[str, Issued] = {}
        self.failure: int | str | None = None
        self.extra: dict[str, Any] = {}
        self.requests: list[httpx.Request] = []

    def issue(self, agency: str, patron: int | None, minutes: int = 15) -> str:
        token = secrets.token_hex(20)
        self.tokens[token] = Issued(agency, patron, self.clock.now() + timedelta(minutes=minutes))
        return token

    def revoke(self, token: str) -> None:
        self.tokens[token].revoked = True

    def client(self) -> httpx.Client:
        return httpx.Client(
            transport=httpx.MockTransport(self.handle),
            auth=httpx.BasicAuth(CLIENT_ID, CLIENT_SECRET),
            timeout=httpx.Timeout(1.0),
        )

    def answer(self, token: str) -> dict[str, Any]:
        issued = self.tokens.get(token)
        now = self.clock.now()
        sloppy = self.failure == "active-past-expiry"
        if issued is None or issued.revoked or (issued.expires <= now and not sloppy):
            return {"active": False}
        body: dict[str, Any] = {
            "active": True,
            "clientId": CLIENT_ID,
            "expires": issued.expires.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "agency": issued.agency,
            "uniqueId": None if issued.patron is None else f"u-{issued.patron}",
            "search": {"profile": "opac", "agency": issued.agency},
            "type": "anonymous" if issued.patron is None else "authorized",
            "name": "Test library site",
        }
        if issued.patron is not None:
            body["patronId"] = str(issued.patron)
        return body | self.extra

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        match self.failure:
            case int(status):
                return httpx.Response(status, text="failure")
            case "timeout":
                raise httpx.ReadTimeout("slow", request=request)
            case "connect":
                raise httpx.ConnectError("refused", request=request)
            case "not-json":
                return httpx.Response(200, text="<html>maintenance</html>")
            case "error":
                return httpx.Response(200, json={"error": "Invalid client and/or secret"})
            case "list":
                return httpx.Response(200, json=[{"active": True}])
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.method != "POST" or request.headers.get("authorization") != expected:
            return httpx.Response(401, json={"error": "Invalid client and/or secret"})
        form = parse_qs(request.content.decode())
        token = (form.get("token") or form.get("access_token") or [""])[0]
        return httpx.Response(200, json=self.answer(token))
