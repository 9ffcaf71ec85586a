"""Lets a posted form carry the CSRF token in its ``csrf_token`` field (pages work without
JavaScript, so they cannot set the ``X-CSRF-Token`` header).

For a changing request that comes with a session cookie, no ``Authorization`` header and no
``X-CSRF-Token`` header, and whose body is a form, this middleware reads the body (up to
``MAX_FORM_BYTES``), takes the ``csrf_token`` field into the request scope and hands the
same body on to the route. The check itself is :func:`sessions.csrf_ok`, where the session
is read; a request the middleware does not read simply has no token from a form."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fbs_debitor.web.auth.sessions import (
    CSRF_FIELD,
    CSRF_FORM_SCOPE_KEY,
    SAFE_METHODS,
    SESSION_COOKIE,
)

MAX_FORM_BYTES = 1 << 20
FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")


class CsrfFormMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if (
            b"authorization" in headers
            or b"x-csrf-token" in headers
            or (SESSION_COOKIE + "=").encode() not in headers.get(b"cookie", b"")
            or not headers.get(b"content-type", b"").lower().startswith(FORM_TYPES)
        ):
            await self.app(scope, receive, send)
            return
        try:
            declared = int(headers.get(b"content-length", b"0"))
        except ValueError:
            declared = MAX_FORM_BYTES + 1
        if declared > MAX_FORM_BYTES:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        more = True
        while more:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            more = message.get("more_body", False)
            if size > MAX_FORM_BYTES:
                break
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        if not more and size <= MAX_FORM_BYTES:
            replayed = False

            async def once() -> Message:
                nonlocal replayed
                if replayed:
                    return {"type": "http.disconnect"}
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

            form = await Request(scope, once).form()
            try:
                token = form.get(CSRF_FIELD)
                if isinstance(token, str):
                    scope[CSRF_FORM_SCOPE_KEY] = token
            finally:
                await form.close()

        pending = list(messages)

        async def replay() -> Message:
            if pending:
                return pending.pop(0)
            return await receive()

        await self.app(scope, replay, send)
