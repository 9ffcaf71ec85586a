"""The patron-token verifier's interface, shared by the development tokens and Adgangsplatformen.

``verify(token)`` answers the :class:`PatronIdentity` a token names, or raises
:class:`~fbs_debitor.core.errors.UnauthenticatedError` (HTTP 401 with ``WWW-Authenticate:
Bearer``): a token that is forged, altered, expired, revoked, of no patron, or that cannot be
checked right now (the introspection endpoint is down or slow) is refused, never taken as valid.
Which patron and agency a request may then touch is the caller's business (a valid token of
patron A never reads B's fees: :mod:`fbs_debitor.library.service.patron_access`).

A token is never logged nor part of an error's detail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from fbs_debitor.core.db import MAX_ROW_ID
from fbs_debitor.core.errors import UnauthenticatedError

AGENCY_ID = re.compile(r"\d{6}")
"""A library agency (biblioteksnummer): 6 digits, e.g. 710100."""


@dataclass(frozen=True, slots=True)
class PatronIdentity:
    """What a valid patron token names: the library agency, the patron (their id in this system)
    and when the token stops being valid (aware UTC)."""

    agency_id: str
    patron_id: int
    expires_at: datetime


class PatronTokenVerifier(Protocol):
    """Checks a patron's bearer token."""

    def verify(self, token: str) -> PatronIdentity:
        """The identity ``token`` names; UnauthenticatedError when it is not a valid token now."""
        ...


def refused(detail: str, code: str = "invalid-token") -> UnauthenticatedError:
    """The error of a refused patron token (401); ``detail`` never holds the token."""
    return UnauthenticatedError(detail, code=code)


def agency_claim(value: object) -> str:
    """A token's agency as 6 digits ("710100"; an ISIL "DK-710100" read the same); refused else."""
    text = value.strip() if isinstance(value, str) else ""
    if text.upper().startswith("DK-"):
        text = text[3:]
    if not AGENCY_ID.fullmatch(text):
        raise refused("the token names no library agency")
    return text


def patron_claim(value: object) -> int:
    """A token's patron: a positive whole number (or its digits); refused else."""
    if isinstance(value, bool):
        raise refused("the token names no patron")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 18:
        number = int(value.strip())
    else:
        raise refused("the token names no patron")
    if number < 1 or number > MAX_ROW_ID:
        raise refused("the token names no patron")
    return number


class RefuseAll:
    """A verifier that refuses every token: patron tokens are not set up here (``reason``)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def verify(self, token: str) -> PatronIdentity:
        raise refused(self.reason, code="patron-tokens-off")
