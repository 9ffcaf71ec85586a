"""Afstemning between the library, debtor and collection, to the øre:

* every claim the library has sent to debtor stands at the same amount on both sides (the
  library's open amount against debtor's principal);
* every claim PSRM holds stands in collection's books (what was handed over, written up and
  down, less what PSRM settled and wrote off) at debtor's balance of it (principal, fees and
  interest: PSRM collects all three);
* what PSRM settled, claim by claim, reached debtor as payments of channel ``psrm``: each
  settlement's money covered its claim, or (a claim recalled or closed in between) became the
  debtor's credit; never lost.

An edge module (like bootstrap): it reads each context through its own services.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from fbs_debitor.collection.model.actions import WITH_PSRM
from fbs_debitor.collection.store import claims as collection
from fbs_debitor.contracts.collection import PSRM_CHANNEL
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
class CollectionDifference:
    """A claim PSRM holds whose amount collection and debtor disagree on."""

    claim_id: str
    state: str
    collection_ore: int
    """What PSRM holds by collection's books."""
    debtor_ore: int | None
    """Debtor's balance (principal, fees, interest); None: debtor has no such claim."""


@dataclass(frozen=True, slots=True)
class Reconciliation:
    municipality: str
    claims: int
    library_open_ore: int
    debtor_open_ore: int
    differences: list[Difference] = field(default_factory=list)
    claims_with_psrm: int = 0
    """Claims PSRM holds (submitted, done, in hearing)."""
    psrm_held_ore: int = 0
    """What PSRM holds of them by collection's books."""
    psrm_settled_ore: int = 0
    """Everything PSRM settled (collection's notifications)."""
    psrm_paid_in_ore: int = 0
    """Everything debtor received on channel ``psrm``."""
    collection_differences: list[CollectionDifference] = field(default_factory=list)

    @property
    def reconciled(self) -> bool:
        return (
            not self.differences
            and self.library_open_ore == self.debtor_open_ore
            and not self.collection_differences
            and self.psrm_settled_ore == self.psrm_paid_in_ore
        )

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
    held = collection.psrm_balances(conn, municipality)
    debtor_side = views.collection_balances(conn, municipality)
    with_psrm = {c: v for c, v in held.items() if v[0] in {s.value for s in WITH_PSRM}}
    collection_differences = [
        CollectionDifference(claim_id, state, holds, _balance(debtor_side.get(claim_id)))
        for claim_id, (state, holds, _) in sorted(with_psrm.items(), key=lambda kv: kv[0])
        if _balance(debtor_side.get(claim_id)) != holds
    ]
    return Reconciliation(
        municipality=municipality,
        claims=len(lib),
        library_open_ore=sum(lib.values()),
        debtor_open_ore=sum(deb.values()),
        differences=differences,
        claims_with_psrm=len(with_psrm),
        psrm_held_ore=sum(v[1] for v in with_psrm.values()),
        psrm_settled_ore=collection.settled_total(conn, municipality),
        psrm_paid_in_ore=views.channel_paid_in(conn, municipality, PSRM_CHANNEL),
        collection_differences=collection_differences,
    )


def _balance(pair: tuple[int, int] | None) -> int | None:
    return None if pair is None else pair[0]
