"""The pages of logging in and out: ``/login`` (choose), ``/login/staff/{kommunekode}`` and
``/login/citizen/{kommunekode}`` (to the identity provider), ``/auth/callback`` (its answer),
``/logout``, and what a person sees once in: ``/staff``, ``/portal`` (citizens) and ``/me``.

Redirect URIs come from ``FBS_DEBITOR_PUBLIC_BASE_URL``, never from the request. The CPR a
citizen logs in with goes into the sealed session only: never into a log line or a URL."""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import RedirectResponse, Response

from fbs_debitor.bootstrap import System
from fbs_debitor.core.errors import UnauthenticatedError, ValidationError
from fbs_debitor.core.ids import Cpr
from fbs_debitor.settings import Settings
from fbs_debitor.tenants.model import KOMMUNEKODE, Municipality
from fbs_debitor.tenants.service import municipalities as tenants
from fbs_debitor.tenants.service import people as tenant_people
from fbs_debitor.web.auth import devidp, sessions
from fbs_debitor.web.auth.oidc import LoginRefused, OidcClient, Provider
from fbs_debitor.web.deps import get_system
from fbs_debitor.web.templating import render

log = logging.getLogger(__name__)

router = APIRouter(tags=["login"])

LOA_RANKS = {"low": 1, "substantial": 2, "high": 3}
"""The NSIS levels of assurance in order (``https://data.gov.dk/concept/core/nsis/loa/<Level>``)."""


def loa_rank(value: object) -> int:
    if not isinstance(value, str) or not value:
        return 0
    return LOA_RANKS.get(value.rstrip("/").rsplit("/", 1)[-1].lower(), 0)


def loa_sufficient(value: object, required: str) -> bool:
    if loa_rank(required) == 0:  # a level we do not know: only that very value
        return value == required
    return loa_rank(value) >= loa_rank(required)


def oidc_client(request: Request) -> OidcClient:
    client: OidcClient = request.app.state.oidc
    return client


