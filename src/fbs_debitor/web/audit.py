"""The audit trail of the HTTP surface: every change a person or a till makes through the API.

An ASGI middleware: for every request that is not a read (POST, PUT, PATCH, DELETE) by an
identified caller of a staff role, it appends one entry to the municipality's audit log after
the answer: who (the key or person, and the role), what (the method and the route's template,
with the path's values apart, CPR numbers masked), why (the ``reason``, ``note`` or ``comment``
of a JSON body, as given) and the outcome (the status answered, refusals included). Reads of a
full CPR number go through a POST route, so they are recorded the same way.

Calls of the ``integration`` role (system to system, e.g. every claim the library registers)
are not recorded here: their messages have their own trail in the outbox and inbox.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fbs_debitor.tenants.model import Role
from fbs_debitor.tenants.service import audit as tenant_audit
from fbs_debitor.web.deps import SAFE_METHODS, Principal

log = logging.getLogger(__name__)

REASON_FIELDS = ("reason", "note", "comment")
BODY_KEPT = 64 * 1024
"""The first bytes of a JSON body kept to find the reason (bodies are small: JSON is limited)."""
NOT_AUDITED = frozenset({Role.INTEGRATION})


def _reason(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    for field in REASON_FIELDS:
        value = data.get(field)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        kept = bytearray()
        status = 500

        async def keep_body() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(kept) < BODY_KEPT:
                kept.extend(message.get("body", b"")[: BODY_KEPT - len(kept)])
            return message

        async def keep_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, keep_body, keep_status)
        finally:
            who = scope.get("state", {}).get("principal")
            if isinstance(who, Principal) and who.role not in NOT_AUDITED:
                try:
                    await anyio.to_thread.run_sync(self._record, scope, who, bytes(kept), status)
                except Exception:  # the answer is sent; say loudly that its entry is missing
                    log.exception("audit entry not written for %s", who.actor)

    @staticmethod
    def _record(scope: Scope, who: Principal, body: bytes, status: int) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unknown route"
        params: dict[str, Any] = dict(scope.get("path_params") or {})
        params.pop("kommunekode", None)
        target = ", ".join(f"{k}={v}" for k, v in sorted(params.items())) or None
        system = scope["app"].state.system
        entry = tenant_audit.AuditEntry(
            municipality=who.municipality,
            actor=who.actor,
            role=who.role.value,
            action=f"{scope['method']} {template}",
            target=target,
            reason=_reason(body) if body else None,
            outcome=status,
        )
        with system.db.begin() as conn:
            tenant_audit.record_audit(conn, system.clock, entry)
