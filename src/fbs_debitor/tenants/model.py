"""Municipalities and their set-up (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from fbs_debitor.core.errors import ValidationError


class DebtorVendor(StrEnum):
    """The debtor systems in use (DOMAIN.md); the last two have no payment solution of their own."""

    KMD_OPUS = "kmd-opus"
    PRISME_2015 = "prisme-2015"
    PRISME_2009 = "prisme-2009"
    EG_OS_INDSIGT = "eg-os-indsigt"
    BUILT_IN = "built-in"

    @property
    def has_payment_portal(self) -> bool:
        return self in (DebtorVendor.KMD_OPUS, DebtorVendor.PRISME_2015, DebtorVendor.BUILT_IN)


class Role(StrEnum):
    """What an API key may do; every key belongs to one municipality and one role."""

    LIBRARY = "library"  # FBS side: patrons, fees, regulation, the FBS fee API
    INTEGRATION = "integration"  # service endpoints called by other systems
    DEBTOR_STAFF = "debtor-staff"  # municipal staff working in the debtor system
    CASH_REGISTER = "cash-register"  # a till at the citizen service desk
    OPS = "ops"  # operators: dashboards, dead letters
    ADMIN = "admin"  # municipal set-up: cutoff, sortiment, rules, keys


@dataclass(frozen=True, slots=True)
class Municipality:
    """kommunekode: 3 digits (101 København). agency_id: the library's 6-digit agency number
    (710100). creditor_number: the FIK creditor number (8 digits, starts with 8). cutoff_date:
    go-live of the integration; fees created before it are *old* (None: not live yet, every fee
    is old)."""

    kommunekode: str
    name: str
    agency_id: str
    creditor_number: str
    debtor_vendor: DebtorVendor
    cutoff_date: date | None


KOMMUNEKODE = re.compile(r"^\d{3}$")
AGENCY_ID = re.compile(r"^\d{6}$")


def check_kommunekode(code: str) -> str:
    if not KOMMUNEKODE.match(code):
        raise ValidationError(
            f"kommunekode must be 3 digits, got {code!r}", code="invalid-kommunekode"
        )
    return code


def check_agency_id(agency_id: str) -> str:
    if not AGENCY_ID.match(agency_id):
        raise ValidationError(
            f"agency id must be 6 digits, got {agency_id!r}", code="invalid-agency-id"
        )
    return agency_id


@dataclass(frozen=True, slots=True)
class StaffIdentityProvider:
    """Where a municipality's staff log in: its own OpenID Connect provider (issuer, the client
    registered there, the ID token claim that lists the person's groups). ``development``
    marks the development identity provider of a demo; production refuses it."""

    municipality: str
    issuer: str
    client_id: str
    client_secret: str
    groups_claim: str
    scopes: str
    development: bool


ROLE_PRECEDENCE: tuple[Role, ...] = (
    Role.ADMIN,
    Role.OPS,
    Role.DEBTOR_STAFF,
    Role.CASH_REGISTER,
    Role.LIBRARY,
    Role.INTEGRATION,
)
"""A person whose groups map to several roles gets the first of them in this order."""
