"""Adgangsplatformen (login.bib.dk) token introspection: the real check of a patron token.

The library web sites get the patron's token from Adgangsplatformen (OAuth 2.0) and send it as
``Authorization: Bearer``. We ask Adgangsplatformen about it (RFC 7662 token introspection):
``POST <introspection url>`` with our client id and secret as HTTP basic authentication and the
token in the form body (as ``token``, RFC 7662's name, and ``access_token``, the name
Adgangsplatformen's OAuth server reads), never in the URL, so that no access log holds it.

The answer is RFC 7662's JSON object in Adgangsplatformen's words (decision 0018 cites where they
come from)::

    {"active": true, "clientId": "...", "expires": "2026-03-02T09:15:00.000Z",
     "agency": "710100", "uniqueId": "...", "type": "authorized", "patronId": "42", ...}

* ``active`` must be ``true``;
* the expiry is ``expires`` (ISO 8601, Adgangsplatformen) or ``exp`` (seconds since the epoch,
  RFC 7662); one of them must be there and lie ahead by the injected clock;
* the agency is ``agency`` (6 digits; ``DK-710100`` reads the same);
* the patron is the attribute ``FBS_DEBITOR_PATRON_TOKEN_PATRON_CLAIM`` names (``patronId`` by
  default): their id in this system. An anonymous token (``type: anonymous``) names none.

Refused, never taken as valid: an inactive or expired token, a missing claim, an answer that is
not a JSON object, an ``error`` answer, any HTTP status but 200 (our credentials refused, 5xx), a
timeout and a connection error. A token's answer is reused for ``cache_s`` seconds (never past
its expiry; an inactive one as long), so a page that calls twice asks once; a failure to ask is
never kept.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from fbs_debitor.core.clock import Clock
from fbs_debitor.core.errors import UnauthenticatedError
from fbs_debitor.library.adapters.patron_tokens.verifier import (
    PatronIdentity,
    agency_claim,
    patron_claim,
    refused,
)

log = logging.getLogger(__name__)

ADGANGSPLATFORMEN = "Adgangsplatformen"
CACHE_LIMIT = 10_000
"""Tokens kept at most; beyond it, the expired answers go first, then the oldest."""


def _expiry(answer: dict[str, Any]) -> datetime:
    """``expires`` (ISO 8601) or ``exp`` (epoch seconds) as an aware UTC instant; refused when
    neither reads."""
    expires = answer.get("expires")
    if isinstance(expires, str) and expires.strip():
        try:
            instant = datetime.fromisoformat(expires.strip().replace("Z", "+00:00"))
        except ValueError as error:
            raise refused("the token's expiry does not read") from error
        if instant.tzinfo is None:
            raise refused("the token's expiry has no time zone")
        return instant.astimezone(UTC)
    exp = answer.get("exp")
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        try:
            return datetime.fromtimestamp(exp, UTC)
        except (OverflowError, OSError, ValueError) as error:
            raise refused("the token's expiry does not read") from error
    raise refused("the token has no expiry")


class AdgangsplatformenIntrospection:
    """Patron tokens checked by introspection at Adgangsplatformen (see the module docstring).
    ``client`` carries our credentials and the timeout (``configured.introspection_client``);
    tests give it an ``httpx.MockTransport``. Thread-safe."""

    def __init__(
        self,
        *,
        url: str,
        client: httpx.Client,
        clock: Clock,
        patron_claim: str = "patronId",
        cache_s: float = 60.0,
    ) -> None:
        self.url = url
        self.client = client
        self.clock = clock
        self.patron_claim = patron_claim
        self.cache_s = cache_s
        self._cache: dict[str, tuple[datetime, PatronIdentity | UnauthenticatedError]] = {}
        self._lock = threading.Lock()
        self.calls = 0
        """How many times Adgangsplatformen was asked (for the tests of the cache)."""

    def verify(self, token: str) -> PatronIdentity:
        if not token or len(token) > 4096:
            raise refused("the patron token is not one Adgangsplatformen issued")
        key = hashlib.sha256(token.encode()).hexdigest()
        now = self.clock.now()
        with self._lock:
            kept = self._cache.get(key)
        if kept is not None and kept[0] > now:
            answer = kept[1]
            if isinstance(answer, UnauthenticatedError):
                raise refused(answer.detail, answer.code)
            return answer
        try:
            identity = self._ask(token, now)
        except UnauthenticatedError as error:
            if error.code != "token-check-failed":  # the answer was "no": keep it a while
                self._keep(key, now + timedelta(seconds=self.cache_s), error)
            raise
        until = min(now + timedelta(seconds=self.cache_s), identity.expires_at)
        self._keep(key, until, identity)
        return identity

    def _keep(
        self, key: str, until: datetime, answer: PatronIdentity | UnauthenticatedError
    ) -> None:
        if self.cache_s <= 0:
            return
        with self._lock:
            if len(self._cache) >= CACHE_LIMIT:
                now = self.clock.now()
                for k in [k for k, (u, _) in self._cache.items() if u <= now]:
                    del self._cache[k]
                while len(self._cache) >= CACHE_LIMIT:
                    del self._cache[next(iter(self._cache))]
            self._cache[key] = (until, answer)

    def _answer(self, token: str) -> dict[str, Any]:
        """Adgangsplatformen's answer about ``token``; a failure to get one refuses the token
        with the code ``token-check-failed`` (logged without the token)."""
        self.calls += 1
        try:
            response = self.client.post(
                self.url,
                data={"token": token, "access_token": token},
                headers={"Accept": "application/json"},
            )
        except httpx.TimeoutException as error:
            log.warning("%s introspection timed out", ADGANGSPLATFORMEN)
            raise refused(
                f"{ADGANGSPLATFORMEN} did not answer in time; the token cannot be checked",
                "token-check-failed",
            ) from error
        except httpx.HTTPError as error:
            log.warning("%s introspection unreachable: %s", ADGANGSPLATFORMEN, type(error).__name__)
            raise refused(
                f"{ADGANGSPLATFORMEN} cannot be reached; the token cannot be checked",
                "token-check-failed",
            ) from error
        if response.status_code != 200:
            log.warning(
                "%s introspection answered HTTP %s", ADGANGSPLATFORMEN, response.status_code
            )
            raise refused(
                f"{ADGANGSPLATFORMEN} answered HTTP {response.status_code}; "
                "the token cannot be checked",
                "token-check-failed",
            )
        try:
            body = response.json()
        except ValueError as error:
            raise refused(
                f"{ADGANGSPLATFORMEN}'s answer is not JSON; the token cannot be checked",
                "token-check-failed",
            ) from error
        if not isinstance(body, dict) or "error" in body:
            log.warning("%s introspection answered an error or no object", ADGANGSPLATFORMEN)
            raise refused(
                f"{ADGANGSPLATFORMEN}'s answer does not read; the token cannot be checked",
                "token-check-failed",
            )
        return body

    def _ask(self, token: str, now: datetime) -> PatronIdentity:
        answer = self._answer(token)
        if answer.get("active") is not True:
            raise refused("the patron token is not active (unknown, expired or revoked)")
        expires_at = _expiry(answer)
        if expires_at <= now:
            raise refused("the patron token has expired", code="expired-token")
        if answer.get("type") == "anonymous":
            raise refused("an anonymous token names no patron; the patron must log in")
        return PatronIdentity(
            agency_id=agency_claim(answer.get("agency")),
            patron_id=patron_claim(answer.get(self.patron_claim)),
            expires_at=expires_at,
        )
