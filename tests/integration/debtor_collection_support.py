"""Helpers of the debtor-side collection tests: fees made in the library (so the library's open
amounts can be reconciled with debtor), debtor's runs on a moving clock, and the collection
context's messages published to the outbox with source ``collection`` and delivered by the
worker, as the collection context would send them."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from fbs_debitor.bootstrap import System
from fbs_debitor.contracts.collection import (
    PSRM_CHANNEL,
    ClaimHandedOver,
    CollectionFacts,
    CollectionMessage,
    CollectionTerms,
)
from fbs_debitor.contracts.payment import PaymentReceived, PaymentReversed
from fbs_debitor.contracts.registration import DebtorRef
from fbs_debitor.contracts.sending import send
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.money import Money
from fbs_debitor.debtor import guard, views
from fbs_debitor.debtor.adapters.address.fake import FakeAddressLookup
from fbs_debitor.debtor.service.dunning import DunningResult, run_dunning
from fbs_debitor.debtor.service.letters import deliver_letters
from fbs_debitor.debtor.service.rules import put_rules
from fbs_debitor.library.model import Fee, NewFee
from fbs_debitor.library.service import accounts
from fbs_debitor.messaging.store import outbox
from fbs_debitor.reconcile import reconcile
from tests.integration.municipality_support import K

CPR = "0101801234"


class Collection:
    """The test's hands: the library, debtor's runs, payments, and the collection context."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.sequences: dict[str, int] = defaultdict(int)
        self.patrons: dict[str, int] = {}

    @property
    def clock(self) -> SettableClock:
        clock = self.system.clock
        assert isinstance(clock, SettableClock)
        return clock

    def today(self, day: date) -> None:
        self.clock.set_date(day)

    # -- the library ---------------------------------------------------------------------------

    def fee(self, ore: int, kind: str = "fee", cpr: str = CPR) -> str:
        """A new fee made in the library, registered and invoiced in debtor; its claim id."""
        with self.system.db.begin() as conn:
            if cpr not in self.patrons:
                self.patrons[cpr] = accounts.create_patron(conn, self.clock, K, cpr=cpr).id
            fee_id = accounts.create_fee(
                conn,
                self.clock,
                K,
                NewFee(patron_id=self.patrons[cpr], kind=kind, amount=Money(ore)),
            ).id
        self.system.drain()
        return str(fee_id)

    def library_fee(self, claim_id: str) -> Fee:
        with self.system.db.connect() as conn:
            return accounts.get_fee(conn, K, int(claim_id))

    def write_down(self, claim_id: str, ore: int) -> None:
        with self.system.db.begin() as conn:
            accounts.write_down(conn, self.clock, K, int(claim_id), Money(ore), "fejl")
        self.system.drain()

    def write_up(self, claim_id: str, ore: int) -> None:
        with self.system.db.begin() as conn:
            accounts.write_up(conn, self.clock, K, int(claim_id), Money(ore), "opskrevet")
        self.system.drain()

    def cancel(self, claim_id: str) -> None:
        with self.system.db.begin() as conn:
            accounts.cancel_fee(conn, self.clock, K, int(claim_id), "fejlregistrering")
        self.system.drain()

    # -- debtor --------------------------------------------------------------------------------

    def rules(self, **data: Any) -> None:
        with self.system.db.begin() as conn:
            put_rules(conn, self.clock, K, data)

    def dun(self, day: date) -> DunningResult:
        self.today(day)
        with self.system.db.begin() as conn:
            return run_dunning(conn, self.clock, day)

    def deliver(self, folder: Path) -> int:
        return deliver_letters(self.system.db, self.clock, folder, lookup=FakeAddressLookup())

    def facts(self, on: date | None = None) -> tuple[CollectionTerms, dict[str, CollectionFacts]]:
        with self.system.db.connect() as conn:
            terms, facts = views.collection_facts(conn, K, on or self.clock.today())
        return terms, {f.claim_id: f for f in facts}

    def claim(self, claim_id: str) -> dict[str, Any]:
        with self.system.db.connect() as conn:
            return views.get_claim(conn, K, claim_id)

    def balances(self) -> dict[str, tuple[int, int]]:
        with self.system.db.connect() as conn:
            return views.collection_balances(conn, K)

    # -- payments ------------------------------------------------------------------------------

    def pay(
        self,
        ref: str,
        ore: int,
        claim_id: str,
        *,
        channel: str = "cash-register",
        booked_on: date | None = None,
    ) -> None:
        with self.system.db.begin() as conn:
            send(
                conn,
                PaymentReceived(
                    municipality=K,
                    occurred_at=self.clock.now(),
                    payment_ref=ref,
                    channel=channel,
                    booked_on=booked_on or self.clock.today(),
                    amount_ore=ore,
                    debtor=None if channel == PSRM_CHANNEL else DebtorRef(id_type="cpr", id=CPR),
                    claim_ids=[claim_id],
                ),
                source="payments",
            )
        self.system.drain()

    def settle(self, ref: str, ore: int, claim_id: str, booked_on: date | None = None) -> None:
        """PSRM's settlement of the claim (channel ``psrm``), as collection passes it on."""
        self.pay(ref, ore, claim_id, channel=PSRM_CHANNEL, booked_on=booked_on)

    def reverse(self, ref: str, ore: int) -> None:
        with self.system.db.begin() as conn:
            send(
                conn,
                PaymentReversed(
                    municipality=K,
                    occurred_at=self.clock.now(),
                    payment_ref=ref,
                    reversal_ref=f"{ref}-R",
                    amount_ore=ore,
                    reason="tilbageført",
                ),
                source="payments",
            )
        self.system.drain()

    # -- the collection context ----------------------------------------------------------------

    def collect(self, message: CollectionMessage) -> None:
        """Publish a collection -> debtor message with the claim's next sequence, deliver."""
        with self.system.db.begin() as conn:
            self.sequences[message.claim_id] += 1
            send(conn, message, source="collection", sequence=self.sequences[message.claim_id])
        self.system.drain()

    def handed_over_message(self, facts: CollectionFacts) -> ClaimHandedOver:
        """The ClaimHandedOver the run would send for these facts (now)."""
        return ClaimHandedOver(
            municipality=K,
            occurred_at=self.clock.now(),
            claim_id=facts.claim_id,
            handed_over_on=self.clock.today(),
            psrm_claim_type=facts.psrm_claim_type,
            principal_ore=facts.principal_ore,
            fees_ore=facts.fees_ore,
            interest_ore=facts.interest_ore,
        )

    def hand_over(self, claim_id: str) -> CollectionFacts:
        """Read the facts and hand the claim over at once; the facts it went with."""
        facts = self.facts()[1][claim_id]
        self.collect(self.handed_over_message(facts))
        return facts

    # -- what went out -------------------------------------------------------------------------

    def messages(self, message_type: str, claim_id: str | None = None) -> list[tuple[Any, ...]]:
        """(payload, sequence, ordering key) of every outbox message of the type, in order."""
        with self.system.db.connect() as conn:
            rows = conn.execute(
                select(outbox.c.payload, outbox.c.sequence, outbox.c.ordering_key)
                .where(outbox.c.message_type == message_type)
                .order_by(outbox.c.id)
            )
            found = [(json.loads(p), s, k) for p, s, k in rows]
        return [m for m in found if claim_id is None or m[0]["claim_id"] == claim_id]

    def reports(self, claim_id: str) -> list[tuple[str, int, int, str, int]]:
        """(change, amount, remaining, effective date, sequence) of debtor's reports."""
        return [
            (p["change"], p["amount_ore"], p["remaining_ore"], p["effective_on"], s)
            for p, s, key in self.messages("collection.HandedOverClaimChanged.v1", claim_id)
            if key == f"collection-report:{K}:{claim_id}"
        ]

    def assert_reconciled(self) -> None:
        """The library's open amounts equal debtor's principal balances; the ledger is sound.
        (These tests play the collection context by hand, so collection's own books are not
        compared here: ``test_collection_*`` run the real one.)"""
        with self.system.db.connect() as conn:
            result = reconcile(conn, K)
            assert guard.check_ledger(conn, K) == []
        assert result.differences == []
        assert result.library_open_ore == result.debtor_open_ore
