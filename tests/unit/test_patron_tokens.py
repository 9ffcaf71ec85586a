"""Patron tokens (decision 0018): one contract suite that both verifiers pass (the development
tokens this instance signs, and Adgangsplatformen's introspection against an emulation of it),
then what each does on its own: forged and altered tokens, production, the introspection's
failures (never taken as valid) and its cache, and the choice by setting."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey
from pydantic import SecretStr

from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.errors import ForbiddenError, UnauthenticatedError, ValidationError
from fbs_debitor.library.adapters.patron_tokens.configured import configured_verifier
from fbs_debitor.library.adapters.patron_tokens.development import (
    AUDIENCE,
    ISSUER,
    DevelopmentPatronTokens,
)
from fbs_debitor.library.adapters.patron_tokens.introspection import (
    AdgangsplatformenIntrospection,
)
from fbs_debitor.library.adapters.patron_tokens.verifier import (
    PatronIdentity,
    PatronTokenVerifier,
    RefuseAll,
)
from fbs_debitor.settings import Settings
from tests.fake_adgangsplatformen import URL, FakeAdgangsplatformen

SECRET = "a-development-secret-of-32-chars!"
AGENCY = "710100"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@dataclass
class Issuer:
    """A verifier under test and the way to get tokens it should accept."""

    verifier: PatronTokenVerifier
    issue: Callable[[str, int, int], str]
    clock: SettableClock


@pytest.fixture(params=["development", "introspection"])
def issuer(request: pytest.FixtureRequest) -> Issuer:
    clock = SettableClock(START)
    if request.param == "development":
        tokens = DevelopmentPatronTokens(SECRET, clock)
        return Issuer(tokens, tokens.issue, clock)
    fake = FakeAdgangsplatformen(clock)
    verifier = AdgangsplatformenIntrospection(url=URL, client=fake.client(), clock=clock)
    return Issuer(verifier, fake.issue, clock)


def refused(verifier: PatronTokenVerifier, token: str) -> UnauthenticatedError:
    with pytest.raises(UnauthenticatedError) as caught:
        verifier.verify(token)
    assert len(token) < 8 or token not in caught.value.detail  # a token is never told back
    return caught.value


# -- the contract ------------------------------------------------------------------------------


def test_a_token_names_its_agency_patron_and_expiry(issuer: Issuer) -> None:
    a = issuer.issue(AGENCY, 41, 15)
    b = issuer.issue(AGENCY, 42, 15)
    expires = START + timedelta(minutes=15)
    assert issuer.verifier.verify(a) == PatronIdentity(AGENCY, 41, expires)
    assert issuer.verifier.verify(b) == PatronIdentity(AGENCY, 42, expires)
    assert issuer.verifier.verify(a).patron_id == 41  # the same token, the same patron again


def test_a_token_is_refused_from_its_expiry_on(issuer: Issuer) -> None:
    token = issuer.issue(AGENCY, 41, 15)
    issuer.clock.advance(timedelta(minutes=14, seconds=59))
    assert issuer.verifier.verify(token).patron_id == 41
    issuer.clock.advance(timedelta(seconds=1))
    refused(issuer.verifier, token)
    issuer.clock.advance(timedelta(days=1))
    refused(issuer.verifier, token)


def test_what_is_no_token_of_it_is_refused(issuer: Issuer) -> None:
    token = issuer.issue(AGENCY, 41, 15)
    for bad in ("", "x", "not-a-token", token + "x", token[:-1], token.upper(), "é" * 50):
        refused(issuer.verifier, bad)
    other = (
        DevelopmentPatronTokens(SECRET[::-1], issuer.clock).issue(AGENCY, 41)
        if isinstance(issuer.verifier, AdgangsplatformenIntrospection)
        else FakeAdgangsplatformen(issuer.clock).issue(AGENCY, 41)
    )
    refused(issuer.verifier, other)  # a token the other kind of issuer made


# -- development tokens ------------------------------------------------------------------------


def _segments(token: str) -> list[str]:
    return token.split(".")


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_development_tokens_refuse_a_forged_signature_and_an_altered_payload() -> None:
    clock = SettableClock(START)
    tokens = DevelopmentPatronTokens(SECRET, clock)
    token = tokens.issue(AGENCY, 41)
    header, payload, signature = _segments(token)
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    # another patron in the payload, the signature left as it was
    refused(tokens, ".".join((header, _b64(claims | {"sub": "42"}), signature)))
    refused(tokens, ".".join((header, _b64(claims | {"exp": claims["exp"] + 3600}), signature)))
    # signed with another key
    forged = DevelopmentPatronTokens("another-secret-of-thirty-two-chars", clock).issue(AGENCY, 42)
    refused(tokens, forged)
    # no signature at all ("alg": "none")
    unsigned = ".".join((_b64({"alg": "none", "typ": "JWT"}), _b64(claims | {"sub": "42"}), ""))
    refused(tokens, unsigned)
    # the right key, but not a patron token of this API
    key = OctKey.import_key(SECRET.encode())
    for wrong in ({"iss": "someone"}, {"aud": "another-api"}, {"sub": "abc"}, {"agency": "7101"}):
        other = jwt.encode({"alg": "HS256"}, claims | wrong, key)
        refused(tokens, other)
    no_expiry = {k: v for k, v in claims.items() if k != "exp"}
    refused(tokens, jwt.encode({"alg": "HS256"}, no_expiry, key))
    assert tokens.verify(token).patron_id == 41  # the untouched token still works
    assert claims["iss"] == ISSUER and claims["aud"] == AUDIENCE and len(claims["jti"]) >= 16


def test_development_tokens_are_neither_made_nor_taken_in_production() -> None:
    clock = SettableClock(START)
    token = DevelopmentPatronTokens(SECRET, clock).issue(AGENCY, 41)
    production = DevelopmentPatronTokens(SECRET, clock, production=True)
    assert refused(production, token).code == "patron-tokens-off"
    with pytest.raises(ForbiddenError):
        production.issue(AGENCY, 41)


def test_development_tokens_need_a_real_secret_and_a_short_life() -> None:
    clock = SettableClock(START)
    with pytest.raises(ValidationError):
        DevelopmentPatronTokens("short", clock)
    tokens = DevelopmentPatronTokens(SECRET, clock, minutes=5)
    assert tokens.verify(tokens.issue(AGENCY, 41)).expires_at == START + timedelta(minutes=5)
    for minutes in (0, 61):
        with pytest.raises(ValidationError):
            tokens.issue(AGENCY, 41, minutes)
    assert tokens.issue(AGENCY, 41) != tokens.issue(AGENCY, 41)  # a random id in each


# -- Adgangsplatformen's introspection ---------------------------------------------------------


@pytest.fixture
def fake() -> FakeAdgangsplatformen:
    return FakeAdgangsplatformen(SettableClock(START))


def introspection(
    fake: FakeAdgangsplatformen, cache_s: float = 60
) -> AdgangsplatformenIntrospection:
    clock = fake.clock
    assert isinstance(clock, SettableClock)
    return AdgangsplatformenIntrospection(
        url=URL, client=fake.client(), clock=clock, cache_s=cache_s
    )


def test_introspection_asks_with_our_credentials_and_the_token_in_the_body(
    fake: FakeAdgangsplatformen,
) -> None:
    token = fake.issue(AGENCY, 41)
    assert introspection(fake).verify(token).patron_id == 41
    (request,) = fake.requests
    assert request.method == "POST" and str(request.url) == URL  # the token is not in the URL
    assert token in request.content.decode()
    assert request.headers["authorization"].startswith("Basic ")


@pytest.mark.parametrize(
    "failure", [500, 502, 503, 401, 404, "timeout", "connect", "not-json", "error", "list"]
)
def test_introspection_that_fails_refuses_the_token_and_is_asked_again(
    fake: FakeAdgangsplatformen, failure: int | str
) -> None:
    verifier = introspection(fake)
    token = fake.issue(AGENCY, 41)
    fake.failure = failure
    assert refused(verifier, token).code == "token-check-failed"
    fake.failure = None  # back up: the failure was not kept, the token is asked about again
    assert verifier.verify(token).patron_id == 41


def test_introspection_refuses_inactive_revoked_anonymous_and_incomplete_answers(
    fake: FakeAdgangsplatformen,
) -> None:
    verifier = introspection(fake, cache_s=0)
    revoked = fake.issue(AGENCY, 41)
    fake.revoke(revoked)
    refused(verifier, revoked)
    refused(verifier, fake.issue(AGENCY, None))  # anonymous: a library site's own token
    token = fake.issue(AGENCY, 41)
    for extra in (
        {"active": "true"},
        {"active": 1},
        {"agency": None},
        {"agency": "71010"},
        {"patronId": None},
        {"patronId": "41a"},
        {"patronId": -41},
        {"patronId": True},
        {"expires": None},
        {"expires": "tomorrow"},
        {"expires": "2026-03-02T09:00:00"},  # no time zone
    ):
        fake.extra = extra
        refused(verifier, token)
    fake.extra = {"agency": "DK-710100", "patronId": 41}
    assert verifier.verify(token) == PatronIdentity(AGENCY, 41, START + timedelta(minutes=15))
    fake.extra = {"expires": None, "exp": int((START + timedelta(minutes=5)).timestamp())}
    assert verifier.verify(token).expires_at == START + timedelta(minutes=5)  # RFC 7662's exp


def test_introspection_refuses_an_expired_token_even_when_told_it_is_active(
    fake: FakeAdgangsplatformen,
) -> None:
    verifier = introspection(fake, cache_s=0)
    token = fake.issue(AGENCY, 41, minutes=1)
    fake.failure = "active-past-expiry"
    assert isinstance(fake.clock, SettableClock)
    fake.clock.advance(timedelta(minutes=2))
    assert refused(verifier, token).code == "expired-token"


def test_introspection_answers_are_kept_a_short_while_never_past_the_expiry(
    fake: FakeAdgangsplatformen,
) -> None:
    clock = fake.clock
    assert isinstance(clock, SettableClock)
    verifier = introspection(fake, cache_s=60)
    token = fake.issue(AGENCY, 41, minutes=15)
    assert verifier.verify(token).patron_id == 41
    assert verifier.verify(token).patron_id == 41
    assert verifier.calls == 1
    clock.advance(timedelta(seconds=61))
    assert verifier.verify(token).patron_id == 41
    assert verifier.calls == 2
    unknown = "no-such-token"
    refused(verifier, unknown)
    refused(verifier, unknown)
    assert verifier.calls == 3  # a "no" is kept too
    short = fake.issue(AGENCY, 42, minutes=1)
    assert verifier.verify(short).patron_id == 42
    clock.advance(timedelta(seconds=60))
    refused(verifier, short)  # the kept answer ended with the token
    assert verifier.calls == 5


class _Slow(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        time.sleep(1.0)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"active": true}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/oauth/introspection"
    server.shutdown()
    server.server_close()


def test_a_slow_adgangsplatformen_over_a_real_socket_refuses_the_token(slow_server: str) -> None:
    settings = Settings(
        patron_token_introspection_url=slow_server,
        patron_token_client_id="id",
        patron_token_client_secret=SecretStr("secret"),
        patron_token_timeout_s=0.2,
    )
    verifier = configured_verifier(settings, SettableClock(START))
    assert isinstance(verifier, AdgangsplatformenIntrospection)
    assert refused(verifier, "some-token").code == "token-check-failed"


# -- the choice by setting ---------------------------------------------------------------------


def test_the_settings_choose_the_verifier() -> None:
    clock = SettableClock(START)
    secret = SecretStr(SECRET)
    assert isinstance(
        configured_verifier(Settings(patron_token_secret=secret), clock), DevelopmentPatronTokens
    )
    introspecting = Settings(env="production", patron_token_introspection_url=URL)
    assert isinstance(configured_verifier(introspecting, clock), AdgangsplatformenIntrospection)
    for off in (
        Settings(),  # development without a secret
        Settings(patron_token_secret=SecretStr("too-short")),
        Settings(env="production", patron_token_secret=secret),
    ):
        verifier = configured_verifier(off, clock)
        assert isinstance(verifier, RefuseAll)
        token = DevelopmentPatronTokens(SECRET, clock).issue(AGENCY, 41)
        assert refused(verifier, token).code == "patron-tokens-off"
