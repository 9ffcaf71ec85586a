"""Sessions of people, in cookies sealed with the session secret, and their CSRF tokens.

A cookie is sealed with Fernet (AES-128-CBC and HMAC-SHA256, ``cryptography``): signed, so that
nobody can make or change one, and encrypted, because a citizen's session carries the CPR
number (decision 0019). The seal carries its time; a cookie older than its lifetime is not
opened. Two cookies: the session (``fbsd_session``) and the login under way
(``fbsd_login``: state, nonce and PKCE verifier between the redirect to the identity provider
and its answer, ten minutes, sent only to ``/auth/callback``)."""

from __future__ import annotations

import base64
import hmac
import json
import logging
import secrets
from dataclasses import asdict, dataclass
from typing import Any, Literal

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.requests import Request
from starlette.responses import Response

from fbs_debitor.core.errors import ForbiddenError
from fbs_debitor.core.ids import Cpr
from fbs_debitor.settings import Settings
from fbs_debitor.tenants.model import Role
from fbs_debitor.web.deps import Principal

log = logging.getLogger(__name__)

SESSION_COOKIE = "fbsd_session"
LOGIN_COOKIE = "fbsd_login"
LOGIN_PATH = "/auth/callback"
LOGIN_MAX_AGE_S = 600
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
CSRF_FORM_SCOPE_KEY = "fbs_debitor.csrf_form_token"
"""Where :mod:`fbs_debitor.web.auth.csrf` leaves the token of a posted form for the check."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MIN_SECRET_LENGTH = 32


class SessionConfigError(RuntimeError):
    """The settings do not allow sessions (production without a session secret)."""


_process_secret: str | None = None


def _secrets(settings: Settings) -> list[str]:
    configured = settings.session_secret.get_secret_value().split()
    if configured:
        if any(len(s) < MIN_SECRET_LENGTH for s in configured):
            raise SessionConfigError(
                f"FBS_DEBITOR_SESSION_SECRET: each secret needs {MIN_SECRET_LENGTH} characters "
                "or more"
            )
        return configured
    if settings.env == "production":
        raise SessionConfigError(
            "FBS_DEBITOR_SESSION_SECRET is required when FBS_DEBITOR_ENV=production"
        )
    global _process_secret
    if _process_secret is None:
        _process_secret = secrets.token_urlsafe(32)
        log.warning(
            "no FBS_DEBITOR_SESSION_SECRET: sessions are sealed with a secret of this process "
            "and end when it stops (development only)"
        )
    return [_process_secret]


def check_settings(settings: Settings) -> None:
    """Raise SessionConfigError if people could not log in with these settings (``serve``
    calls it at start, so that production without a session secret does not start)."""
    _secrets(settings)


def _fernet(settings: Settings, purpose: bytes) -> MultiFernet:
    keys = []
    for secret in _secrets(settings):
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"fbs-debitor " + purpose
        ).derive(secret.encode())
        keys.append(Fernet(base64.urlsafe_b64encode(derived)))
    return MultiFernet(keys)


def seal(settings: Settings, purpose: bytes, data: dict[str, Any]) -> str:
    return (
        _fernet(settings, purpose)
        .encrypt(json.dumps(data, separators=(",", ":")).encode())
        .decode()
    )


def unseal(settings: Settings, purpose: bytes, token: str, max_age_s: int) -> dict[str, Any] | None:
    """The sealed data, or None if the cookie is forged, changed, sealed by another secret or
    older than ``max_age_s``."""
    try:
        data = json.loads(_fernet(settings, purpose).decrypt(token.encode(), ttl=max_age_s))
    except (InvalidToken, ValueError):
        return None
    return data if isinstance(data, dict) else None


def secure_cookies(settings: Settings) -> bool:
    return settings.public_base_url.lower().startswith("https://")


@dataclass(frozen=True, slots=True)
class PersonSession:
    """A person logged in. ``kind`` staff: ``role`` from the group mapping; citizen: ``cpr``
    (the full number, never shown: ``masked_cpr``). ``csrf``: the token every changing request
    with this session must carry. ``development``: made through the development provider."""

    kind: Literal["staff", "citizen"]
    subject: str
    name: str
    municipality: str
    role: str | None
    cpr: str | None
    csrf: str
    development: bool

    @property
    def masked_cpr(self) -> str | None:
        return None if self.cpr is None else Cpr(self.cpr).masked

    def __repr__(self) -> str:  # never the CPR or the CSRF token in a log line
        return (
            f"PersonSession(kind={self.kind!r}, subject={self.subject!r}, "
            f"municipality={self.municipality!r}, role={self.role!r})"
        )


def new_session(
    *,
    kind: Literal["staff", "citizen"],
    subject: str,
    name: str,
    municipality: str,
    role: Role | None = None,
    cpr: str | None = None,
    development: bool = False,
) -> PersonSession:
    return PersonSession(
        kind=kind,
        subject=subject,
        name=name,
        municipality=municipality,
        role=None if role is None else role.value,
        cpr=cpr,
        csrf=secrets.token_urlsafe(32),
        development=development,
    )


def write_session(response: Response, settings: Settings, session: PersonSession) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        seal(settings, b"session v1", asdict(session)),
        max_age=settings.session_max_age_s,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings),
    )


def clear_session(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(settings)
    )


def read_session(request: Request, settings: Settings) -> PersonSession | None:
    """The session of the request's cookie, or None (none, forged, expired, or made through
    the development provider while the environment is production)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        data = unseal(settings, b"session v1", token, settings.session_max_age_s)
    except SessionConfigError:
        return None
    if data is None:
        return None
    try:
        session = PersonSession(**data)
    except TypeError:
        return None
    if session.development and settings.env == "production":
        return None
    return session


