"""The request dependencies of the web layer: the wired system, and authentication.

Authentication: every API call carries ``Authorization: Bearer <key>``; a key belongs to one
municipality and one role, and a route for municipality K only answers keys of K."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from fbs_debitor.bootstrap import System
from fbs_debitor.core.errors import ForbiddenError
from fbs_debitor.tenants import service as tenants
from fbs_debitor.tenants.model import Role


def get_system(request: Request) -> System:
    """FastAPI dependency: the wired system of this app."""
    system: System = request.app.state.system
    return system


bearer = HTTPBearer(auto_error=False, description="API key of one municipality and one role")


class Unauthenticated(ForbiddenError):
    code = "unauthenticated"


@dataclass(frozen=True, slots=True)
class Principal:
    municipality: str
    role: Role


def principal(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
) -> Principal:
    if credentials is None:
        raise Unauthenticated("an API key is required: Authorization: Bearer <key>")
    system = get_system(request)
    with system.db.connect() as conn:
        municipality, role = tenants.authenticate(conn, credentials.credentials)
    who = Principal(municipality, role)
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
