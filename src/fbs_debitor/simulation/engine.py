"""Drive a whole municipality through the system for ``days`` simulated days (``fbs-debitor
demo``): fees and replacement charges in the library, a cutoff in the middle, invoices and
reminders in debtor, payments by bank file and at the till (on time, after a reminder, partly,
twice, never, unmatched), debtor changes, unpaid claims handed over to state collection (a PSRM
stand-in on the simulated calendar: receipts, hearings, monthly settlements), and at the end a
reconciliation of library, debtor and collection. Delays are measured on the wall clock by the
messaging layer, independent of the simulated calendar."""

from __future__ import annotations

import json
import random
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from fbs_debitor.bootstrap import System
from fbs_debitor.collection.adapters.psrm.standin import PsrmStandIn
from fbs_debitor.collection.adapters.psrm.standin_rules import StandInRules
from fbs_debitor.collection.service.exchange import sync as psrm_sync
from fbs_debitor.collection.service.handover import run_handover
from fbs_debitor.collection.store import claims as collection_store
from fbs_debitor.collection.store.tables import claims as collection_claims
from fbs_debitor.collection.store.tables import receipts as psrm_receipts
from fbs_debitor.contracts.registration import ClaimKind
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.errors import DomainError
from fbs_debitor.debtor import views
from fbs_debitor.debtor.service import allocation
from fbs_debitor.debtor.service.dunning import run_dunning
from fbs_debitor.debtor.store.tables import accounts, invoices, letters, reminders
from fbs_debitor.debtor.store.tables import claims as debtor_claims
from fbs_debitor.library.model import NewFee
from fbs_debitor.library.service import accounts as library_accounts
from fbs_debitor.library.service import payment
from fbs_debitor.messaging.store import inbox, outbox
from fbs_debitor.payments.adapters.camt_writer import BankCredit, write_camt054
from fbs_debitor.payments.service.bank import import_bank_file
from fbs_debitor.payments.service.register import RegisterPayment, pay_at_register
from fbs_debitor.payments.store.tables import bank_entries, register_payments
from fbs_debitor.reconcile import reconcile
from fbs_debitor.simulation.world import (
    Behaviour,
    Patron,
    Scheduled,
    Tally,
    behaviour,
    overdue_fee,
    random_cpr,
    random_cvr,
    replacement_charge,
)
from fbs_debitor.tenants.service import municipalities as tenants

NAMES = {"101": ("København", "710100"), "461": ("Odense", "746100"), "751": ("Aarhus", "775100")}

PSRM_TYPES = {"compensation": "BIBERSTAT"}
"""The demo's PSRM claim types: replacement charges apart, every other kind ``BIBLIOTEK``."""

DEMO_PSRM_RULES = StandInRules(
    hearing_claim_types=frozenset({"BIBERSTAT"}),
    hearing_days=21,
    hearing_outcome="AFVIST",
    settle_share=0.5,
    settle_instalments=2,
)
"""How the demo's PSRM answers: fees are taken at once and half of them are paid off in two
monthly instalments; replacement charges go to a hearing and come back rejected three weeks
later (the acknowledgement did not satisfy Gældsstyrelsen), so the list for a person has some."""


def demo_psrm(clock: SettableClock) -> PsrmStandIn:
    """The PSRM stand-in of the demo, on the simulation's clock."""
    return PsrmStandIn(clock, rules=DEMO_PSRM_RULES)


@dataclass(frozen=True)
class Scenario:
    municipality: str = "101"
    patrons: int = 400
    days: int = 365
    seed: int = 1
    end: date | None = None
    """The last simulated day (default: the clock's today)."""


