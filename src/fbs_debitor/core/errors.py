"""Typed domain errors.

The tree::

    DomainError                 anything the domain refuses; carries a stable ``code``
    ├── ValidationError         input that is malformed or breaks a rule (HTTP 422)
    │   └── LegalLimitError     a setting beyond what Danish law allows (HTTP 422)
    ├── NotFoundError           the thing asked for does not exist for this municipality (HTTP 404)
    ├── ConflictError           the request clashes with current state (HTTP 409)
    ├── ForbiddenError          the caller may not do this (HTTP 403)
    └── UnauthenticatedError    no credentials, or none we know (HTTP 401 with WWW-Authenticate)

HTTP status codes are assigned only at the edge (``fbs_debitor.web``); the domain never knows them.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error the domain raises on purpose.

    ``code`` is a stable machine-readable slug (used as the problem+json ``type`` suffix);
    ``detail`` is the human-readable sentence; ``extra`` carries structured context.
    """

    code = "domain-error"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.extra: dict[str, Any] = extra


class ValidationError(DomainError):
    code = "validation-error"


class LegalLimitError(ValidationError):
    code = "legal-limit"


class NotFoundError(DomainError):
    code = "not-found"


class ConflictError(DomainError):
    code = "conflict"


class ForbiddenError(DomainError):
    code = "forbidden"


class UnauthenticatedError(DomainError):
    """No credentials were sent, or they are not ours (unknown, expired, revoked): 401. A known
    caller who may not do something gets ``ForbiddenError`` (403)."""

    code = "unauthenticated"
