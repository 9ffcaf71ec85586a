"""FastAPI app factory."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from fbs_debitor import __version__
from fbs_debitor.bootstrap import System
from fbs_debitor.tenants.model import Role
from fbs_debitor.web import docs, problems
from fbs_debitor.web.audit import AuditMiddleware
from fbs_debitor.web.auth.routes import install as install_login
from fbs_debitor.web.deps import require
from fbs_debitor.web.edge import EdgeApp, install_edge
from fbs_debitor.web.limits import PathCheckMiddleware

MOUNTS: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = [
    # (module, APIRouter attribute, roles that may read (GET), roles that may change (POST, PUT))
    ("fbs_debitor.tenants.api", "admin_router", ("admin",), ("admin",)),
    ("fbs_debitor.library.api.staff", "router", ("library",), ("library",)),
    # the FBS fee API with "agencyid"/"patronid" literally in the path and a patron's token
    # (checked by the routes' own dependency, no API key): before the routes with {agencyid}
    ("fbs_debitor.library.api.patron_fees", "router", (), ()),
    (
        "fbs_debitor.library.api.fbs",
        "router",
        ("library", "integration"),
        ("library", "integration"),
    ),
    ("fbs_debitor.debtor.api.integration", "router", ("integration",), ("integration", "library")),
    ("fbs_debitor.debtor.api.staff", "router", ("debtor-staff",), ("debtor-staff",)),
    ("fbs_debitor.debtor.api.unmatched", "router", ("debtor-staff",), ("debtor-staff",)),
    ("fbs_debitor.collection.api", "router", ("debtor-staff",), ("debtor-staff",)),
    ("fbs_debitor.payments.api", "register_router", ("cash-register",), ("cash-register",)),
    (
        "fbs_debitor.payments.api",
        "bank_router",
        ("debtor-staff", "integration"),
        ("debtor-staff", "integration"),
    ),
    ("fbs_debitor.messaging.api", "router", ("ops",), ("ops",)),
]
"""Where each context's routes are mounted and which roles may read and change there (the table
of docs/security.md). Authentication and the municipality check happen here, at the edge, so
that the contexts stay free of it. No role is admitted everywhere."""


def create_app(system: System, *, background: bool = False) -> FastAPI:
    """The whole HTTP surface for ``system``. With ``background``, the worker and scheduler run
    in this process for as long as the app lives."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if background:
            system.start_background()
        try:
            yield
        finally:
            if background:
                system.stop_background()

    app = EdgeApp(
        title="fbs-debitor",
        version=__version__,
        description="Library fees from FBS to the municipal debtor system, payments and coverage "
        "back, hand-over to PSRM.",
        lifespan=lifespan,
        docs_url=None,  # served by web/docs.py from our own host
        redoc_url=None,
    )
    app.state.system = system
    problems.install(app)
    app.add_middleware(AuditMiddleware)
    install_login(app)  # people: OpenID Connect login, sessions, CSRF (docs/security.md)
    install_edge(app, system.settings)  # size, key and deadline before a body is read
    app.add_middleware(PathCheckMiddleware)  # 422 for a control character in a path or query
    docs.install(app)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """Liveness and database reachability."""
        with system.db.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "database": system.db.dialect, "version": __version__}

    @app.get("/metrics", tags=["ops"], response_class=Response)
    def metrics() -> Response:
        """Prometheus metrics, including the leg delay histograms."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for module_name, attribute, read, write in MOUNTS:
        router = getattr(importlib.import_module(module_name), attribute)
        if not read and not write:  # authenticated by the routes themselves
            app.include_router(router)
            continue
        allowed = require(tuple(Role(r) for r in read), tuple(Role(r) for r in write))
        app.include_router(router, dependencies=[Depends(allowed)])
    return app
