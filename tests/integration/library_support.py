"""What the library tests share: a system wired with the library's handlers only (so they never
depend on the debtor context), a municipality set up through the tenants context, and reading
what the library put in the outbox."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from fbs_debitor.bootstrap import System
from fbs_debitor.contracts.base import Contract
from fbs_debitor.contracts.sending import send
from fbs_debitor.core.money import Money
from fbs_debitor.library import handlers
from fbs_debitor.library.model import Fee, FeeMaterial, NewFee, Patron, history_balance
from fbs_debitor.library.service import accounts
from fbs_debitor.library.store import tables
from fbs_debitor.messaging.router import Router
from fbs_debitor.messaging.store import outbox
from fbs_debitor.tenants.service import municipalities as tenants

K = "101"
AGENCY = "710100"
CUTOFF = date(2026, 1, 1)  # the clock fixture stands on 2026-03-02
CPR = "0101901234"
GUARDIAN = "0202652345"
CVR = "13585628"


def library_only(system: System) -> System:
    """The same database and clock, with only the library subscribed: messages to debtor stay
    in the outbox, unanswered, for the test to read (and answer itself)."""
    router = Router()
    handlers.register(router, system.clock)
    return System(settings=system.settings, db=system.db, clock=system.clock, router=router)


def set_up(
    lib: System,
    *,
    kommunekode: str = K,
    agency_id: str = AGENCY,
    cutoff: date | None = CUTOFF,
    mapped: tuple[str, ...] = ("fee", "compensation"),
) -> None:
    """A municipality with its cutoff and mapped kinds, copied to the library."""
    with lib.db.begin() as conn:
        tenants.create_municipality(
            conn,
            lib.clock,
            kommunekode=kommunekode,
            name=f"Kommune {kommunekode}",
            agency_id=agency_id,
            creditor_number="89123456",
            cutoff_date=cutoff,
        )
        for kind in mapped:
            map_kind(lib, kind, conn=conn, kommunekode=kommunekode)
    lib.drain()


def map_kind(lib: System, kind: str, *, conn: Any = None, kommunekode: str = K) -> None:
    """Map ``kind`` in the tenants context (deliver with ``lib.drain()``)."""
    if conn is None:
        with lib.db.begin() as c:
            map_kind(lib, kind, conn=c, kommunekode=kommunekode)
        return
    tenants.map_claim_kind(
        conn,
        lib.clock,
        kommunekode,
        kind,
        debtor_classification=f"BIB-{kind.upper()}"[:40],
        psrm_claim_type=f"PSRM-{kind}"[:40],
    )


def new_patron(lib: System, kommunekode: str = K, **identity: str) -> Patron:
    with lib.db.begin() as conn:
        return accounts.create_patron(
            conn, lib.clock, kommunekode, **(identity or {"cpr": CPR}), name="Test Låner"
        )


def new_fee(
    lib: System,
    patron_id: int,
    amount: str = "100,00",
    *,
    kind: str = "fee",
    creation_date: date | None = None,
    kommunekode: str = K,
    **extra: Any,
) -> Fee:
    row = NewFee(
        patron_id=patron_id,
        kind=kind,
        amount=Money.parse(amount),
        creation_date=creation_date,
        materials=extra.pop("materials", (FeeMaterial("48724566", "5237124059"),)),
        **extra,
    )
    with lib.db.begin() as conn:
        return accounts.create_fee(conn, lib.clock, kommunekode, row)


def fee(lib: System, fee_id: int, kommunekode: str = K) -> Fee:
    with lib.db.connect() as conn:
        return accounts.get_fee(conn, kommunekode, fee_id)


@dataclass(frozen=True)
class Sent:
    """One message the library put in the outbox."""

    message_id: str
    type: str
    sequence: int | None
    leg: str | None
    ordering_key: str | None
    payload: dict[str, Any]


def sent(lib: System, short_type: str | None = None, claim_id: int | None = None) -> list[Sent]:
    """The library's messages, oldest first; filtered by ``ClaimRegistered``-style short type
    and by claim."""
    with lib.db.connect() as conn:
        rows = conn.execute(
            select(outbox).where(outbox.c.source == "library").order_by(outbox.c.id)
        ).all()
    out = [
        Sent(
            r.message_id,
            r.message_type,
            r.sequence,
            r.leg,
            r.ordering_key,
            json.loads(r.payload),
        )
        for r in rows
    ]
    if short_type is not None:
        out = [s for s in out if s.type == f"registration.{short_type}.v1"]
    if claim_id is not None:
        out = [s for s in out if s.payload.get("claim_id") == str(claim_id)]
    return out


def answer(lib: System, message: Contract) -> None:
    """Debtor's answer, published as debtor would, and delivered."""
    with lib.db.begin() as conn:
        send(conn, message, source="debtor")
    lib.drain()


def assert_histories_add_up(lib: System) -> None:
    """Ledger discipline: every fee's history adds up to its open amount."""
    with lib.db.connect() as conn:
        rows = conn.execute(select(tables.fees.c.municipality, tables.fees.c.id)).all()
        for municipality, fee_id in rows:
            current = accounts.get_fee(conn, municipality, fee_id)
            events = accounts.fee_history(conn, municipality, fee_id)
            assert history_balance(events) == current.open, (fee_id, events)
