"""``/docs`` (Swagger UI) and ``/static`` from our own host.

Swagger UI's files come from npm (``swagger-ui-dist``, pinned in package-lock.json) and are
copied into ``static/vendor/swagger-ui`` by ``make install``: never from a CDN, never committed.
The page starts Swagger UI from ``static/swagger-init.js`` rather than an inline script, so the
Content-Security-Policy (``web/edge.py``) allows scripts from our own host only. ReDoc is off.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static"
SWAGGER = "/static/vendor/swagger-ui"


def page(title: str, openapi_url: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(title)}</title>
<link rel="stylesheet" href="{SWAGGER}/swagger-ui.css">
<link rel="icon" type="image/png" href="{SWAGGER}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"></div>
<script src="{SWAGGER}/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    """Mount ``/static`` and serve ``/docs`` (the app is made with ``docs_url=None``)."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page(f"{app.title}: API", openapi_url))
