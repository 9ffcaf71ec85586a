"""Afstemning between the library and debtor: every claim the library has handed over must
stand at the same amount on both sides, to the øre.

An edge module (like bootstrap): it reads both contexts through their own services.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from fbs_debitor.debtor import views
from fbs_debitor.library.service import accounts


@dataclass(frozen=True, slots=True)
class Difference:
    claim_id: str
    library_ore: int | None
    """None: the library does not count the claim as handed over."""
    debtor_ore: int | None
    """None: debtor has no such claim."""


@dataclass(frozen=True, slots=True)
class Reconciliation:
    municipality: str
    claims: int
    library_open_ore: int
    debtor_open_ore: int
    differences: list[Difference] = field(default_factory=list)

    @property
    def reconciled(self) -> bool:
        return not self.differences and self.library_open_ore == self.debtor_open_ore

    @property
    def difference_ore(self) -> int:
        return self.library_open_ore - self.debtor_open_ore


def reconcile(conn: Connection, municipality: str) -> Reconciliation:
    """Compare the library's open amount of every handed-over fee with debtor's principal
    balance of the claim (debtor's own reminder fees and interest are not the library's)."""
    lib = accounts.open_claims_by_id(conn, municipality)
    deb = views.principal_balances(conn, municipality)
    differences = [
        Difference(claim_id, lib.get(claim_id), deb.get(claim_id))
        for claim_id in sorted(set(lib) | set(deb), key=lambda c: (len(c), c))
        if lib.get(claim_id) != deb.get(claim_id)
    ]
    return Reconciliation(
        municipality=municipality,
        claims=len(lib),
        library_open_ore=sum(lib.values()),
        debtor_open_ore=sum(deb.values()),
        differences=differences,
    )
