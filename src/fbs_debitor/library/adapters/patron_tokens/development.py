"""Patron tokens that this instance signs itself: for development, the demo and the tests.

``fbs-debitor patron token --municipality K --patron P`` prints one. A token is a JWT (RFC 7519)
signed with HMAC-SHA256 (JWS ``HS256``) under ``FBS_DEBITOR_PATRON_TOKEN_SECRET``; its claims::

    {"iss": "fbs-debitor/development", "aud": "fbs-debitor/fbs-fees",
     "agency": "710100", "sub": "42", "iat": 1772438400, "exp": 1772439300,
     "jti": "<random>"}

It lives a short while (``FBS_DEBITOR_PATRON_TOKEN_MINUTES``, 15 by default, at most 60) by the
injected clock. Only ``HS256`` is accepted (no ``none``, no other algorithm), the signature must
match, and the issuer, audience, agency, patron and expiry must all be there and right; anything
else is refused. With ``FBS_DEBITOR_ENV=production`` such a token is refused and none is made:
production checks patron tokens at Adgangsplatformen (``introspection``).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from fbs_debitor.core.clock import Clock
from fbs_debitor.core.errors import ForbiddenError, ValidationError
from fbs_debitor.library.adapters.patron_tokens.verifier import (
    PatronIdentity,
    agency_claim,
    patron_claim,
    refused,
)

ISSUER = "fbs-debitor/development"
AUDIENCE = "fbs-debitor/fbs-fees"
ALGORITHM = "HS256"
MIN_SECRET_LENGTH = 32
MAX_MINUTES = 60


class DevelopmentPatronTokens:
    """Makes and checks development patron tokens (see the module docstring)."""

    def __init__(
        self, secret: str, clock: Clock, *, production: bool = False, minutes: int = 15
    ) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValidationError(
                f"FBS_DEBITOR_PATRON_TOKEN_SECRET needs {MIN_SECRET_LENGTH} characters or more",
                code="weak-token-secret",
            )
        self._key = OctKey.import_key(secret.encode())
        self.clock = clock
        self.production = production
        self.minutes = minutes

    def issue(self, agency_id: str, patron_id: int, minutes: int | None = None) -> str:
        """A token naming ``patron_id`` of ``agency_id``, valid for ``minutes`` from now."""
        if self.production:
            raise ForbiddenError(
                "development patron tokens are not made in production (FBS_DEBITOR_ENV)",
                code="production",
            )
        lifetime = self.minutes if minutes is None else minutes
        if not 1 <= lifetime <= MAX_MINUTES:
            raise ValidationError(
                f"a development patron token lives 1 to {MAX_MINUTES} minutes",
                code="invalid-token-lifetime",
            )
        now = self.clock.now()
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "agency": agency_claim(agency_id),
            "sub": str(patron_claim(patron_id)),
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(minutes=lifetime)).timestamp()),
            "jti": secrets.token_urlsafe(16),
        }
        return jwt.encode({"alg": ALGORITHM, "typ": "JWT"}, claims, self._key, [ALGORITHM])

    def _claims(self, token: str) -> dict[str, Any]:
        try:
            decoded = jwt.decode(token, self._key, [ALGORITHM])
        except (JoseError, ValueError, TypeError, UnicodeError) as error:
            raise refused("the patron token is not one this instance signed") from error
        if decoded.header.get("alg") != ALGORITHM:
            raise refused("the patron token is not one this instance signed")
        return dict(decoded.claims)

    def verify(self, token: str) -> PatronIdentity:
        if self.production:
            raise refused(
                "development patron tokens are refused in production", code="patron-tokens-off"
            )
        claims = self._claims(token)
        if claims.get("iss") != ISSUER or claims.get("aud") != AUDIENCE:
            raise refused("the patron token is not meant for this API")
        exp = claims.get("exp")
        if isinstance(exp, bool) or not isinstance(exp, int):
            raise refused("the patron token has no expiry")
        try:
            expires_at = datetime.fromtimestamp(exp, UTC)
        except (OverflowError, OSError, ValueError) as error:
            raise refused("the patron token has no expiry") from error
        if expires_at <= self.clock.now():
            raise refused("the patron token has expired", code="expired-token")
        return PatronIdentity(
            agency_id=agency_claim(claims.get("agency")),
            patron_id=patron_claim(claims.get("sub")),
            expires_at=expires_at,
        )
