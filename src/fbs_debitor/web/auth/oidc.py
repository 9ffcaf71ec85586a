"""The OpenID Connect relying party: discovery, the authorization request (code flow, PKCE
S256, state, nonce), the code exchange, and the ID token's validation (signature against the
provider's published keys, issuer, audience, expiry, nonce, ``at_hash``: Authlib's
``CodeIDToken`` over joserfc).

Nothing of a token is logged: refusals name the check that failed, never a claim's value."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)
from joserfc.jwk import KeySet

log = logging.getLogger(__name__)

METADATA_TTL_S = 3600.0
CLOCK_LEEWAY_S = 60


@dataclass(frozen=True, slots=True)
class Provider:
    """One identity provider as this service's client of it."""

    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    development: bool = False


class LoginRefused(Exception):
    """A login that may not go on: ``status`` for the page, ``code`` for logs and tests,
    ``message`` (Danish) for the person."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message


class OidcClient:
    """A relying party for any number of providers; their metadata and keys are cached (an
    hour; the keys are fetched again when a token names a key not yet seen: key rotation)."""

    def __init__(self, *, timeout_s: float = 10.0, transport: httpx.BaseTransport | None = None):
        self._http = httpx.Client(timeout=timeout_s, transport=transport, follow_redirects=False)
        self._lock = threading.Lock()
        self._metadata: dict[str, tuple[float, dict[str, Any]]] = {}
        self._keys: dict[str, KeySet] = {}

    def close(self) -> None:
        self._http.close()

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("identity provider unreachable or answered badly: %s (%s)", url, exc)
            raise LoginRefused(
                502, "idp-unreachable", "Identitetsudbyderen svarer ikke. Prøv igen om lidt."
            ) from exc
        if not isinstance(data, dict):
            raise LoginRefused(502, "idp-bad-answer", "Identitetsudbyderen svarede forkert.")
        return data

    def metadata(self, issuer: str) -> dict[str, Any]:
        """The provider's discovery document; its ``issuer`` must be the one configured."""
        with self._lock:
            cached = self._metadata.get(issuer)
        if cached and time.monotonic() - cached[0] < METADATA_TTL_S:
            return cached[1]
        data = self._get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        if data.get("issuer") != issuer:
            log.warning("identity provider metadata names another issuer than %s", issuer)
            raise LoginRefused(
                502, "wrong-issuer", "Identitetsudbyderen er ikke den, der er sat op."
            )
        for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(data.get(field), str):
                raise LoginRefused(502, "idp-bad-answer", "Identitetsudbyderen svarede forkert.")
        with self._lock:
            self._metadata[issuer] = (time.monotonic(), data)
        return data

    def remember_metadata(self, issuer: str, data: dict[str, Any]) -> None:
        """Use ``data`` as the provider's metadata (tests that bend one endpoint)."""
        with self._lock:
            self._metadata[issuer] = (time.monotonic(), data)

    def _key_set(self, issuer: str, *, fresh: bool = False) -> KeySet:
        with self._lock:
            keys = None if fresh else self._keys.get(issuer)
        if keys is None:
            keys = KeySet.import_key_set(self._get_json(self.metadata(issuer)["jwks_uri"]))  # type: ignore[arg-type]
            with self._lock:
                self._keys[issuer] = keys
        return keys

    def authorization_url(
        self,
        provider: Provider,
        *,
        redirect_uri: str,
        state: str,
        nonce: str,
        code_verifier: str,
        **extra: str,
    ) -> str:
        endpoint = self.metadata(provider.issuer)["authorization_endpoint"]
        url: str = prepare_grant_uri(
            endpoint,
            client_id=provider.client_id,
            response_type="code",
            redirect_uri=redirect_uri,
            scope=provider.scopes,
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(code_verifier),
            code_challenge_method="S256",
            **extra,
        )
        return url

    def exchange(
        self,
        provider: Provider,
        *,
        code: str,
        redirect_uri: str,
        code_verifier: str,
        nonce: str,
    ) -> dict[str, Any]:
        """Trade the code for tokens and return the validated ID token's claims."""
        metadata = self.metadata(provider.issuer)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        auth: httpx.Auth | httpx.BasicAuth | None = None
        if "client_secret_basic" in methods:  # RFC 6749 § 2.3.1: form-encoded, then Basic
            auth = httpx.BasicAuth(
                quote(provider.client_id, safe=""), quote(provider.client_secret, safe="")
            )
        else:
            form |= {"client_id": provider.client_id, "client_secret": provider.client_secret}
        try:
            response = self._http.post(
                metadata["token_endpoint"], data=form, auth=auth or httpx.USE_CLIENT_DEFAULT
            )
        except httpx.HTTPError as exc:
            log.warning("token endpoint of %s unreachable (%s)", provider.issuer, exc)
            raise LoginRefused(
                502, "idp-unreachable", "Identitetsudbyderen svarer ikke. Prøv igen om lidt."
            ) from exc
        if response.status_code != 200:
            log.warning(
                "token endpoint of %s refused the code: HTTP %s",
                provider.issuer,
                response.status_code,
            )
            raise LoginRefused(
                400, "code-refused", "Identitetsudbyderen godkendte ikke login. Start forfra."
            )
        try:
            tokens = response.json()
        except ValueError as exc:
            raise LoginRefused(
                502, "idp-bad-answer", "Identitetsudbyderen svarede forkert."
            ) from exc
        id_token = tokens.get("id_token") if isinstance(tokens, dict) else None
        if not isinstance(id_token, str):
            raise LoginRefused(502, "no-id-token", "Identitetsudbyderen sendte ingen ID-token.")
        return self.validate_id_token(
            provider, id_token, nonce=nonce, access_token=tokens.get("access_token")
        )

    def validate_id_token(
        self, provider: Provider, id_token: str, *, nonce: str, access_token: object = None
    ) -> dict[str, Any]:
        metadata = self.metadata(provider.issuer)
        algorithms = [
            a
            for a in metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
            if isinstance(a, str) and a.lower() != "none"
        ]
        try:
            try:
                token = jwt.decode(id_token, self._key_set(provider.issuer), algorithms=algorithms)
            except InvalidKeyIdError:  # a key the provider has rotated in since we looked
                token = jwt.decode(
                    id_token, self._key_set(provider.issuer, fresh=True), algorithms=algorithms
                )
            claims = CodeIDToken(
                token.claims,
                token.header,
                {
                    "iss": {"essential": True, "value": provider.issuer},
                    "aud": {"essential": True, "value": provider.client_id},
                },
                {
                    "nonce": nonce,
                    "client_id": provider.client_id,
                    **({"access_token": access_token} if isinstance(access_token, str) else {}),
                },
            )
            claims.validate(leeway=CLOCK_LEEWAY_S)
        except ExpiredTokenError as exc:
            raise _refused("expired", "ID-token er udløbet") from exc
        except ClaimError as exc:
            raise _refused(
                {"iss": "wrong-issuer", "aud": "wrong-audience", "nonce": "nonce-mismatch"}.get(
                    exc.claim, f"bad-claim-{exc.claim}"
                ),
                "ID-token holder ikke",
            ) from exc
        except BadSignatureError as exc:
            raise _refused("bad-signature", "ID-token er ikke underskrevet af udbyderen") from exc
        except (JoseError, ValueError) as exc:
            raise _refused("bad-id-token", "ID-token kan ikke læses") from exc
        return dict(claims)


def _refused(code: str, what: str) -> LoginRefused:
    log.warning("ID token refused: %s", code)
    return LoginRefused(400, code, f"Login blev afvist: {what}. Start forfra.")
