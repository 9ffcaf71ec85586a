"""RFC 9457 problem+json responses for domain errors, validation errors and the rest.

No response echoes the request path (it could hold a CPR number someone put there), and every
CPR-like number in a detail is masked."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from fbs_debitor.core.errors import (
    ConflictError,
    DomainError,
    ForbiddenError,
    NotFoundError,
    UnauthenticatedError,
    ValidationError,
)
from fbs_debitor.core.ids import mask_cprs_in_text

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://fbs-debitor.dk/problems/"
MEDIA_TYPE = "application/problem+json"


def status_for(error: DomainError) -> int:
    match error:
        case NotFoundError():
            return 404
        case ConflictError():
            return 409
        case ForbiddenError():
            return 403
        case UnauthenticatedError():
            return 401
        case ValidationError():
            return 422
        case _:
            return 400


def problem(status: int, title: str, detail: str, *, code: str, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": mask_cprs_in_text(detail),
    }
    body.update({k: mask_cprs_in_text(v) if isinstance(v, str) else v for k, v in extra.items()})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        status = status_for(exc)
        response = problem(
            status,
            exc.code.replace("-", " ").capitalize(),
            exc.detail,
            code=exc.code,
            **{k: v for k, v in exc.extra.items() if isinstance(v, str | int | bool | list)},
        )
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="fbs-debitor"'
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": [mask_cprs_in_text(str(p)) for p in e.get("loc", ())],
                "msg": mask_cprs_in_text(str(e.get("msg", ""))),
            }
            for e in exc.errors()
        ]
        detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5])
        return problem(
            422,
            "Invalid request",
            detail or "invalid request",
            code="invalid-request",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(
            exc.status_code,
            str(exc.detail),
            str(exc.detail),
            code=f"http-{exc.status_code}",
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        route = request.scope.get("route")
        log.exception("unhandled error on %s", getattr(route, "path", "an unknown route"))
        return problem(
            500,
            "Internal error",
            "The server failed; the error is logged. Nothing was half-applied.",
            code="internal-error",
        )
