"""Municipal set-up, published by the tenants context; the other contexts keep a copy."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from fbs_debitor.contracts.base import Contract


class MunicipalityConfigured(Contract):
    """A municipality was created or its set-up changed (sent whole every time)."""

    MESSAGE_TYPE: ClassVar[str] = "tenants.MunicipalityConfigured.v1"
    name: str
    agency_id: str
    creditor_number: str
    debtor_vendor: str
    cutoff_date: date | None
    """Go-live of the integration: fees created before it are old (None: not live yet)."""


class SortimentMapped(Contract):
    """One library claim kind mapped to the municipality's debtor classification and PSRM type."""

    MESSAGE_TYPE: ClassVar[str] = "tenants.SortimentMapped.v1"
    claim_kind: str
    debtor_classification: str
    psrm_claim_type: str