class Simulation:
    def __init__(self, system: System, scenario: Scenario) -> None:
        if not isinstance(system.clock, SettableClock):
            raise TypeError("the simulation needs a settable clock")
        self.system, self.s, self.clock = system, scenario, system.clock
        self.rng = random.Random(scenario.seed)
        end = scenario.end or self.clock.today()
        self.start = end - timedelta(days=scenario.days)
        self.cutoff = self.start + timedelta(days=scenario.days // 2)
        self.k = scenario.municipality
        self.patrons: list[Patron] = []
        self.schedule: dict[date, list[Scheduled]] = defaultdict(list)
        self.returns: dict[date, list[int]] = defaultdict(list)
        self.old_payments: dict[date, list[int]] = defaultdict(list)
        self.seen_invoice = 0
        self.tally = Tally()
        self.files = Path(tempfile.mkdtemp(prefix="fbsd-demo-"))

    # -- set-up ------------------------------------------------------------------------------

    def set_up(self) -> None:
        name, agency = NAMES.get(self.k, (f"Kommune {self.k}", f"7{self.k}00"))
        self.agency = agency
        self.clock.set_date(self.start)
        with self.system.db.begin() as conn:
            if tenants.find_municipality(conn, self.k) is not None:
                raise DomainError(
                    f"municipality {self.k} exists in this database already; use an empty "
                    "database or another --municipality",
                    code="demo-exists",
                )
            tenants.create_municipality(
                conn,
                self.clock,
                kommunekode=self.k,
                name=name,
                agency_id=agency,
                creditor_number="89123456",
                cutoff_date=self.cutoff,
            )
            for kind in ClaimKind:
                tenants.map_claim_kind(
                    conn,
                    self.clock,
                    self.k,
                    kind.value,
                    debtor_classification=f"BIB-{kind.value[:10].upper()}",
                    psrm_claim_type=PSRM_TYPES.get(kind.value, "BIBLIOTEK"),
                )
        self.system.drain()
        with self.system.db.begin() as conn:
            for _ in range(self.s.patrons):
                r = self.rng.random()
                if r < 0.03:
                    p = Patron(0, None, None, random_cvr(self.rng))
                elif r < 0.12:
                    p = Patron(0, random_cpr(self.rng, minor=True), random_cpr(self.rng), None)
                else:
                    p = Patron(0, random_cpr(self.rng), None, None)
                p.id = library_accounts.create_patron(
                    conn, self.clock, self.k, cpr=p.cpr, guardian_cpr=p.guardian_cpr, cvr=p.cvr
                ).id
                self.patrons.append(p)

    # -- one day -----------------------------------------------------------------------------

    def day(self, today: date) -> None:
        self.clock.set_date(today, hour=9)
        self._new_fees(today)
        self._returns(today)
        self._old_payments(today)
        if self.rng.random() < 0.02:
            self._debtor_change()
        self.system.drain()
        self._schedule_new_invoices(today)
        self._pay(today)
        self.clock.set_date(today, hour=22)
        with self.system.db.begin() as conn:
            run_dunning(conn, self.clock, today, self.k)
        self.system.drain()
        self._letters_out()
        self._collection(today)

    def _letters_out(self) -> None:
        """The day's letters reach the debtors. The demo's Digital Post takes them without
        rendering each as PDF (``fbs-debitor letters deliver`` renders; a year of letters would
        take minutes): what matters here is that the debtor was told, on this day."""
        with self.system.db.begin() as conn:
            conn.execute(
                letters.update()
                .where(letters.c.municipality == self.k, letters.c.status == "pending")
                .values(status="delivered", delivered_at=self.clock.now())
            )

    def _collection(self, today: date) -> None:
        """The hand-over run of the day, then PSRM's receipts and notifications."""
        wiring = self.system.collection
        if wiring is None:
            return
        with self.system.db.begin() as conn:
            result = run_handover(conn, self.clock, today, self.k, wiring.facts)
        if result.handed_over:
            self.system.drain()
        psrm_sync(self.system.db, self.clock, wiring.psrm, self.k)
        self.system.drain()

    def _new_fees(self, today: date) -> None:
        rows: list[NewFee] = []
        for p in self.patrons:
            r = self.rng.random()
            if r < 0.012:
                rows.append(NewFee(patron_id=p.id, kind="fee", amount=overdue_fee(self.rng)))
            elif r < 0.0135:
                rows.append(
                    NewFee(
                        patron_id=p.id,
                        kind="compensation",
                        amount=replacement_charge(self.rng),
                        acknowledged=self.rng.random() < 0.5,
                    )
                )
        if not rows:
            return
        with self.system.db.begin() as conn:
            ids = library_accounts.create_fees_bulk(conn, self.clock, self.k, rows)
        self.tally.claims_created += len(ids)
        for row, fee_id in zip(rows, ids, strict=True):
            if row.kind == "compensation" and self.rng.random() < 0.3:
                self.returns[today + timedelta(days=self.rng.randint(1, 12))].append(fee_id)
            elif today < self.cutoff and self.rng.random() < 0.6:
                self.old_payments[today + timedelta(days=self.rng.randint(1, 30))].append(fee_id)

    def _returns(self, today: date) -> None:
        for fee_id in self.returns.pop(today, []):
            try:
                with self.system.db.begin() as conn:
                    library_accounts.cancel_fee(
                        conn, self.clock, self.k, fee_id, "materialet er afleveret"
                    )
                self.tally.cancelled_replacements += 1
            except DomainError:
                pass  # paid or closed already

    def _old_payments(self, today: date) -> None:
        for fee_id in self.old_payments.pop(today, []):
            try:
                with self.system.db.begin() as conn:
                    payment.pay_fee(conn, self.clock, self.k, fee_id)
                self.tally.old_fees_paid_in_library += 1
            except DomainError:
                pass  # a new fee (the cutoff passed) or no longer open

    def _debtor_change(self) -> None:
        minors = [p for p in self.patrons if p.guardian_cpr]
        if not minors:
            return
        p = self.rng.choice(minors)
        p.guardian_cpr = random_cpr(self.rng)
        with self.system.db.begin() as conn:
            library_accounts.change_debtor(
                conn, self.clock, self.k, p.id, cpr=p.cpr, guardian_cpr=p.guardian_cpr
            )
        self.tally.debtor_changes += 1

    def _schedule_new_invoices(self, today: date) -> None:
        with self.system.db.connect() as conn:
            rows = conn.execute(
                select(invoices.c.id, invoices.c.payment_id, invoices.c.issued_total_ore)
                .where(invoices.c.municipality == self.k, invoices.c.id > self.seen_invoice)
                .order_by(invoices.c.id)
            ).all()
            debtor_of = {
                invoice_id: debtor_id
                for invoice_id, debtor_id in conn.execute(
                    select(debtor_claims.c.invoice_id, accounts.c.debtor_id)
                    .select_from(
                        debtor_claims.join(accounts, accounts.c.id == debtor_claims.c.account_id)
                    )
                    .where(debtor_claims.c.invoice_id > self.seen_invoice)
                )
            }
        for r in rows:
            self.seen_invoice = max(self.seen_invoice, r.id)
            how = behaviour(self.rng)
            self.tally.behaviours[how] = self.tally.behaviours.get(how, 0) + 1
            debtor = debtor_of.get(r.id, "")
            total = int(r.issued_total_ore)
            soon = today + timedelta(days=self.rng.randint(1, 12))
            match how:
                case Behaviour.ON_TIME:
                    self.schedule[soon].append(Scheduled(soon, "bank", r.payment_id, debtor, total))
                case Behaviour.AT_REGISTER:
                    self.schedule[soon].append(
                        Scheduled(soon, "register", r.payment_id, debtor, None)
                    )
                case Behaviour.AFTER_REMINDER:
                    late = today + timedelta(days=self.rng.randint(32, 45))
                    self.schedule[late].append(Scheduled(late, "bank", r.payment_id, debtor, None))
                case Behaviour.PARTLY:
                    part = max(100, total // 2)
                    self.schedule[soon].append(Scheduled(soon, "bank", r.payment_id, debtor, part))
                case Behaviour.TWICE:
                    self.schedule[soon].append(Scheduled(soon, "bank", r.payment_id, debtor, total))
                    again = soon + timedelta(days=2)
                    self.schedule[again].append(
                        Scheduled(again, "bank", r.payment_id, debtor, total)
                    )
                case _:
                    pass

    def _due(self, payment_id: str) -> int:
        with self.system.db.connect() as conn:
            pks = conn.execute(
                select(debtor_claims.c.id)
                .select_from(
                    debtor_claims.join(invoices, invoices.c.id == debtor_claims.c.invoice_id)
                )
                .where(invoices.c.municipality == self.k, invoices.c.payment_id == payment_id)
            ).scalars()
            balances = views.claim_balances(conn, self.k)
            ids = {
                r.id: r.claim_id
                for r in conn.execute(select(debtor_claims.c.id, debtor_claims.c.claim_id))
            }
            return sum(max(balances.get(ids[pk], 0), 0) for pk in pks)

    def _pay(self, today: date) -> None:
        credits: list[BankCredit] = []
        for i, s in enumerate(self.schedule.pop(today, [])):
            amount = s.amount if s.amount is not None else self._due(s.payment_id)
            if amount <= 0:
                continue
            if s.channel == "register":
                try:
                    with self.system.db.begin() as conn:
                        pay_at_register(
                            conn,
                            self.clock,
                            self.k,
                            RegisterPayment(
                                receipt=f"KASSE-{today:%Y%m%d}-{i}",
                                debtor=s.debtor,
                                payment_ids=(s.payment_id,),
                            ),
                        )
                    self.tally.register_payments += 1
                except DomainError:
                    pass  # nothing payable any more
                continue
            ref = f"D{today:%Y%m%d}{i:05d}"
            credits.append(BankCredit(ref, amount, today, s.payment_id, payer="Borger"))
        if self.rng.random() < 0.03:  # money without a usable reference
            ref = f"D{today:%Y%m%d}X{self.rng.randint(0, 9999):04d}"
            credits.append(BankCredit(ref, self.rng.choice([2000, 5000]), today, None, "bibliotek"))
            self.tally.unmatched_sent += 1
        if not credits:
            return
        path = self.files / f"camt054-{today:%Y%m%d}.xml"
        write_camt054(path, f"DEMO-{today:%Y%m%d}", credits)
        import_bank_file(self.system.db, self.clock, self.k, path)
        self.tally.bank_files += 1
        path.unlink()

    # -- the run -----------------------------------------------------------------------------

    def run(self, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        self.set_up()
        for n in range(self.s.days):
            self.day(self.start + timedelta(days=n + 1))
            if progress:
                progress(n + 1, self.s.days)
        self.system.worker().drain(timeout_s=120)
        return self.report()

    def report(self) -> dict[str, Any]:
        db, k = self.system.db, self.k
        with db.connect() as conn:
            rec = reconcile(conn, k)

            def count(q: Any) -> int:
                return int(conn.execute(q).scalar_one())

            out: dict[str, Any] = {
                "municipality": k,
                "agencyid": self.agency,
                "cutoff_date": self.cutoff.isoformat(),
                "first_day": self.start.isoformat(),
                "last_day": (self.start + timedelta(days=self.s.days)).isoformat(),
                "database": db.display_url,
                "patrons": len(self.patrons),
                "claims_created": self.tally.claims_created,
                "claims_sent_to_debtor": count(
                    select(func.count())
                    .select_from(debtor_claims)
                    .where(debtor_claims.c.municipality == k)
                ),
                "claims_paid": count(
                    select(func.count())
                    .select_from(debtor_claims)
                    .where(debtor_claims.c.municipality == k, debtor_claims.c.status == "paid")
                ),
                "claims_handed_to_psrm": count(
                    select(func.count())
                    .select_from(collection_claims)
                    .where(collection_claims.c.municipality == k)
                ),
                "psrm_rejected": count(
                    select(func.count())
                    .select_from(psrm_receipts)
                    .where(psrm_receipts.c.municipality == k, psrm_receipts.c.status == "AFVIST")
                ),
                "psrm_settled_ore": collection_store.settled_total(conn, k),
                "psrm_held_ore": rec.psrm_held_ore,
                "reminders_sent": count(
                    select(func.count()).select_from(reminders).where(reminders.c.municipality == k)
                ),
                "payments_imported": count(
                    select(func.count())
                    .select_from(bank_entries)
                    .where(bank_entries.c.municipality == k)
                )
                + count(
                    select(func.count())
                    .select_from(register_payments)
                    .where(register_payments.c.municipality == k)
                ),
                "unmatched_payments": len(allocation.unmatched_payments(conn, k)),
                "dead_letters": count(
                    select(func.count()).select_from(outbox).where(outbox.c.status == "dead")
                ),
                "library_open_ore": rec.library_open_ore,
                "debtor_open_ore": rec.debtor_open_ore,
                "difference_ore": rec.difference_ore,
                "differences": [d.claim_id for d in rec.differences][:20],
                "reconciled": rec.reconciled,
                "old_fees_paid_in_library": self.tally.old_fees_paid_in_library,
                "cancelled_replacements": self.tally.cancelled_replacements,
                "debtor_changes": self.tally.debtor_changes,
                "bank_files": self.tally.bank_files,
                "behaviours": self.tally.behaviours,
                "sample_patrons": self._samples(conn),
                "delays_ms": delays(conn, k),
            }
        return out

    def _samples(self, conn: Any) -> list[dict[str, Any]]:
        """Patrons with open fees: one with an old fee, one with a new one, and more."""
        picked: list[dict[str, Any]] = []
        for want_old in (True, False, None):
            for p in self.patrons:
                if any(s["patron_id"] == p.id for s in picked):
                    continue
                account = library_accounts.patron_account(conn, self.k, p.id)
                open_fees = [f for f in account.fees if f.open.ore > 0]
                if not open_fees or (
                    want_old is not None and not any(f.old == want_old for f in open_fees)
                ):
                    continue
                picked.append(
                    {
                        "patron_id": p.id,
                        "open_ore": sum(f.open.ore for f in open_fees),
                        "old_fees": sum(1 for f in open_fees if f.old),
                        "new_fees": sum(1 for f in open_fees if not f.old),
                    }
                )
                if want_old is not None or len(picked) >= 4:
                    break
        return picked


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[k], 2)


def delays(conn: Any, municipality: str) -> dict[str, dict[str, float | None]]:
    """p50/p99 wall-clock ms per leg (enqueue -> applied at the receiver), and from a payment's
    arrival to the fee updated in the library."""
    per_leg: dict[str, list[float]] = defaultdict(list)
    for leg, e, a in conn.execute(
        select(inbox.c.leg, inbox.c.enqueued_at, inbox.c.applied_at).where(
            inbox.c.municipality == municipality, inbox.c.leg.is_not(None)
        )
    ):
        per_leg[leg].append((a - e).total_seconds() * 1000)
    arrived: dict[str, Any] = {}
    covered: dict[str, str] = {}
    for mtype, mid, payload, enq in conn.execute(
        select(
            outbox.c.message_type, outbox.c.message_id, outbox.c.payload, outbox.c.enqueued_at
        ).where(
            outbox.c.municipality == municipality,
            outbox.c.message_type.in_(["payment.PaymentReceived.v1", "coverage.ClaimCovered.v1"]),
        )
    ):
        data = json.loads(payload)
        if mtype == "payment.PaymentReceived.v1":
            arrived[data["payment_ref"]] = enq
        else:
            covered[mid] = data["payment_reference"]
    to_library: list[float] = []
    for mid, applied in conn.execute(
        select(inbox.c.message_id, inbox.c.applied_at).where(
            inbox.c.consumer == "library", inbox.c.message_id.in_(list(covered) or [""])
        )
    ):
        start = arrived.get(covered[mid])
        if start is not None:
            to_library.append((applied - start).total_seconds() * 1000)
    per_leg["payment_to_library"] = to_library
    return {
        leg: {
            "p50": _pct(per_leg.get(leg, []), 50),
            "p99": _pct(per_leg.get(leg, []), 99),
            "n": len(per_leg.get(leg, [])),
        }
        for leg in ("leg1", "leg2", "leg3", "leg4", "payment_to_library")
    }
