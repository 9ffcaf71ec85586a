"""Server-rendered pages: one Jinja2 environment over ``web/templates`` (the shared layout
``base.html``; Danish first), and the headers every page gets: no caching (pages show a
person's data), no framing, no referrer (a login's answer carries a code in its URL), and a
content security policy that admits only this page's own inline style."""

from __future__ import annotations

import secrets
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.PackageLoader("fbs_debitor.web", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    response = templates.TemplateResponse(
        request, name, {"style_nonce": nonce, **(context or {})}, status_code=status_code
    )
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
