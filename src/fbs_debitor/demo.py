"""The demo municipality that ``serve --demo`` starts with."""

from __future__ import annotations

from datetime import date

from fbs_debitor.bootstrap import System
from fbs_debitor.tenants import service as tenants
from fbs_debitor.tenants.model import DebtorVendor, Role

DEMO_KOMMUNEKODE = "101"
DEMO_AGENCY = "710100"
DEMO_CREDITOR = "89123456"


def demo_key(role: Role) -> str:
    """Well-known keys of the demo municipality (never use these outside a demo)."""
    return f"demo-{DEMO_KOMMUNEKODE}-{role.value}"


def seed_demo(system: System) -> str:
    """Create the demo municipality and its API keys if they are missing; idempotent."""
    with system.db.begin() as conn:
        if tenants.find_municipality(conn, DEMO_KOMMUNEKODE) is None:
            cutoff = system.clock.today().replace(month=1, day=1)
            tenants.create_municipality(
                conn,
                system.clock,
                kommunekode=DEMO_KOMMUNEKODE,
                name="København (demo)",
                agency_id=DEMO_AGENCY,
                creditor_number=DEMO_CREDITOR,
                debtor_vendor=DebtorVendor.BUILT_IN,
                cutoff_date=cutoff if cutoff <= system.clock.today() else date(2026, 1, 1),
            )
            for role in Role:
                tenants.create_api_key(
                    conn, system.clock, DEMO_KOMMUNEKODE, role, f"demo {role.value}", demo_key(role)
                )
    return (
        f"kommune {DEMO_KOMMUNEKODE}, agency {DEMO_AGENCY}; "
        f"API keys demo-{DEMO_KOMMUNEKODE}-<role> for roles {', '.join(r.value for r in Role)}"
    )
