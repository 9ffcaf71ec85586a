"""The demo municipality most integration tests start from: København (101), its library
agency 710100, creditor number 89123456, cutoff 1 January 2026, fees and replacement charges
mapped; the library and debtor have their copies of the set-up when it returns."""

from __future__ import annotations

from datetime import date

from fbs_debitor.bootstrap import System
from fbs_debitor.tenants.service import municipalities as tenants

K = "101"


def set_up_kobenhavn(
    system: System, classifications: tuple[str, str] = ("X", "X"), psrm_claim_type: str = "Y"
) -> None:
    """``classifications``: the debtor classification of fees and of replacement charges."""
    with system.db.begin() as conn:
        tenants.create_municipality(
            conn,
            system.clock,
            kommunekode=K,
            name="København",
            agency_id="710100",
            creditor_number="89123456",
            cutoff_date=date(2026, 1, 1),
        )
        for kind, classification in zip(("fee", "compensation"), classifications, strict=True):
            tenants.map_claim_kind(
                conn,
                system.clock,
                K,
                kind,
                debtor_classification=classification,
                psrm_claim_type=psrm_claim_type,
            )
    system.drain()
