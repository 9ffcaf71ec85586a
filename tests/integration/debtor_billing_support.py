"""Shared helpers of the invoicing, dunning and write-off tests: the library's messages are
published to the outbox (as the library would) and delivered by the worker; the clock moves."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select

from fbs_debitor.bootstrap import System
from fbs_debitor.contracts.payment import PaymentReceived, PaymentReversed
from fbs_debitor.contracts.registration import (
    ClaimCancelled,
    ClaimDebtorChanged,
    ClaimMessage,
    ClaimWrittenDown,
    ClaimWrittenUp,
    DebtorRef,
    Material,
)
from fbs_debitor.contracts.sending import send
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.debtor import views
from fbs_debitor.debtor.service.dunning import DunningResult, run_dunning
from fbs_debitor.debtor.service.invoicing import InvoicingResult, run_invoicing
from fbs_debitor.debtor.service.rules import put_rules
from fbs_debitor.messaging.store import outbox
from tests.factories import claim_registered, debtor_ref

K = "101"
CREDITOR = "89123456"
CPR = "0101801234"
OTHER_CPR = "2110625629"
CVR = "13585628"


class Desk:
    """The test's hands: the library's messages, the clock, and debtor's runs."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.sequences: dict[str, int] = defaultdict(int)

    @property
    def clock(self) -> SettableClock:
        clock = self.system.clock
        assert isinstance(clock, SettableClock)
        return clock

    def today(self, day: date) -> None:
        self.clock.set_date(day)

    def send(self, *messages: ClaimMessage) -> None:
        """Publish each message with the claim's next sequence, then deliver."""
        with self.system.db.begin() as conn:
            for message in messages:
                self.sequences[message.claim_id] += 1
                send(
                    conn,
                    message,
                    source="library",
                    sequence=self.sequences[message.claim_id],
                    leg="leg1",
                )
        self.system.drain()

    def register(
        self,
        claim_id: str,
        amount_ore: int = 12500,
        *,
        kind: str = "fee",
        debtor: str = CPR,
        id_type: str = "cpr",
        text: str = "",
        materials: tuple[str, ...] = (),
    ) -> None:
        self.send(
            claim_registered(
                claim_id,
                municipality=K,
                occurred_at=self.clock.now(),
                patron_id="patron-1",
                debtor=debtor_ref(debtor, id_type),
                claim_kind=kind,
                amount_ore=amount_ore,
                created_on=self.clock.today(),
                materials=[Material(item_number=f"i-{t}", title=t) for t in materials],
                invoice_text=text,
            )
        )

    def write_down(self, claim_id: str, amount_ore: int) -> None:
        self.send(
            ClaimWrittenDown(
                municipality=K,
                occurred_at=self.clock.now(),
                claim_id=claim_id,
                amount_ore=amount_ore,
            )
        )

    def write_up(self, claim_id: str, amount_ore: int) -> None:
        self.send(
            ClaimWrittenUp(
                municipality=K,
                occurred_at=self.clock.now(),
                claim_id=claim_id,
                amount_ore=amount_ore,
            )
        )

    def cancel(self, claim_id: str) -> None:
        self.send(ClaimCancelled(municipality=K, occurred_at=self.clock.now(), claim_id=claim_id))

    def change_debtor(self, claim_id: str, number: str) -> None:
        self.send(
            ClaimDebtorChanged(
                municipality=K,
                occurred_at=self.clock.now(),
                claim_id=claim_id,
                debtor=DebtorRef(id_type="cpr", id=number),
            )
        )

    def pay(
        self,
        ref: str,
        ore: int,
        claim_id: str | list[str],
        booked_on: date | None = None,
        *,
        number: str = CPR,
        channel: str = "cash-register",
    ) -> None:
        """A payment for ``claim_id`` (the payer chose it), booked on ``booked_on`` (default:
        today), delivered."""
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
                    debtor=DebtorRef(id_type="cpr", id=number),
                    claim_ids=[claim_id] if isinstance(claim_id, str) else claim_id,
                ),
                source="payments",
            )
        self.system.drain()

    def reverse(self, ref: str, ore: int) -> None:
        """The bank (or gateway) reverses the payment ``ref``, delivered."""
        with self.system.db.begin() as conn:
            send(
                conn,
                PaymentReversed(
                    municipality=K,
                    occurred_at=self.clock.now(),
                    payment_ref=ref,
                    reversal_ref=f"{ref}-R",
                    amount_ore=ore,
                    reason="afvist",
                ),
                source="payments",
            )
        self.system.drain()

    def parts(self, claim_id: str) -> tuple[int, int, int]:
        """(balance, principal, fees and interest) of the claim in øre."""
        claim = self.claim(claim_id)
        return claim["balance_ore"], claim["principal_ore"], claim["fees_ore"]

    def rules(self, **data: Any) -> None:
        with self.system.db.begin() as conn:
            put_rules(conn, self.clock, K, data)

    def dun(self, day: date | None = None) -> DunningResult:
        """Move the clock to ``day`` (if given) and run the dunning for that date."""
        if day is not None:
            self.today(day)
        with self.system.db.begin() as conn:
            return run_dunning(conn, self.clock, self.clock.today())

    def invoice(self, day: date | None = None) -> InvoicingResult:
        if day is not None:
            self.today(day)
        with self.system.db.begin() as conn:
            return run_invoicing(conn, self.clock, self.clock.today())

    def account(self, number: str = CPR) -> dict[str, Any]:
        with self.system.db.connect() as conn:
            return views.account_view(conn, K, number, self.clock.today())

    def claim(self, claim_id: str) -> dict[str, Any]:
        with self.system.db.connect() as conn:
            return views.get_claim(conn, K, claim_id)

    def postings(self, claim_id: str, kind: str | None = None) -> list[tuple[str, int, date]]:
        return [
            (p["kind"], p["amount_ore"], p["effective_on"])
            for p in self.claim(claim_id)["postings"]
            if kind is None or p["kind"] == kind
        ]

    def invoice_of(self, claim_id: str, number: str = CPR) -> dict[str, Any]:
        for invoice in self.account(number)["invoices"]:
            if any(c["claim_id"] == claim_id for c in invoice["claims"]):
                return invoice
        raise AssertionError(f"{claim_id} is on no invoice")

    def messages(self, message_type: str) -> list[tuple[dict[str, Any], int | None, str | None]]:
        """(payload, sequence, leg) of every outbox message of the type, in order."""
        with self.system.db.connect() as conn:
            rows = conn.execute(
                select(outbox.c.payload, outbox.c.sequence, outbox.c.leg)
                .where(outbox.c.message_type == message_type)
                .order_by(outbox.c.id)
            )
            return [(json.loads(p), s, leg) for p, s, leg in rows]


STAFF_KEY = "test-101-debtor-staff"
LIBRARY_KEY = "test-101-library"


def auth(key: str = STAFF_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
