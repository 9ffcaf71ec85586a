"""The request dependencies of the web layer: the wired system, and authentication.

Authentication: every API call carries ``Authorization: Bearer <key>``; a key belongs to one
municipality and one role, and a route for municipality K only answers keys of K."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from fbs_debitor.bootstrap import System
from fbs_debitor.core.errors import ForbiddenError, UnauthenticatedError
from fbs_debitor.tenants.model import Role
from fbs_debitor.tenants.service import keys as tenant_keys
from fbs_debitor.tenants.service import municipalities as tenants

log = logging.getLogger(__name__)


def get_system(request: Request) -> System:
    """FastAPI dependency: the wired system of this app."""
    system: System = request.app.state.system
    return system


bearer = HTTPBearer(auto_error=False, description="API key of one municipality and one role")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who calls: one municipality, one role, and ``actor``, the name the audit log and the
    money-moving actions record (``key:<label>`` for an API key, ``person:<subject>`` for a
    person logged in)."""

    municipality: str
    role: Role
    actor: str


def principal_from_bearer(system: System, token: str) -> Principal:
    """The principal of an ``Authorization: Bearer`` token; UnauthenticatedError when it is
    unknown, revoked or expired. Cheap (one indexed read; a write at most once a minute per key
    for its last use), so the edge calls it before a request body is read."""
    production = system.settings.env == "production"
    with system.db.connect() as conn:
        key = tenant_keys.authenticate(conn, system.clock, token, production=production)
    if tenant_keys.needs_touch(system.clock, key):
        _record_last_use(system, key)
    return Principal(key.municipality, key.role, f"key:{key.key_id} {key.label}"[:120])


LAST_USE_WAIT_S = 0.05
"""How long a request waits for its key's last-use write before it goes on without it."""
_recording: set[str] = set()
_recording_lock = threading.Lock()


def _record_last_use(system: System, key: tenant_keys.ApiKey) -> None:
    """Write the key's last use in a thread of its own (one per key at a time) and wait for it
    at most ``LAST_USE_WAIT_S``: on SQLite the write may queue for the write lock behind a long
    delivery, and a read must not wait for that (a request once took 4.9 s that way)."""
    with _recording_lock:
        if key.key_id in _recording:
            return
        _recording.add(key.key_id)

    def write() -> None:
        try:
            with system.db.begin() as conn:
                tenant_keys.touch_api_key(conn, system.clock, key)
        except Exception:  # the last use is a convenience; never fail a request for it
            log.warning("the last use of key %s was not recorded", key.key_id, exc_info=True)
        finally:
            with _recording_lock:
                _recording.discard(key.key_id)

    writer = threading.Thread(target=write, name="key-last-use", daemon=True)
    writer.start()
    writer.join(LAST_USE_WAIT_S)


def principal(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
) -> Principal:
    known = getattr(request.state, "principal", None)
    if isinstance(known, Principal):  # the edge identified the caller already
        return known
    if credentials is None:
        from fbs_debitor.web.auth.sessions import session_principal

        person = session_principal(request, get_system(request).settings)  # 403 without CSRF
        if person is None:
            raise UnauthenticatedError(
                "an API key (Authorization: Bearer <key>) or a session (log in at /login) "
                "is required"
            )
        request.state.principal = person
        return person
    who = principal_from_bearer(get_system(request), credentials.credentials)
    request.state.principal = who  # routes without a kommunekode in the path compare with it
    return who


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def require(
    read: tuple[Role, ...], write: tuple[Role, ...] | None = None
) -> Callable[..., Principal]:
    """A dependency that admits the ``read`` roles to safe methods (GET) and the ``write`` roles
    (default: the same) to the rest, of the municipality in the path only. No role is admitted
    everywhere: the municipal admin has its own routes (settings, keys, audit)."""
    changing = read if write is None else write

    def dependency(request: Request, who: Principal = Depends(principal)) -> Principal:  # noqa: B008
        roles = read if request.method in SAFE_METHODS else changing
        if who.role not in roles:
            needs = ", ".join(r.value for r in roles) or "no role"
            raise ForbiddenError(
                f"role {who.role.value} may not do this; needs {needs}", code="wrong-role"
            )
        kommunekode = request.path_params.get("kommunekode")
        agency_id = request.path_params.get("agencyid")
        if agency_id is not None:
            with get_system(request).db.connect() as conn:
                kommunekode = tenants.by_agency(conn, agency_id).kommunekode
        if kommunekode is not None and kommunekode != who.municipality:
            raise ForbiddenError(
                "this API key belongs to another municipality", code="wrong-municipality"
            )
        return who

    return dependency
