"""Bank notifications in (leg 3): importing a camt.054 / camt.053 file.

:func:`import_bank_file` runs in two passes over the file, both streaming:

1. **validate** the whole document against its XSD; a file that is not XML or not valid is
   refused whole (ValidationError) and nothing is stored;
2. **import** the payments in chunks of ``chunk_size``, one transaction per chunk: each payment
   is stored under its bank key with its state (see :mod:`fbs_debitor.payments.model`), and in
   the same transaction a matched, partly matched or unmatched credit goes to debtor as
   ``payment.PaymentReceived`` (``leg="leg3"``: the leg's delay runs from here to debtor's
   allocation) and a reversal as ``payment.PaymentReversed``.

Re-running an import is harmless: keys imported before are reported as ``duplicate`` and left
alone, so a file whose import stopped half-way is completed by importing it again, and the same
file twice books nothing twice. Unmatched credits go to debtor too (it keeps them as unallocated
money on the account or as credit, which is its business); error rows do not: they wait, visible
in ``GET /bank-entries?state=error``, for a person.

``dry_run`` does all of it inside one transaction that is rolled back: the summary says what an
import would do, and nothing changes.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from fbs_debitor.contracts.payment import PaymentReceived, PaymentReversed
from fbs_debitor.contracts.sending import Outgoing, send_many
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.db import Database
from fbs_debitor.core.errors import ConflictError, ValidationError
from fbs_debitor.messaging.outbox import new_message_id
from fbs_debitor.payments.adapters import camt
from fbs_debitor.payments.model import (
    DKK,
    BankPayment,
    EntryState,
    Verdict,
    find_payment_id,
    judge,
    payments_of,
)
from fbs_debitor.payments.service.invoices import SOURCE
from fbs_debitor.payments.store import records

LEG = "leg3"
CHANNEL = "bank"
ERRORS_LISTED = 1000
"""The summary lists at most this many error rows (all are counted and stored)."""

Unit = Callable[[], AbstractContextManager[Connection]]
T = TypeVar("T")


@dataclass
class ImportSummary:
    """What an import did (or, with ``dry_run``, would do).

    entries:   ``Ntry`` elements in the file; ``payments``: the payments in them (a batch entry
               holds several). Each payment is counted in exactly one of matched,
               partly_matched, unmatched, duplicate, reversed, error; entries that are not
               booked yet (``PDNG``, ``INFO``) are counted in ``not_booked`` and not stored.
    total_ore: what went to debtor: the sum of the matched, partly matched and unmatched credits.
    errors:    ``{"entry_reference", "reason"}`` of the error rows (at most 1000 listed).
    """

    file: str
    document: str
    municipality: str
    dry_run: bool
    file_id: int | None = None
    already_imported: bool = False
    entries: int = 0
    payments: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in EntryState})
    not_booked: int = 0
    total_ore: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    elapsed_s: float = 0.0

    def count(self, state: EntryState, n: int = 1) -> None:
        self.counts[state.value] += n

    def error(self, key: str, reason: str) -> None:
        if len(self.errors) < ERRORS_LISTED:
            self.errors.append({"entry_reference": key, "reason": reason})

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "document": self.document,
            "municipality": self.municipality,
            "dry_run": self.dry_run,
            "file_id": self.file_id,
            "already_imported": self.already_imported,
            "entries": self.entries,
            "payments": self.payments,
            **self.counts,
            "not_booked": self.not_booked,
            "total_ore": self.total_ore,
            "errors": self.errors,
            "errors_listed": len(self.errors),
            "elapsed_s": round(self.elapsed_s, 3),
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def _units(db: Database, dry_run: bool) -> Iterator[Unit]:
    """Transactions for the import: one per chunk, or for a dry run one for everything that is
    rolled back at the end."""
    if not dry_run:
        yield db.begin
        return
    # a write transaction (IMMEDIATE on SQLite: a read connection may not write) whose work is
    # all inside a savepoint that is rolled back, so the commit at the end commits nothing
    with db.begin() as conn:
        savepoint = conn.begin_nested()

        @contextmanager
        def same() -> Iterator[Connection]:
            yield conn

        try:
            yield same
        finally:
            savepoint.rollback()


def check_kommunekode(municipality: str) -> str:
    if len(municipality) != 3 or not municipality.isdigit():
        raise ValidationError(
            f"kommunekode must be 3 digits, got {municipality!r}", code="invalid-kommunekode"
        )
    return municipality


def import_bank_file(
    db: Database,
    clock: Clock,
    municipality: str,
    path: Path,
    *,
    filename: str | None = None,
    dry_run: bool = False,
    chunk_size: int = 1000,
    progress: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    """Validate and import one camt.054 / camt.053 file for ``municipality`` (module docstring).

    Raises ValidationError when the file is refused (nothing stored), ConflictError when the
    same file is being imported right now by someone else. ``progress`` is called with the
    summary so far after every chunk (the upload job's heartbeat).
    """
    started = time.perf_counter()
    check_kommunekode(municipality)
    document, _count = camt.validate(path)
    summary = ImportSummary(
        file=filename or path.name, document=document, municipality=municipality, dry_run=dry_run
    )
    sha256 = file_sha256(path)
    with _units(db, dry_run) as unit:
        with unit() as conn:
            _register_file(conn, clock, summary, sha256)
        importer = _Importer(clock, summary)
        for chunk in read_ahead(_chunks(path, document, summary, chunk_size)):
            with unit() as conn:
                importer.chunk(conn, chunk)
            if progress is not None:
                progress(summary)
        summary.elapsed_s = time.perf_counter() - started
        if not summary.already_imported and summary.file_id is not None:
            with unit() as conn:
                records.finish_file(conn, summary.file_id, summary.to_json(), clock.now())
    return summary


def _chunks(
    path: Path, document: str, summary: ImportSummary, chunk_size: int
) -> Iterator[list[BankPayment]]:
    """The file's booked payments in lists of about ``chunk_size``; counts the entries."""
    chunk: list[BankPayment] = []
    for entry in camt.iter_entries(path, document):
        summary.entries += 1
        if not entry.booked:
            summary.not_booked += 1
            continue
        chunk.extend(payments_of(entry))
        if len(chunk) >= chunk_size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_DONE = object()


def read_ahead(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """``items`` produced by a thread up to ``depth`` ahead of the consumer, so that reading the
    file overlaps the database's work (both release the GIL while they wait). Memory stays
    bounded by ``depth``; an error of the producer is raised in the consumer."""
    handoff: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        handoff.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            handoff.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it
            handoff.put(_Failed(exc))

    producer = threading.Thread(target=produce, name="camt-reader", daemon=True)
    producer.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        producer.join(timeout=5)


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


def _register_file(conn: Connection, clock: Clock, summary: ImportSummary, sha256: str) -> None:
    """The file's row: a new one, the one of an import that stopped half-way (it is resumed), or
    the one of a finished import (``already_imported``: everything will be a duplicate)."""
    kept = records.find_file(conn, summary.municipality, sha256)
    if kept is not None:
        summary.file_id = int(kept.id)
        summary.already_imported = kept.status == "done"
        return
    try:
        with conn.begin_nested():
            summary.file_id = records.insert_file(
                conn,
                {
                    "municipality": summary.municipality,
                    "sha256": sha256,
                    "filename": summary.file[:255],
                    "document": summary.document,
                    "status": "importing",
                    "entries": 0,
                    "imported_at": clock.now(),
                },
            )
    except IntegrityError as exc:
        raise ConflictError(
            f"the file {summary.file} is being imported right now", code="import-running"
        ) from exc


class _Importer:
    """Judges and stores the payments of one import, chunk by chunk."""

    def __init__(self, clock: Clock, summary: ImportSummary) -> None:
        self.clock = clock
        self.summary = summary
        self.municipality = summary.municipality

    def chunk(self, conn: Connection, payments: list[BankPayment]) -> None:
        if not payments:
            return
        self.summary.payments += len(payments)
        known = records.existing_keys(conn, self.municipality, (p.key for p in payments))
        fresh: list[BankPayment] = []
        for p in payments:
            if p.key in known:
                self.summary.count(EntryState.DUPLICATE)
            else:
                known.add(p.key)
                fresh.append(p)
        credits = [p for p in fresh if p.is_credit and not p.is_reversal]
        self._credits(conn, credits)
        for p in fresh:
            if not p.is_credit or p.is_reversal:
                self._debit(conn, p)

    # -- credits -----------------------------------------------------------------------------------

    def _credits(self, conn: Connection, payments: list[BankPayment]) -> None:
        found = [find_payment_id(p.creditor_refs, p.texts) for p in payments]
        invoices = records.payables_by_payment_id(
            conn, self.municipality, (f.payment_id for f in found if f.payment_id)
        )
        now = self.clock.now()
        rows: list[dict[str, Any]] = []
        outgoing: list[Outgoing] = []
        for p, f in zip(payments, found, strict=True):
            verdict = judge(p, f, invoices.get(f.payment_id) if f.payment_id else None)
            message_id: str | None = None
            if verdict.state in (
                EntryState.MATCHED,
                EntryState.PARTLY_MATCHED,
                EntryState.UNMATCHED,
            ):
                message_id = new_message_id()
                outgoing.append(Outgoing(self._received(p, verdict, now), None, message_id))
                self.summary.total_ore += p.amount_ore or 0
            rows.append(self._row(p, verdict.state, verdict.reason, now, message_id, verdict))
            self._tally(p, verdict.state, verdict.reason)
        records.insert_entries(conn, rows)
        send_many(conn, outgoing, source=SOURCE, leg=LEG)

    def _received(self, p: BankPayment, verdict: Verdict, now: datetime) -> PaymentReceived:
        return PaymentReceived(
            municipality=self.municipality,
            occurred_at=now,
            payment_ref=f"{CHANNEL}:{p.key}",
            channel=CHANNEL,
            booked_on=p.booked_on or self.clock.today(),
            amount_ore=p.amount_ore or 0,
            payment_id=verdict.payment_id,
            invoice_id=verdict.invoice.invoice_id if verdict.invoice else None,
            payer_text=p.payer_text,
        )

    # -- debits: reversals or errors ---------------------------------------------------------------

    def _debit(self, conn: Connection, p: BankPayment) -> None:
        now = self.clock.now()
        reason: str | None = None
        original: Any = None
        ore = p.amount_ore
        if p.currency != DKK:
            reason = f"udenlandsk valuta / foreign currency {p.currency}: only DKK is booked"
        elif p.problem:
            reason = p.problem
        elif ore is None:
            reason = (
                "beløbet kan ikke bogføres i øre / the amount cannot be booked in øre "
                "(fractions of an øre, or too large)"
            )
        elif not p.is_credit:
            found = find_payment_id(p.creditor_refs, p.texts)
            reference = p.reference or found.payment_id
            original = records.reversible_payment(conn, self.municipality, reference, ore)
        if original is None:
            if reason is None:
                reason = (
                    "tilbageførsel af en betaling, der ikke er indlæst / reversal of no imported "
                    "payment"
                    if p.is_reversal
                    else "debitering, der ikke tilbagefører en indlæst betaling / debit entry "
                    "that is not a reversal of an imported payment"
                )
            self._store_one(conn, p, EntryState.ERROR, reason, now)
            return
        assert ore is not None
        message_id = new_message_id()
        why = "bankens tilbageførsel / bank reversal" if p.is_reversal else "debit of a payment"
        reversed_ = PaymentReversed(
            municipality=self.municipality,
            occurred_at=now,
            payment_ref=f"{CHANNEL}:{original.entry_key}",
            reversal_ref=f"{CHANNEL}:{p.key}",
            amount_ore=ore,
            reason=why,
        )
        records.mark_reversed(conn, int(original.id), p.key)
        self._store_one(
            conn, p, EntryState.REVERSED, None, now, message_id, reverses=original.entry_key
        )
        send_many(conn, [Outgoing(reversed_, None, message_id)], source=SOURCE)

    def _store_one(
        self,
        conn: Connection,
        p: BankPayment,
        state: EntryState,
        reason: str | None,
        now: datetime,
        message_id: str | None = None,
        reverses: str | None = None,
    ) -> None:
        row = self._row(p, state, reason, now, message_id, None)
        row["reverses_key"] = reverses
        records.insert_entries(conn, [row])
        self._tally(p, state, reason)

    # -- rows and counts ---------------------------------------------------------------------------

    def _tally(self, p: BankPayment, state: EntryState, reason: str | None) -> None:
        self.summary.count(state)
        if state is EntryState.ERROR:
            self.summary.error(p.key, reason or "")

    def _row(
        self,
        p: BankPayment,
        state: EntryState,
        reason: str | None,
        now: datetime,
        message_id: str | None,
        verdict: Verdict | None,
    ) -> dict[str, Any]:
        entry = p.entry
        invoice = verdict.invoice if verdict else None
        booked_on: date | None = p.booked_on
        return {
            "municipality": self.municipality,
            "entry_key": p.key,
            "file_id": self.summary.file_id,
            "state": state.value,
            "reason": reason,
            "record_id": (entry.record_id or "")[:40] or None,
            "account": (entry.account or "")[:40] or None,
            "entry_index": entry.index,
            "tx_index": p.tx_index,
            "credit": entry.is_credit,
            "reversal": entry.reversal,
            "currency": p.currency[:3],
            "amount": f"{p.amount:f}"[:40],
            "amount_ore": p.amount_ore,
            "booked_on": booked_on,
            "reference": p.reference,
            "payment_id": verdict.payment_id if verdict else None,
            "invoice_id": invoice.invoice_id if invoice else None,
            "amount_due_ore": invoice.amount_due_ore if invoice else None,
            "payer_text": p.payer_text,
            "message_id": message_id,
            "reverses_key": None,
            "reversed_by_key": None,
            "allocation": None,
            "covered_ore": None,
            "credit_ore": None,
            "allocation_reason": None,
            "allocated_at": None,
            "created_at": now,
        }
