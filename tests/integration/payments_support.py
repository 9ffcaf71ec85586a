"""What the payments tests share: a system wired with the payments handlers only (so they never
depend on the debtor context), invoices made payable by ``coverage.InvoiceIssued`` messages as
debtor would send them, and reading what payments put in the outbox."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from fbs_debitor.bootstrap import System
from fbs_debitor.contracts.base import Contract
from fbs_debitor.contracts.coverage import InvoiceIssued, InvoiceUpdated
from fbs_debitor.contracts.sending import send
from fbs_debitor.messaging.router import Router
from fbs_debitor.messaging.store import outbox
from fbs_debitor.payments import handlers
from fbs_debitor.payments.service.bank import ImportSummary, import_bank_file
from fbs_debitor.payments.store import tables

K = "101"
CREDITOR = "89123456"
CAMT = Path(__file__).resolve().parents[1] / "fixtures" / "camt"
PERSON = "0101801234"
PERSON_MASKED = "010180-XXXX"
COMPANY = "13585628"

# the payment IDs of the Danish fixtures (tests/fixtures/camt/README.md)
SINGLE = "000000000001016"
BATCH = ("000000000002014", "000000000002022", "000000000002030")
UNDER = "000000000003012"
OVER = "000000000003020"
TEXT = "000000000005017"


def payments_only(system: System) -> System:
    """The same database and clock with only the payments context subscribed: what payments
    sends stays in the outbox for the test to read."""
    router = Router()
    handlers.register(router, system.clock)
    return System(settings=system.settings, db=system.db, clock=system.clock, router=router)


def deliver(
    system: System, message: Contract, *, source: str = "debtor", leg: str | None = None
) -> None:
    """Send ``message`` as ``source`` would and let the worker deliver it."""
    with system.db.begin() as conn:
        send(conn, message, source=source, leg=leg)
    system.drain()


def issue(
    system: System,
    invoice_id: str,
    payment_id: str,
    amount_ore: int,
    *,
    debtor: str = PERSON_MASKED,
    claim_ids: list[str] | None = None,
) -> None:
    """Make an invoice payable in the channels, as debtor's invoicing does (leg 2)."""
    deliver(
        system,
        InvoiceIssued(
            municipality=K,
            occurred_at=system.clock.now(),
            invoice_id=invoice_id,
            payment_id=payment_id,
            creditor_number=CREDITOR,
            debtor_id_masked=debtor,
            amount_ore=amount_ore,
            due_date=date(2026, 3, 16),
            last_timely_payment_date=date(2026, 3, 16),
            claim_ids=claim_ids or [f"claim-{invoice_id}"],
        ),
        leg="leg2",
    )


def update(system: System, invoice_id: str, payment_id: str, due_ore: int, status: str) -> None:
    deliver(
        system,
        InvoiceUpdated(
            municipality=K,
            occurred_at=system.clock.now(),
            invoice_id=invoice_id,
            payment_id=payment_id,
            amount_due_ore=due_ore,
            status=status,
        ),
    )


def import_fixture(system: System, name: str, *, dry_run: bool = False) -> ImportSummary:
    return import_bank_file(system.db, system.clock, K, CAMT / name, dry_run=dry_run)


@dataclass(frozen=True)
class Sent:
    message_id: str
    message_type: str
    leg: str | None
    payload: dict[str, Any]


def sent(system: System, short_type: str) -> list[Sent]:
    """What payments put in the outbox, oldest first, by short type (``PaymentReceived``)."""
    with system.db.connect() as conn:
        rows = conn.execute(
            select(outbox)
            .where(
                outbox.c.source == "payments",
                outbox.c.message_type == f"payment.{short_type}.v1",
            )
            .order_by(outbox.c.id)
        ).all()
    return [Sent(r.message_id, r.message_type, r.leg, json.loads(r.payload)) for r in rows]


def entries(system: System, state: str | None = None) -> list[Any]:
    with system.db.connect() as conn:
        query = select(tables.bank_entries).order_by(tables.bank_entries.c.id)
        if state:
            query = query.where(tables.bank_entries.c.state == state)
        return list(conn.execute(query))


def counts(system: System) -> dict[str, int]:
    """Rows per payments table and in the outbox: what an import may change."""
    by_name = {
        "files": tables.bank_files,
        "entries": tables.bank_entries,
        "register": tables.register_payments,
        "payable": tables.payables,
        "outbox": outbox,
    }
    with system.db.connect() as conn:
        return {
            name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for name, t in by_name.items()
        }


T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)


def upload(
    client: Any,
    path: str,
    body: bytes,
    headers: dict[str, str],
    params: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``POST {path}/bank-files`` (202 with the job's address), then poll the job until it has
    finished; the finished job (``state`` done or failed, ``result`` or ``error``)."""
    accepted = client.post(f"{path}/bank-files", params=params or {}, content=body, headers=headers)
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()
    location = accepted.headers["Location"]
    assert location == f"{path}/bank-files/{job['job_id']}"
    assert job["state"] in ("queued", "importing", "done", "failed")
    for _ in range(600):
        polled = client.get(location, headers=headers)
        assert polled.status_code == 200, polled.text
        job = polled.json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"the upload job did not finish: {job}")