def write_login(response: Response, settings: Settings, pending: dict[str, str]) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        seal(settings, b"login v1", pending),
        max_age=LOGIN_MAX_AGE_S,
        path=LOGIN_PATH,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings),
    )


def read_login(request: Request, settings: Settings) -> dict[str, str] | None:
    token = request.cookies.get(LOGIN_COOKIE)
    if not token:
        return None
    try:
        return unseal(settings, b"login v1", token, LOGIN_MAX_AGE_S)
    except SessionConfigError:
        return None


def clear_login(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        LOGIN_COOKIE,
        path=LOGIN_PATH,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings),
    )


def csrf_ok(request: Request, session: PersonSession) -> bool:
    """Whether the request carries the session's CSRF token: the ``X-CSRF-Token`` header, or
    the ``csrf_token`` field of a posted form (read by the CSRF middleware)."""
    sent = request.headers.get(CSRF_HEADER) or request.scope.get(CSRF_FORM_SCOPE_KEY)
    return isinstance(sent, str) and hmac.compare_digest(sent.encode(), session.csrf.encode())


def session_principal(request: Request, settings: Settings) -> Principal | None:
    """For the API's ``principal`` dependency: the principal of a staff session (actor
    ``person:<subject>``), None without a session. A changing request (POST, PUT, DELETE, ...) without the session's
    CSRF token is refused (403), and so is a citizen's session: citizens have no staff role."""
    session = read_session(request, settings)
    if session is None:
        return None
    if session.kind != "staff" or session.role is None:
        raise ForbiddenError(
            "a citizen's session does not reach the staff and integration routes",
            code="citizen-session",
        )
    if request.method not in SAFE_METHODS and not csrf_ok(request, session):
        raise ForbiddenError(
            f"a request with a session must carry its CSRF token ({CSRF_HEADER} header or the "
            f"{CSRF_FIELD} form field)",
            code="csrf-token-missing",
        )
    return Principal(session.municipality, Role(session.role), f"person:{session.subject}"[:120])
