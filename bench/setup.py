"""A municipality ready for load: set up, sortiment mapped, patrons created."""

from __future__ import annotations

import random
from datetime import date

from fbs_debitor.bootstrap import System
from fbs_debitor.contracts.registration import ClaimKind
from fbs_debitor.library.service import accounts
from fbs_debitor.tenants.service import municipalities as tenants

KOMMUNE = "101"


def random_cpr(rng: random.Random) -> str:
    """A CPR number of an adult (7th digit 0-3: born in the 1900s), so that no claim of the
    benchmarks waits for a guardian."""
    return f"{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{rng.randint(0, 99):02d}{rng.randint(0, 3999):04d}"


def municipality(system: System, *, cutoff: date = date(2026, 1, 1)) -> None:
    with system.db.begin() as conn:
        tenants.create_municipality(
            conn,
            system.clock,
            kommunekode=KOMMUNE,
            name="København",
            agency_id="710100",
            creditor_number="89123456",
            cutoff_date=cutoff,
        )
        for kind in ClaimKind:
            tenants.map_claim_kind(
                conn,
                system.clock,
                KOMMUNE,
                kind.value,
                debtor_classification=f"BIB-{kind.value[:8].upper()}",
                psrm_claim_type="BIBLIO",
            )
    system.drain()


def patrons(system: System, n: int, seed: int = 1) -> list[int]:
    rng = random.Random(seed)
    ids = []
    with system.db.begin() as conn:
        for _ in range(n):
            ids.append(accounts.create_patron(conn, system.clock, KOMMUNE, cpr=random_cpr(rng)).id)
    return ids
