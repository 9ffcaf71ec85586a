"""The development identity provider: ``oidc-provider-mock`` (an OpenID Connect provider for
tests) in a thread on localhost, with the demo's people, for ``serve --demo`` and the tests.
Production refuses it: it does not start, and a login through it is refused.

The demo's people (pick one on the provider's page, no password):

- ``sara@101`` Sara Sagsbehandler, group ``fbs-debitor-debitor`` (role debtor-staff in 101)
- ``bo@101`` Bo Bibliotekar, ``fbs-debitor-bibliotek`` (library)
- ``kim@101`` Kim Kasse, ``fbs-debitor-kasse`` (cash-register)
- ``dina@101`` Dina Drift, ``fbs-debitor-drift`` (ops)
- ``alma@101`` Alma Admin, ``fbs-debitor-admin`` (admin)
- ``uno@101`` Uno Udenrolle, a group that gives no role (refused)
- ``borger`` Birte Borger, a citizen (CPR 010190-XXXX, level of assurance Substantial)
- ``borger-lav`` Lars Lavniveau, a citizen logged in at level Low (refused)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from fbs_debitor.settings import Settings
from fbs_debitor.tenants.model import Role

log = logging.getLogger(__name__)

LOA = "https://data.gov.dk/concept/core/nsis/loa/"

DEMO_GROUPS: dict[str, Role] = {
    "fbs-debitor-debitor": Role.DEBTOR_STAFF,
    "fbs-debitor-bibliotek": Role.LIBRARY,
    "fbs-debitor-kasse": Role.CASH_REGISTER,
    "fbs-debitor-drift": Role.OPS,
    "fbs-debitor-admin": Role.ADMIN,
}
"""The groups of the development provider and the roles they give in the demo municipality."""

DEMO_STAFF: dict[str, tuple[str, list[str]]] = {
    "sara@101": ("Sara Sagsbehandler", ["fbs-debitor-debitor"]),
    "bo@101": ("Bo Bibliotekar", ["fbs-debitor-bibliotek"]),
    "kim@101": ("Kim Kasse", ["fbs-debitor-kasse"]),
    "dina@101": ("Dina Drift", ["fbs-debitor-drift"]),
    "alma@101": ("Alma Admin", ["fbs-debitor-admin"]),
    "uno@101": ("Uno Udenrolle", ["alle-ansatte"]),
}
DEMO_CITIZEN_CPR = "0101901234"
DEMO_CLIENT_ID = "fbs-debitor-demo"
DEMO_CLIENT_SECRET = "demo-secret-not-for-production"  # noqa: S105 - the mock takes any secret

_development_issuers: set[str] = set()
_running: list[DevelopmentProvider] = []
"""Running providers stay referenced here until stopped: the server's context manager is a
generator that would shut the server down when collected."""
_lock = threading.Lock()


class DevelopmentProviderRefused(RuntimeError):
    """The development identity provider may not run here (production)."""


def is_development_issuer(issuer: str) -> bool:
    with _lock:
        return issuer.rstrip("/") in _development_issuers


def demo_users(settings: Settings) -> list[tuple[str, dict[str, Any]]]:
    """(subject, claims) of the demo's people; the citizens' claim names follow the settings."""
    users: list[tuple[str, dict[str, Any]]] = [
        (sub, {"name": name, "groups": groups}) for sub, (name, groups) in DEMO_STAFF.items()
    ]
    users.append(
        (
            "borger",
            {
                "name": "Birte Borger",
                settings.citizen_cpr_claim: DEMO_CITIZEN_CPR,
                settings.citizen_loa_claim: LOA + "Substantial",
            },
        )
    )
    users.append(
        (
            "borger-lav",
            {
                "name": "Lars Lavniveau",
                settings.citizen_cpr_claim: "0202851234",
                settings.citizen_loa_claim: LOA + "Low",
            },
        )
    )
    return users


class DevelopmentProvider:
    """A running development provider; ``issuer`` is its URL, :meth:`stop` ends it."""

    def __init__(self, issuer: str, stop: Callable[[], object]) -> None:
        self.issuer = issuer
        self._stop = stop

    def stop(self) -> None:
        with _lock:
            _development_issuers.discard(self.issuer)
            if self in _running:
                _running.remove(self)
        self._stop()


def start(settings: Settings, *, port: int | None = None) -> DevelopmentProvider:
    """Start the development identity provider on ``localhost:port`` (default the setting
    ``dev_idp_port``; 0: any free port). Raises DevelopmentProviderRefused in production and
    RuntimeError when ``oidc-provider-mock`` is not installed (the ``demo`` extra)."""
    if settings.env == "production":
        raise DevelopmentProviderRefused(
            "the development identity provider is refused when FBS_DEBITOR_ENV=production"
        )
    try:
        import oidc_provider_mock
    except ImportError as exc:
        raise RuntimeError(
            "the development identity provider needs oidc-provider-mock "
            "(pip install 'fbs-debitor[demo]')"
        ) from exc
    users = [
        oidc_provider_mock.User(sub=sub, claims=claims) for sub, claims in demo_users(settings)
    ]
    server_cm: AbstractContextManager[Any] = oidc_provider_mock.run_server_in_thread(
        port=settings.dev_idp_port if port is None else port,
        require_nonce=True,
        user_claims=users,
    )
    server = server_cm.__enter__()
    issuer = f"http://localhost:{server.server_port}"
    with _lock:
        _development_issuers.add(issuer)
    for name in ("oidc_provider_mock", "werkzeug"):  # its request lines carry codes
        logging.getLogger(name).setLevel(logging.WARNING)
    log.warning("development identity provider running at %s (never in production)", issuer)
    running = DevelopmentProvider(issuer, lambda: server_cm.__exit__(None, None, None))
    with _lock:
        _running.append(running)
    return running
