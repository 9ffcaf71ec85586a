"""Every contract group we publish, for the docs and the XSD files in ``docs/contracts/``."""

from __future__ import annotations

from fbs_debitor.contracts import collection, coverage, payment, registration, tenants
from fbs_debitor.contracts.base import Contract

GROUPS: dict[str, tuple[type[Contract], ...]] = {
    "registration": registration.REGISTRATION_MESSAGES + registration.ANSWERS,
    "tenants": (tenants.MunicipalityConfigured, tenants.SortimentMapped),
    "coverage": coverage.COVERAGE_MESSAGES,
    "payment": payment.PAYMENT_MESSAGES,
    "collection": collection.COLLECTION_MESSAGES,
}
