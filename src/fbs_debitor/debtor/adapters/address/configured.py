"""Which address look-up the system uses, by setting (``FBS_DEBITOR_ADDRESS_LOOKUP``): ``fake``
(the default: invented names and addresses, for the embedded demo and the tests) or
``register`` (the CPR and CVR registers over HTTP). See docs/configuration.md."""

from __future__ import annotations

import logging
from functools import lru_cache

import httpx

from fbs_debitor.core.clock import Clock
from fbs_debitor.debtor.adapters.address.fake import FakeAddressLookup
from fbs_debitor.debtor.adapters.address.lookup import AddressLookup
from fbs_debitor.debtor.adapters.address.registers import RegisterAddressLookup
from fbs_debitor.settings import Settings

log = logging.getLogger(__name__)
_warned = False


@lru_cache(maxsize=4)
def register_client(username: str, password: str, timeout_s: float) -> httpx.Client:
    """One pooled HTTP client per set of credentials, shared by every look-up of the process
    (the delivery job and the staff's PDF route)."""
    auth = httpx.BasicAuth(username, password) if username else None
    return httpx.Client(auth=auth, timeout=httpx.Timeout(timeout_s), follow_redirects=False)


def configured_lookup(settings: Settings, clock: Clock) -> AddressLookup:
    """The address look-up ``settings`` choose."""
    global _warned
    if settings.address_lookup == "register":
        return RegisterAddressLookup(
            cpr_url=settings.address_lookup_cpr_url,
            cvr_url=settings.address_lookup_cvr_url,
            client=register_client(
                settings.address_lookup_username,
                settings.address_lookup_password.get_secret_value(),
                settings.address_lookup_timeout_s,
            ),
            clock=clock,
        )
    if not _warned:
        _warned = True
        log.warning(
            "letters are addressed by the fake register (invented names and addresses); "
            "set FBS_DEBITOR_ADDRESS_LOOKUP=register where letters reach real people"
        )
    return FakeAddressLookup()
