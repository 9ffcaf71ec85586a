"""Which patron-token verifier the system uses, by setting (see docs/configuration.md):

* ``FBS_DEBITOR_PATRON_TOKEN_INTROSPECTION_URL`` set: Adgangsplatformen's introspection, in
  any environment;
* else, in development with ``FBS_DEBITOR_PATRON_TOKEN_SECRET``: the tokens this instance signs;
* else none: every patron token is refused (401), and the log says why once.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import httpx

from fbs_debitor.core.clock import Clock
from fbs_debitor.core.errors import ValidationError
from fbs_debitor.library.adapters.patron_tokens.development import DevelopmentPatronTokens
from fbs_debitor.library.adapters.patron_tokens.introspection import (
    AdgangsplatformenIntrospection,
)
from fbs_debitor.library.adapters.patron_tokens.verifier import PatronTokenVerifier, RefuseAll
from fbs_debitor.settings import Settings

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def introspection_client(client_id: str, client_secret: str, timeout_s: float) -> httpx.Client:
    """One pooled HTTP client per set of credentials for the whole process."""
    auth = httpx.BasicAuth(client_id, client_secret) if client_id else None
    return httpx.Client(auth=auth, timeout=httpx.Timeout(timeout_s), follow_redirects=False)


def development_tokens(settings: Settings, clock: Clock) -> DevelopmentPatronTokens:
    """The development token maker and checker of ``settings`` (ValidationError without a
    usable secret)."""
    return DevelopmentPatronTokens(
        settings.patron_token_secret.get_secret_value(),
        clock,
        production=settings.env == "production",
        minutes=settings.patron_token_minutes,
    )


def configured_verifier(settings: Settings, clock: Clock) -> PatronTokenVerifier:
    """The patron-token verifier ``settings`` choose (see the module docstring)."""
    if settings.patron_token_introspection_url:
        return AdgangsplatformenIntrospection(
            url=settings.patron_token_introspection_url,
            client=introspection_client(
                settings.patron_token_client_id,
                settings.patron_token_client_secret.get_secret_value(),
                settings.patron_token_timeout_s,
            ),
            clock=clock,
            patron_claim=settings.patron_token_patron_claim,
            cache_s=settings.patron_token_cache_s,
        )
    if settings.env == "production":
        reason = (
            "patron tokens are checked at Adgangsplatformen in production, and "
            "FBS_DEBITOR_PATRON_TOKEN_INTROSPECTION_URL is not set"
        )
    elif not settings.patron_token_secret.get_secret_value():
        reason = (
            "no patron tokens are set up: FBS_DEBITOR_PATRON_TOKEN_SECRET (development) or "
            "FBS_DEBITOR_PATRON_TOKEN_INTROSPECTION_URL"
        )
    else:
        try:
            return development_tokens(settings, clock)
        except ValidationError as error:  # a secret too short to sign with
            reason = error.detail
    log.warning("patron tokens refused: %s", reason)
    return RefuseAll(reason)
