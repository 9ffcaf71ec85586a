"""The whole chain for the collection tests: a municipality set up through tenants, fees created in
the library, debtor invoicing and dunning, letters delivered, the hand-over run, and a PSRM
stand-in whose clock is the test's. Every step goes through the real services and the outbox."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from fbs_debitor.bootstrap import System, build_system
from fbs_debitor.collection.adapters.psrm.standin import PsrmStandIn
from fbs_debitor.collection.adapters.psrm.standin_rules import StandInRules
from fbs_debitor.collection.service.exchange import SyncResult, sync
from fbs_debitor.collection.service.handover import (
    HandoverResult,
    evaluate_claims,
    run_handover,
)
from fbs_debitor.collection.store import claims as collection_store
from fbs_debitor.collection.store.tables import actions, claims
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.db import Database
from fbs_debitor.core.money import Money
from fbs_debitor.debtor import guard
from fbs_debitor.debtor.adapters.address.fake import FakeAddressLookup
from fbs_debitor.debtor.service.dunning import run_dunning
from fbs_debitor.debtor.service.letters import deliver_letters
from fbs_debitor.debtor.service.rules import put_rules
from fbs_debitor.debtor.store.tables import claims as debtor_claims
from fbs_debitor.library.model import NewFee
from fbs_debitor.library.service import accounts
from fbs_debitor.reconcile import reconcile
from fbs_debitor.tenants.service import municipalities as tenants

K = "101"
CPR = "0101801234"
START = date(2026, 3, 2)
"""A Monday. Invoice on the day, due and SRB 14 days later: 16 March 2026 (a bank day)."""
SRB = date(2026, 3, 16)


def chain_system(
    database: Database, clock: SettableClock, rules: StandInRules | None = None
) -> System:
    """The system on ``database`` with a PSRM stand-in on the test's clock."""
    return build_system(db=database, clock=clock, psrm=PsrmStandIn(clock, rules=rules))


class Chain:
    """The test's hands on the whole chain."""

    def __init__(
        self,
        system: System,
        tmp: Any,
        *,
        rules: dict[str, Any] | None = None,
        claim_types: dict[str, str] | None = None,
        cutoff: date = date(2026, 1, 1),
    ) -> None:
        self.system = system
        self.letters = tmp / "letters"
        clock = system.clock
        assert isinstance(clock, SettableClock)
        self.clock = clock
        self.clock.set_date(START)
        types = {"fee": "BIBLIOTEK", "compensation": "BIBERSTAT"} | (claim_types or {})
        with system.db.begin() as conn:
            tenants.create_municipality(
                conn,
                self.clock,
                kommunekode=K,
                name="København",
                agency_id="710100",
                creditor_number="89123456",
                cutoff_date=cutoff,
            )
            for kind, psrm_type in types.items():
                tenants.map_claim_kind(
                    conn,
                    self.clock,
                    K,
                    kind,
                    debtor_classification=f"BIB-{kind[:8].upper()}",
                    psrm_claim_type=psrm_type,
                )
            put_rules(conn, self.clock, K, rules or {})
        system.drain()

    @property
    def psrm(self) -> PsrmStandIn:
        assert isinstance(self.system.psrm, PsrmStandIn)
        return self.system.psrm

    # -- the library -----------------------------------------------------------------------

    def patron(self, cpr: str = CPR, *, guardian: str | None = None) -> int:
        with self.system.db.begin() as conn:
            return accounts.create_patron(conn, self.clock, K, cpr=cpr, guardian_cpr=guardian).id

    def fee(
        self,
        patron: int,
        amount_ore: int = 12500,
        *,
        kind: str = "fee",
        acknowledged: bool = False,
        due_date: date | None = None,
        created_on: date | None = None,
    ) -> str:
        """A fee created in the library today; returns its claim id (sent and invoiced)."""
        with self.system.db.begin() as conn:
            fee = accounts.create_fee(
                conn,
                self.clock,
                K,
                NewFee(
                    patron_id=patron,
                    kind=kind,
                    amount=Money(amount_ore),
                    acknowledged=acknowledged,
                    due_date=due_date,
                    creation_date=created_on,
                ),
            )
        self.system.drain()
        return fee.claim_id

    def library_open(self, claim_id: str) -> int:
        with self.system.db.connect() as conn:
            return accounts.get_fee(conn, K, int(claim_id)).open.ore

    # -- debtor ----------------------------------------------------------------------------

    def day(self, on: date, *, letters: bool = True) -> None:
        """``on``: the dunning run, then (unless told not to) the letters go out."""
        self.clock.set_date(on, hour=9)
        with self.system.db.begin() as conn:
            run_dunning(conn, self.clock, on, K)
        self.system.drain()
        if letters:
            self.deliver()

    def deliver(self) -> int:
        return deliver_letters(self.system.db, self.clock, self.letters, lookup=FakeAddressLookup())

    def status(self, claim_id: str) -> str:
        with self.system.db.connect() as conn:
            return str(
                conn.execute(
                    select(debtor_claims.c.status).where(
                        debtor_claims.c.municipality == K, debtor_claims.c.claim_id == claim_id
                    )
                ).scalar_one()
            )

    # -- collection ------------------------------------------------------------------------

    def handover(self, on: date) -> HandoverResult:
        """The hand-over run of ``on`` (clock moved there), delivered to PSRM and debtor."""
        self.clock.set_date(on, hour=12)
        wiring = self.system.collection
        assert wiring is not None
        with self.system.db.begin() as conn:
            result = run_handover(conn, self.clock, on, K, wiring.facts)
        self.system.drain()
        return result

    def reasons(self, on: date) -> dict[str, int]:
        wiring = self.system.collection
        assert wiring is not None
        with self.system.db.connect() as conn:
            return dict(evaluate_claims(conn, K, on, wiring.facts).not_eligible)

    def first_hand_over(self, claim_id: str, days: list[date]) -> date | None:
        """Run the hand-over on each day in turn; the day the claim went over (None: never)."""
        for on in days:
            if claim_id in self.handover(on).claim_ids:
                return on
        return None

    def sync(self) -> SyncResult:
        result = sync(self.system.db, self.clock, self.psrm, K)
        self.system.drain()
        return result

    def held(self, claim_id: str) -> collection_store.HeldClaim:
        with self.system.db.connect() as conn:
            found = collection_store.held_claim(conn, K, claim_id)
        assert found is not None
        return found

    def actions(self, claim_id: str) -> list[tuple[str, str | None, int, str]]:
        """(aktion, årsagskode, signed amount, status) of the claim's actions, oldest first."""
        with self.system.db.connect() as conn:
            return [
                (r.aktion, r.aarsagskode, int(r.amount_ore), r.status)
                for r in conn.execute(
                    select(actions)
                    .where(actions.c.municipality == K, actions.c.claim_id == claim_id)
                    .order_by(actions.c.id)
                )
            ]

    def collection_rows(self) -> int:
        with self.system.db.connect() as conn:
            return len(list(conn.execute(select(claims.c.id))))

    def agreed(self) -> None:
        """Library, debtor and collection agree to the øre; the ledger guard finds nothing."""
        self.system.drain()
        with self.system.db.connect() as conn:
            result = reconcile(conn, K)
            assert result.reconciled, result
            assert guard.check_ledger(conn) == []


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
