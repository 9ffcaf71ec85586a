"""The request dependencies of the web layer: the wired system, and authentication.

Authentication: every API call carries ``Authorization: Bearer <key>``; a key belongs to one
municipality and one role, and a route for municipality K only answers keys of K."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from fbs_debitor.bootstrap import System
from fbs_debitor.core.errors import ForbiddenError, UnauthenticatedError
from fbs_debitor.tenants import service as tenants
from fbs_debitor.tenants.model import Role


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
    unknown. Cheap (one indexed read), so the edge calls it before a request body is read."""
    with system.db.connect() as conn:
        municipality, role = tenants.authenticate(conn, token)
    return Principal(municipality, role, f"key:{role.value}")


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


def require(*roles: Role) -> Callable[..., Principal]:
    """A dependency that admits the given roles (and admin) of the municipality in the path."""

    def dependency(request: Request, who: Principal = Depends(principal)) -> Principal:  # noqa: B008
        if who.role not in roles and who.role is not Role.ADMIN:
            raise ForbiddenError(
                f"role {who.role.value} may not do this; needs {', '.join(r.value for r in roles)}",
                code="wrong-role",
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
