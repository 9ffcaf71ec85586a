"""The HTTP edge: what every request meets before a route reads its body (decision 0021).

:class:`Edge` (ASGI middleware, inside the app's error handling):

* **who calls**, before the body is read: under ``/api/`` a request without ``Authorization``
  is answered 401 at once; a ``Bearer`` key is looked up (``deps.principal_from_bearer``, in a
  thread) and an unknown one answered 401; the principal found is kept in
  ``scope["state"]["principal"]``, which the ``principal`` dependency takes instead of looking
  the key up again. Under ``/external/`` (patron tokens, checked by those routes) only the
  header's presence is required;
* **how much**: a body is limited by its route: ``POST /api/v1/{kommunekode}/bank-files`` to
  ``max_bank_file_bytes``, everything else to ``max_json_bytes``. A ``Content-Length`` above the
  limit is answered 413 before a byte is read; a body without one (chunked) is counted as it
  streams and cut off with 413 when it passes the limit;
* **how slowly**: a body must arrive within ``body_read_timeout_seconds``, plus a second per
  ``body_min_bytes_per_second`` bytes received (a large upload on a fair line keeps going, a
  client dribbling a byte at a time does not): 408 otherwise.

Refusals are problem+json (``web/problems.py``) and close the connection when a body was on its
way, so the server does not read the rest of it.

:class:`SecurityHeaders` (outermost, so that every response has them, errors included): CSP,
nosniff, no referrer, no framing, a minimal Permissions-Policy, HSTS when the request came over
TLS, and ``Cache-Control: no-store`` on the API (personal data).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fbs_debitor.core.errors import UnauthenticatedError
from fbs_debitor.settings import Settings
from fbs_debitor.web import problems
from fbs_debitor.web.auth.sessions import SESSION_COOKIE
from fbs_debitor.web.deps import principal_from_bearer

BANK_FILE_ROUTE = re.compile(r"/api/v1/[^/]+/bank-files/?")
"""The one route whose body may be large (a bank file)."""

AUTHENTICATE = 'Bearer realm="fbs-debitor"'

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    ("cross-origin-opener-policy", "same-origin"),
)
HSTS = "max-age=31536000; includeSubDomains"
PERSONAL_DATA_PREFIXES = ("/api/", "/external/")


@dataclass(frozen=True, slots=True)
class Limits:
    """The edge's settings (docs/configuration.md)."""

    max_bank_file_bytes: int
    max_json_bytes: int
    body_read_timeout_s: float
    body_min_bytes_per_second: int
    trust_proxy_headers: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_bank_file_bytes=settings.max_bank_file_bytes,
            max_json_bytes=settings.max_json_bytes,
            body_read_timeout_s=settings.body_read_timeout_seconds,
            body_min_bytes_per_second=max(1, settings.body_min_bytes_per_second),
            trust_proxy_headers=settings.trust_proxy_headers,
        )

    def body_limit(self, method: str, path: str) -> int:
        if method == "POST" and BANK_FILE_ROUTE.fullmatch(path):
            return self.max_bank_file_bytes
        return self.max_json_bytes


class BodyTooLarge(HTTPException):
    """A body that passed its route's limit while it streamed in (413). FastAPI's
    HTTPException, which FastAPI's body parsing lets through as it is."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")
        self.limit = limit


class BodyReadTimeout(HTTPException):
    """A body that did not arrive in time (408)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            408,
            f"the request body did not arrive in time ({seconds:g} s and more for a large body)",
        )


def _refusal(
    status: int, title: str, detail: str, code: str, path: str, *, close: bool
) -> JSONResponse:
    response = problems.problem(status, title, detail, code=code)  # never the path: a CPR?
    if status == 401:
        response.headers["WWW-Authenticate"] = AUTHENTICATE
    if close:
        response.headers["Connection"] = "close"
    return response


def too_large(path: str, limit: int, *, close: bool = True) -> JSONResponse:
    return _refusal(
        413,
        "Request body too large",
        f"the request body is larger than this route takes ({limit} bytes)",
        "body-too-large",
        path,
        close=close,
    )


def install(app: FastAPI) -> None:
    """The answers for a body cut off while a route reads it (registered on the app, so they
    take precedence over the generic HTTP error handler)."""

    async def _too_large(request: Request, exc: Exception) -> JSONResponse:
        limit = exc.limit if isinstance(exc, BodyTooLarge) else 0
        return too_large(request.url.path, limit)

    async def _timeout(request: Request, exc: Exception) -> JSONResponse:
        detail = exc.detail if isinstance(exc, HTTPException) else "request body timeout"
        return _refusal(
            408,
            "Request body timeout",
            str(detail),
            "body-read-timeout",
            request.url.path,
            close=True,
        )

    app.add_exception_handler(BodyTooLarge, _too_large)
    app.add_exception_handler(BodyReadTimeout, _timeout)


