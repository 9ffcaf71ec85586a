"""A patron's own access to the FBS fee API: which patron a valid token stands for, and that it
touches nothing but that patron's fees.

The token itself is checked by a :class:`~fbs_debitor.library.adapters.patron_tokens.verifier.
PatronTokenVerifier` (401 when it is not valid). Here a valid token's identity meets the
library's data: its agency must be the library of a municipality we serve and its patron one of
that municipality's patrons, and a payment may name only fees of that patron; otherwise
ForbiddenError (403), and nothing is read or paid. Whether a fee id exists elsewhere is never
told (another patron's fee and no fee at all are refused alike).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from fbs_debitor.core.clock import Clock
from fbs_debitor.core.errors import ForbiddenError, NotFoundError
from fbs_debitor.library.adapters.patron_tokens.configured import development_tokens
from fbs_debitor.library.adapters.patron_tokens.verifier import PatronIdentity
from fbs_debitor.library.store import records, setup_copy
from fbs_debitor.settings import Settings


@dataclass(frozen=True, slots=True)
class TokenPatron:
    """The patron a valid token stands for, in this system's terms."""

    municipality: str
    agency_id: str
    patron_id: int


def patron_of(conn: Connection, identity: PatronIdentity) -> TokenPatron:
    """The municipality and patron of a valid token; ForbiddenError when its agency is no
    library we serve or its patron none of that library's."""
    found = setup_copy.find_by_agency(conn, identity.agency_id)
    if found is None:
        raise ForbiddenError(
            f"library agency {identity.agency_id} of the token is not served here",
            code="unknown-agency",
        )
    if not records.patrons_by_id(conn, found.municipality, [identity.patron_id]):
        raise ForbiddenError(
            f"the token's patron is not a patron of library agency {identity.agency_id}",
            code="unknown-patron",
        )
    return TokenPatron(found.municipality, identity.agency_id, identity.patron_id)


def check_own_fees(conn: Connection, who: TokenPatron, fee_ids: Sequence[int]) -> None:
    """ForbiddenError unless every fee id is one of the patron's own fees."""
    own = {f.id for f in records.fees_of_patron(conn, who.municipality, who.patron_id)}
    foreign = [i for i in dict.fromkeys(fee_ids) if i not in own]
    if foreign:
        raise ForbiddenError(
            f"fee {', '.join(map(str, foreign))} is not a fee of the token's patron",
            code="not-the-patrons-fee",
            fee_ids=foreign,
        )


def issue_development_token(
    conn: Connection,
    settings: Settings,
    clock: Clock,
    municipality: str,
    patron_id: int,
    minutes: int | None = None,
) -> str:
    """A development patron token for ``patron_id`` of ``municipality``'s library (what
    ``fbs-debitor patron token`` prints): ForbiddenError in production, NotFoundError for an
    unknown municipality or patron, ValidationError without a usable secret or lifetime."""
    if settings.env == "production":
        raise ForbiddenError(
            "development patron tokens are not made in production (FBS_DEBITOR_ENV=production); "
            "patrons log in at Adgangsplatformen",
            code="production",
        )
    found = setup_copy.find_municipality(conn, municipality)
    if found is None:
        raise NotFoundError(
            f"the library does not know municipality {municipality}",
            code="unknown-municipality",
        )
    if not records.patrons_by_id(conn, municipality, [patron_id]):
        raise NotFoundError(f"no patron {patron_id} in {municipality}", code="unknown-patron")
    return development_tokens(settings, clock).issue(found.agency_id, patron_id, minutes)
