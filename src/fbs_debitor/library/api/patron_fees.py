"""The FBS fee API as the library web sites (dpl-react) and other public clients call it: with
the words ``agencyid`` and ``patronid`` literally in the path and a patron's bearer token, which
names the agency and the patron (the FBS adapter's form, see decision 0018)::

    GET  /external/agencyid/patron/patronid/fees/v2?includepaid=&includenonpayable=
    POST /external/agencyid/patron/patronid/payment/v2   {"orderId": "...", "feeIds": [...]}

They answer exactly as the routes with the agency and patron in the path
(:mod:`fbs_debitor.library.api.fbs`, for API keys): ``FeeV2[]`` and ``PaymentConfirmation[]``.

Authentication is the patron's token (``Authorization: Bearer``), checked by the configured
:class:`~fbs_debitor.library.adapters.patron_tokens.verifier.PatronTokenVerifier`
(Adgangsplatformen's introspection in production; tokens this instance signs in development):
a missing, expired, forged or unverifiable token is 401 with ``WWW-Authenticate: Bearer``. A
valid token whose agency is no library we serve, whose patron is not that library's, or a payment
naming a fee that is not the patron's is 403, and nothing is read or paid. An API key is no
patron token (401 here; it belongs on the routes with the ids in the path).

These routes are mounted without the API-key dependency and before the routes with ``{agencyid}``
in the path (``web/app.py``), which would otherwise take ``agencyid`` for an agency number.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from fbs_debitor.core.errors import UnauthenticatedError
from fbs_debitor.core.http import request_system
from fbs_debitor.library.adapters.patron_tokens.configured import configured_verifier
from fbs_debitor.library.adapters.patron_tokens.verifier import PatronTokenVerifier
from fbs_debitor.library.api.fbs import (
    FeeV2,
    PaymentConfirmationV2,
    PaymentOrderV2,
    confirmations_v2,
    fees_v2_response,
)
from fbs_debitor.library.service import patron_access, payment
from fbs_debitor.library.service.patron_access import TokenPatron

router = APIRouter(prefix="/external/agencyid/patron/patronid", tags=["fbs"])

patron_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="patronToken",
    description="A patron's token from Adgangsplatformen (development: `fbs-debitor patron token`)",
)


def patron_tokens(request: Request) -> PatronTokenVerifier:
    """The app's patron-token verifier: made from the settings on first use and kept on the app
    (so that introspection answers are reused); a test may put its own there first."""
    verifier: PatronTokenVerifier | None = getattr(request.app.state, "patron_tokens", None)
    if verifier is None:
        system = request_system(request)
        verifier = configured_verifier(system.settings, system.clock)
        request.app.state.patron_tokens = verifier
    return verifier


def token_patron(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(patron_bearer),  # noqa: B008
) -> TokenPatron:
    """The patron whose valid token the request carries (401 / 403 as the module says)."""
    if credentials is None or not credentials.credentials:
        raise UnauthenticatedError(
            "a patron token is required: Authorization: Bearer <token from Adgangsplatformen>",
            code="missing-token",
        )
    identity = patron_tokens(request).verify(credentials.credentials)
    with request_system(request).db.connect() as conn:
        return patron_access.patron_of(conn, identity)


@router.get(
    "/fees/v2",
    response_model=list[FeeV2],
    response_model_exclude_none=True,
    summary="The token's patron's fees with all available information (FBS getFeesV2)",
)
def get_own_fees_v2(
    request: Request,
    who: TokenPatron = Depends(token_patron),  # noqa: B008
    includepaid: bool = False,
    includenonpayable: bool = False,
) -> Response:
    """FeeV2[] of the patron the token names, filtered as the templated route filters."""
    with request_system(request).db.connect() as conn:
        return fees_v2_response(
            conn, who.municipality, who.patron_id, includepaid, includenonpayable
        )


@router.post(
    "/payment/v2",
    response_model=list[PaymentConfirmationV2],
    response_model_exclude_none=True,
    summary="Register full payment of the token's patron's old fees (FBS payFeesV2)",
)
def post_own_payment_v2(
    order: PaymentOrderV2,
    request: Request,
    who: TokenPatron = Depends(token_patron),  # noqa: B008
) -> list[PaymentConfirmationV2]:
    """One confirmation per fee; idempotent per ``orderId``; 403 if a fee is not the patron's."""
    system = request_system(request)
    with system.db.begin() as conn:
        patron_access.check_own_fees(conn, who, order.fee_ids)
        answers = payment.pay_fees(
            conn, system.clock, who.municipality, who.patron_id, order.order_id, order.fee_ids
        )
    return confirmations_v2(answers)