class Edge:
    """Authentication, body size and body deadline before any route reads a body (module
    docstring)."""

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = Headers(scope=scope)
        has_body = "transfer-encoding" in headers or headers.get("content-length", "0") != "0"
        refusal = await self._authenticate(scope, headers, path, has_body)
        if refusal is None:
            refusal = self._check_length(scope, headers, path)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        limit = self.limits.body_limit(scope["method"], path)
        body = _Body(receive, limit, self.limits)
        await self.app(scope, body.receive, send)

    async def _authenticate(
        self, scope: Scope, headers: Headers, path: str, has_body: bool
    ) -> JSONResponse | None:
        session = SESSION_COOKIE in cookie_parser(headers.get("cookie", ""))
        if path.startswith("/external/"):
            if headers.get("authorization") or session:
                return None
            return _refusal(
                401,
                "Unauthenticated",
                "a token is required: Authorization: Bearer <token>",
                "unauthenticated",
                path,
                close=has_body,
            )
        if not path.startswith("/api/"):
            return None
        value = headers.get("authorization")
        if value is None and session:
            return None  # a person's session: the principal dependency checks it and its CSRF
        if value is None:
            return _refusal(
                401,
                "Unauthenticated",
                "an API key is required: Authorization: Bearer <key>",
                "unauthenticated",
                path,
                close=has_body,
            )
        scheme, _, token = value.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return _refusal(
                401,
                "Unauthenticated",
                "send the API key as Authorization: Bearer <key>",
                "unauthenticated",
                path,
                close=has_body,
            )
        system = scope["app"].state.system
        try:
            who = await run_in_threadpool(principal_from_bearer, system, token)
        except UnauthenticatedError as exc:
            return _refusal(
                401,
                exc.code.replace("-", " ").capitalize(),
                exc.detail,
                exc.code,
                path,
                close=has_body,
            )
        scope.setdefault("state", {})["principal"] = who
        return None

    def _check_length(self, scope: Scope, headers: Headers, path: str) -> JSONResponse | None:
        declared = headers.get("content-length")
        if declared is None:
            return None
        limit = self.limits.body_limit(scope["method"], path)
        if not declared.isdigit():
            return _refusal(
                400,
                "Invalid Content-Length",
                "Content-Length must be a number of bytes",
                "invalid-content-length",
                path,
                close=True,
            )
        if int(declared) > limit:
            return too_large(path, limit)
        return None


class _Body:
    """The route's ``receive``: counts the body against its limit and its deadline."""

    def __init__(self, receive: Receive, limit: int, limits: Limits) -> None:
        self._receive = receive
        self.limit = limit
        self.timeout_s = limits.body_read_timeout_s
        self.rate = limits.body_min_bytes_per_second
        self.started = asyncio.get_running_loop().time()
        self.received = 0
        self.complete = False

    async def receive(self) -> Message:
        if self.complete:  # only the disconnect is left to wait for: no deadline
            return await self._receive()
        deadline = self.started + self.timeout_s + self.received / self.rate
        loop = asyncio.get_running_loop()
        if loop.time() >= deadline:
            raise BodyReadTimeout(self.timeout_s)
        try:
            async with asyncio.timeout_at(deadline):
                message = await self._receive()
        except TimeoutError:
            raise BodyReadTimeout(self.timeout_s) from None
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                raise BodyTooLarge(self.limit)
            if not message.get("more_body", False):
                self.complete = True
        else:
            self.complete = True
        return message


class SecurityHeaders:
    """The security headers of every response (module docstring)."""

    def __init__(self, app: ASGIApp, *, trust_proxy_headers: bool) -> None:
        self.app = app
        self.trust_proxy_headers = trust_proxy_headers

    def _over_tls(self, scope: Scope) -> bool:
        if scope.get("scheme") == "https":
            return True
        if not self.trust_proxy_headers:
            return False
        forwarded = Headers(scope=scope).get("x-forwarded-proto", "")
        return forwarded.split(",")[0].strip().lower() == "https"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tls = self._over_tls(scope)
        personal = scope["path"].startswith(PERSONAL_DATA_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
                if tls:
                    headers.setdefault("strict-transport-security", HSTS)
                if personal:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class EdgeApp(FastAPI):
    """FastAPI with :class:`SecurityHeaders` outside everything, the error handlers included
    (``app.add_middleware`` puts a middleware inside them)."""

    def build_middleware_stack(self) -> ASGIApp:
        inner = super().build_middleware_stack()
        limits: Limits | None = getattr(self.state, "edge_limits", None)
        trust = limits.trust_proxy_headers if limits is not None else False
        return SecurityHeaders(inner, trust_proxy_headers=trust)


def install_edge(app: FastAPI, settings: Settings) -> Limits:
    """Put the edge on ``app`` (``create_app``)."""
    limits = Limits.from_settings(settings)
    app.state.edge_limits = limits
    install(app)
    app.add_middleware(Edge, limits=limits)
    return limits
