"""Limits every request meets at the edge, before any route: its path and query, and the size
of its body.

**Path and query**: a control character (NUL above all: PostgreSQL refuses it in a text
parameter, which would be a 500) is in no path or query of ours: 422 problem+json
``invalid-path``, whatever the route.

**Body size**: 413 problem+json, never a 500 or a worker busy reading a body no route wants.

* a JSON (or any other non-XML) body: at most :data:`MAX_JSON_BODY` (1 MiB). The largest honest
  request (a fee with its materials, a till payment naming its invoices) is a few KiB;
* an XML body (a bank file, a registration in its XML form): at most :data:`MAX_XML_BODY`
  (256 MiB; a camt.054 of a day's FIK payments of a large municipality is a few MiB).

A declared ``Content-Length`` above the limit is refused before a byte is read; a body sent
without one (chunked) is counted as it is read and refused when it passes the limit.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fbs_debitor.web.problems import problem

MAX_JSON_BODY = 1 << 20
"""1 MiB: the most a JSON request body may be."""
MAX_XML_BODY = 256 << 20
"""256 MiB: the most an XML request body (a bank file) may be."""

_XML = (b"application/xml", b"text/xml")
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")


def has_control_character(scope: Scope) -> bool:
    """True when the decoded path or query string holds a control character."""
    path = scope.get("path", "")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return True
    query: bytes = scope.get("query_string", b"")
    return bool(query) and _CONTROL.search(unquote_to_bytes(query)) is not None


def body_limit(scope: Scope) -> int:
    """The most bytes the body of this request may have, by its media type."""
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media_type = value.split(b";")[0].strip().lower()
            return MAX_XML_BODY if media_type in _XML else MAX_JSON_BODY
    return MAX_JSON_BODY


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit // (1 << 20)} MiB"


class BodyLimitMiddleware:
    """ASGI middleware that refuses a request body above :func:`body_limit` with 413."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if has_control_character(scope):
            response = problem(
                422,
                "Invalid path",
                "the path or the query holds a control character",
                code="invalid-path",
            )
            await response(scope, receive, send)
            return
        limit = body_limit(scope)
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            response = problem(
                413,
                "Request body too large",
                _too_large(limit),
                code="body-too-large",
                instance=scope.get("path"),
            )
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # FastAPI passes an HTTPException from reading the body on unchanged; the
                    # problem handler of web.problems answers it as problem+json
                    raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, counted, send)
