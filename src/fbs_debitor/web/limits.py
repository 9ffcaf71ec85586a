"""A limit every request meets before any route: its path and query.

A control character (NUL above all: PostgreSQL refuses it in a text parameter, which would be a
500) is in no path or query of ours: 422 problem+json ``invalid-path``, whatever the route.
(The size of a body, and who may send one, are checked by :mod:`fbs_debitor.web.edge`.)
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from fbs_debitor.web.problems import problem

_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")


def has_control_character(scope: Scope) -> bool:
    """True when the decoded path or query string holds a control character."""
    path = scope.get("path", "")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return True
    query: bytes = scope.get("query_string", b"")
    return bool(query) and _CONTROL.search(unquote_to_bytes(query)) is not None


class PathCheckMiddleware:
    """ASGI middleware that refuses a control character in the path or query with 422."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and has_control_character(scope):
            response = problem(
                422,
                "Invalid path",
                "the path or the query holds a control character",
                code="invalid-path",
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