def redirect_uri(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/") + sessions.LOGIN_PATH


def refused_page(request: Request, refusal: LoginRefused) -> Response:
    response = render(
        request,
        "refused.html",
        {"person": None, "message": refusal.message},
        status_code=refusal.status,
    )
    sessions.clear_login(response, get_system(request).settings)
    return response


def _municipality(system: System, kommunekode: str) -> Municipality:
    if not KOMMUNEKODE.match(kommunekode):
        raise LoginRefused(404, "unknown-municipality", "Kommunen findes ikke.")
    with system.db.connect() as conn:
        found = tenants.find_municipality(conn, kommunekode)
    if found is None:
        raise LoginRefused(404, "unknown-municipality", "Kommunen findes ikke.")
    return found


def staff_provider(system: System, kommunekode: str) -> Provider:
    with system.db.connect() as conn:
        idp = tenant_people.find_staff_identity_provider(conn, kommunekode)
    if idp is None:
        raise LoginRefused(
            404, "no-staff-idp", "Kommunen har ikke sat login for medarbejdere op endnu."
        )
    return Provider(idp.issuer, idp.client_id, idp.client_secret, idp.scopes, idp.development)


def citizen_provider(settings: Settings) -> Provider:
    if not settings.citizen_issuer:
        raise LoginRefused(404, "no-citizen-idp", "Login for borgere er ikke sat op.")
    issuer = settings.citizen_issuer.rstrip("/")
    return Provider(
        issuer,
        settings.citizen_client_id,
        settings.citizen_client_secret.get_secret_value(),
        settings.citizen_scopes,
        devidp.is_development_issuer(issuer),
    )


def refuse_in_production(settings: Settings, provider: Provider) -> None:
    """Production logs people in only through a real provider: never the development one,
    never one over plain http."""
    if settings.env != "production":
        return
    if (
        provider.development
        or devidp.is_development_issuer(provider.issuer)
        or not provider.issuer.startswith("https://")
    ):
        log.warning("login through a development identity provider refused in production")
        raise LoginRefused(
            403,
            "development-idp-refused",
            "Udviklingsudbyderen af login kan ikke bruges i produktion.",
        )


def _start(
    request: Request,
    provider: Provider,
    *,
    kind: Literal["staff", "citizen"],
    kommunekode: str,
    **extra: str,
) -> Response:
    settings = get_system(request).settings
    refuse_in_production(settings, provider)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters (RFC 7636: 43 to 128)
    url = oidc_client(request).authorization_url(
        provider,
        redirect_uri=redirect_uri(settings),
        state=state,
        nonce=nonce,
        code_verifier=verifier,
        **extra,
    )
    response = RedirectResponse(url, status_code=303)
    pending = {
        "kind": kind,
        "municipality": kommunekode,
        "issuer": provider.issuer,
        "state": state,
        "nonce": nonce,
        "verifier": verifier,
    }
    try:
        sessions.write_login(response, settings, pending)
    except sessions.SessionConfigError as exc:
        log.error("login impossible: %s", exc)
        raise LoginRefused(503, "no-session-secret", "Login er ikke sat op på serveren.") from exc
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/login", include_in_schema=False)
def login_page(request: Request, logget_ud: bool = False) -> Response:
    system = get_system(request)
    with system.db.connect() as conn:
        municipalities = tenants.list_municipalities(conn)
        staff = [
            m
            for m in municipalities
            if tenant_people.find_staff_identity_provider(conn, m.kommunekode) is not None
        ]
    citizens = municipalities if system.settings.citizen_issuer else []
    person = sessions.read_session(request, system.settings)
    return render(
        request,
        "login.html",
        {"person": person, "staff": staff, "citizens": citizens, "logged_out": logget_ud},
    )


@router.get("/login/staff/{kommunekode}", include_in_schema=False)
def login_staff(kommunekode: str, request: Request) -> Response:
    system = get_system(request)
    try:
        _municipality(system, kommunekode)
        provider = staff_provider(system, kommunekode)
        return _start(request, provider, kind="staff", kommunekode=kommunekode)
    except LoginRefused as refusal:
        return refused_page(request, refusal)


@router.get("/login/citizen/{kommunekode}", include_in_schema=False)
def login_citizen(kommunekode: str, request: Request) -> Response:
    system = get_system(request)
    try:
        _municipality(system, kommunekode)
        provider = citizen_provider(system.settings)
        return _start(
            request,
            provider,
            kind="citizen",
            kommunekode=kommunekode,
            acr_values=system.settings.citizen_required_loa,
        )
    except LoginRefused as refusal:
        return refused_page(request, refusal)


@router.get("/auth/callback", include_in_schema=False)
def callback(
    request: Request, code: str | None = None, state: str | None = None, error: str | None = None
) -> Response:
    system = get_system(request)
    settings = system.settings
    try:
        pending = sessions.read_login(request, settings)
        if pending is None:
            raise LoginRefused(
                400, "login-expired", "Login-forsøget er udløbet eller ukendt. Start forfra."
            )
        if not state or not hmac.compare_digest(state.encode(), pending["state"].encode()):
            log.warning("login refused: state does not match")
            raise LoginRefused(
                400, "state-mismatch", "Login-svaret hører ikke til dette login. Start forfra."
            )
        if error:
            raise LoginRefused(
                403, "idp-error", "Login blev afbrudt eller afvist hos identitetsudbyderen."
            )
        if not code:
            raise LoginRefused(400, "no-code", "Login-svaret mangler koden. Start forfra.")
        kind = pending["kind"]
        kommunekode = pending["municipality"]
        municipality = _municipality(system, kommunekode)
        provider = (
            staff_provider(system, kommunekode) if kind == "staff" else citizen_provider(settings)
        )
        if provider.issuer != pending["issuer"]:
            raise LoginRefused(
                400, "idp-changed", "Login-opsætningen er ændret undervejs. Start forfra."
            )
        refuse_in_production(settings, provider)
        claims = oidc_client(request).exchange(
            provider,
            code=code,
            redirect_uri=redirect_uri(settings),
            code_verifier=pending["verifier"],
            nonce=pending["nonce"],
        )
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise LoginRefused(400, "no-subject", "ID-token mangler personens id.")
        if kind == "staff":
            person = _staff_session(system, municipality, provider, subject, claims)
            target = "/staff"
        else:
            person = _citizen_session(settings, municipality, provider, subject, claims)
            target = "/portal"
    except LoginRefused as refusal:
        return refused_page(request, refusal)
    response = RedirectResponse(target, status_code=303)
    sessions.clear_login(response, settings)
    sessions.write_session(response, settings, person)
    log.info(
        "person logged in",
        extra={"kind": kind, "subject": subject, "municipality": kommunekode, "role": person.role},
    )
    return response


def _name(claims: dict[str, Any], subject: str) -> str:
    for claim in ("name", "preferred_username", "email"):
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return subject[:200]


def _staff_session(
    system: System,
    municipality: Municipality,
    provider: Provider,
    subject: str,
    claims: dict[str, Any],
) -> sessions.PersonSession:
    with system.db.connect() as conn:
        idp = tenant_people.find_staff_identity_provider(conn, municipality.kommunekode)
        assert idp is not None
        raw = claims.get(idp.groups_claim, [])
        groups = (
            [raw]
            if isinstance(raw, str)
            else [g for g in raw if isinstance(g, str)]
            if isinstance(raw, list)
            else []
        )
        role = tenant_people.role_for_groups(conn, municipality.kommunekode, groups)
    if role is None:
        log.warning(
            "staff login refused: no group gives a role",
            extra={"subject": subject, "municipality": municipality.kommunekode},
        )
        raise LoginRefused(
            403,
            "no-role",
            f"Du er logget ind hos {municipality.name}s login, men ingen af dine grupper giver "
            "adgang til fbs-debitor. Bed en administrator i kommunen om at give din gruppe en "
            "rolle.",
        )
    return sessions.new_session(
        kind="staff",
        subject=subject,
        name=_name(claims, subject),
        municipality=municipality.kommunekode,
        role=role,
        development=provider.development,
    )


def _citizen_session(
    settings: Settings,
    municipality: Municipality,
    provider: Provider,
    subject: str,
    claims: dict[str, Any],
) -> sessions.PersonSession:
    if not loa_sufficient(claims.get(settings.citizen_loa_claim), settings.citizen_required_loa):
        log.warning("citizen login refused: level of assurance too low", extra={"subject": subject})
        raise LoginRefused(
            403,
            "loa-too-low",
            "Dit login er ikke sikkert nok (sikringsniveau). Log ind med MitID på betydeligt "
            "niveau eller højere.",
        )
    raw = claims.get(settings.citizen_cpr_claim)
    try:
        cpr = Cpr.parse(raw) if isinstance(raw, str) else None
    except ValidationError:
        cpr = None
    if cpr is None:
        log.warning("citizen login refused: no CPR in the ID token", extra={"subject": subject})
        raise LoginRefused(
            403, "no-cpr", "Login gav ikke dit CPR-nummer, så vi kan ikke finde dine gebyrer."
        )
    return sessions.new_session(
        kind="citizen",
        subject=subject,
        name=_name(claims, subject) if claims.get("name") else "",
        municipality=municipality.kommunekode,
        cpr=cpr.value,
        development=provider.development,
    )


@router.post("/logout", include_in_schema=False)
def logout(request: Request) -> Response:
    settings = get_system(request).settings
    person = sessions.read_session(request, settings)
    if person is not None and not sessions.csrf_ok(request, person):
        return refused_page(
            request,
            LoginRefused(403, "csrf-token-missing", "Log ud kom ikke fra denne side. Prøv igen."),
        )
    response = RedirectResponse("/login?logget_ud=1", status_code=303)
    sessions.clear_session(response, settings)
    if person is not None:
        log.info("person logged out", extra={"subject": person.subject})
    return response


def _municipality_name(system: System, kommunekode: str) -> str:
    with system.db.connect() as conn:
        found = tenants.find_municipality(conn, kommunekode)
    return found.name if found else kommunekode


@router.get("/staff", include_in_schema=False)
def staff_page(request: Request) -> Response:
    system = get_system(request)
    person = sessions.read_session(request, system.settings)
    if person is None:
        return RedirectResponse("/login", status_code=303)
    if person.kind != "staff":
        return RedirectResponse("/portal", status_code=303)
    return render(
        request,
        "staff.html",
        {
            "person": person,
            "municipality_name": _municipality_name(system, person.municipality),
            "max_age_minutes": system.settings.session_max_age_s // 60,
        },
    )


@router.get("/portal", include_in_schema=False)
def portal_page(request: Request) -> Response:
    system = get_system(request)
    person = sessions.read_session(request, system.settings)
    if person is None:
        return RedirectResponse("/login", status_code=303)
    if person.kind != "citizen":
        return RedirectResponse("/staff", status_code=303)
    return render(
        request,
        "portal.html",
        {
            "person": person,
            "masked_cpr": person.masked_cpr,
            "municipality_name": _municipality_name(system, person.municipality),
        },
    )


@router.get("/me", tags=["login"])
def me(request: Request) -> dict[str, Any]:
    """The person logged in with this session (401 without one); the CPR masked. ``csrf_token``
    is what a changing API call with this session sends as ``X-CSRF-Token``."""
    person = sessions.read_session(request, get_system(request).settings)
    if person is None:
        raise UnauthenticatedError("no session: log in at /login", code="no-session")
    out: dict[str, Any] = {
        "kind": person.kind,
        "subject": person.subject,
        "name": person.name,
        "municipality": person.municipality,
        "csrf_token": person.csrf,
    }
    if person.kind == "staff":
        out["role"] = person.role
    else:
        out["cpr"] = person.masked_cpr
    return out


def install(app: FastAPI) -> None:
    """The login pages, the relying party's client and the CSRF form reader on ``app``."""
    from fbs_debitor.web.auth.csrf import CsrfFormMiddleware

    app.state.oidc = OidcClient()
    app.include_router(router)
    app.add_middleware(CsrfFormMiddleware)
