"""What allocation reads, for a run of payments at once: the claims they may pay (with their
ledgers), the invoices and accounts that name them, the payments applied before.

:class:`AllocationState` reads in bulk what the run's references name (a few ``IN`` queries for
hundreds of payments), then keeps it in memory while the run is applied in order, so that a
later payment of the run sees what an earlier one changed. Claims it did not read up front (an
invoice settled already sends the payment to the debtor's other open claims) are read when first
needed; a claim read once is never read again, because its in-memory ledger is newer than the
database's until the run is written. Claims are read ``FOR UPDATE`` (PostgreSQL), as the
one-at-a-time path did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, select

from fbs_debitor.contracts.payment import PaymentReceived
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.model.allocation import OpenClaim, allocation_order
from fbs_debitor.debtor.model.claims import ClaimStatus
from fbs_debitor.debtor.model.ledger import FEE_KINDS, principal_and_fees
from fbs_debitor.debtor.store.tables import accounts, claims, invoices, postings

_FEE_KINDS = frozenset(k.value for k in FEE_KINDS)

PAYABLE = frozenset({ClaimStatus.OPEN.value, ClaimStatus.HANDED_OVER.value})
"""The statuses a payment covers (:attr:`ClaimState.is_payable`, decision 0022)."""

CHUNK = 900
"""Values per ``IN`` list (SQLite allows 32,766 bound values; PostgreSQL more)."""


@dataclass(slots=True)
class ClaimState:
    """One claim as allocation sees it; ``ledger`` in booking order, new postings appended."""

    pk: int
    municipality: str
    claim_id: str
    account_id: int
    invoice_id: int | None
    due_date: date | None
    created_on: date
    status: str
    coverage_sequence: int
    collection_sequence: int = 0
    """The last report to collection about it (``debtor_claim.collection_sequence``)."""
    ledger: list[tuple[int, int]] = field(default_factory=list)
    """(amount, fee part) in øre of each posting (``model.ledger.principal_and_fees``)."""
    fees_charged: list[tuple[date, int]] = field(default_factory=list)
    """(effective date, øre) of each reminder fee and interest posting (for :meth:`open_claim`:
    which fees arose after a payment's day)."""
    changed: bool = False
    """Status or coverage sequence changed in this run (written back at the end)."""

    @property
    def balance(self) -> int:
        return sum(a for a, _ in self.ledger)

    @property
    def is_payable(self) -> bool:
        """Whether a payment may cover it: it is open, or handed over to collection (a payment
        that reaches the municipality still pays it, and is reported to collection)."""
        return self.status in PAYABLE

    @property
    def handed_over(self) -> bool:
        return self.status == ClaimStatus.HANDED_OVER.value

    def next_sequence(self) -> int:
        self.coverage_sequence += 1
        self.changed = True
        return self.coverage_sequence

    def next_collection_sequence(self) -> int:
        self.collection_sequence += 1
        self.changed = True
        return self.collection_sequence

    def order_key(self) -> tuple[bool, date, date, int]:
        """Its place in allocation order (:func:`allocation_order`)."""
        return allocation_order(self.due_date, self.created_on, self.pk)

    def principal_and_fees(self) -> tuple[int, int]:
        """What is left of its principal and of debtor's fees (``model.principal_and_fees``)."""
        return principal_and_fees(self.ledger)

    def open_claim(self, paid_on: date | None = None) -> OpenClaim:
        """The claim as the allocation plan sees it for a payment made on ``paid_on`` (None:
        no fee counts as late)."""
        principal, fees = principal_and_fees(self.ledger)
        late = 0
        if paid_on is not None:
            late = sum(ore for on, ore in self.fees_charged if on > paid_on)
        return OpenClaim(
            claim=self.pk,
            principal=Money(ore=principal),
            fees=Money(ore=fees),
            due_date=self.due_date,
            created_on=self.created_on,
            late_fees=Money(ore=min(late, max(fees, 0))),
        )


@dataclass(frozen=True, slots=True)
class InvoiceRef:
    id: int
    municipality: str
    account_id: int
    payment_id: str


def _by_municipality(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """(municipality, key) pairs as sorted distinct keys per municipality: every lookup by a
    key unique per municipality names the municipality too, so that it uses the unique index
    (municipality, key) instead of scanning the table."""
    out: dict[str, set[str]] = {}
    for municipality, key in pairs:
        out.setdefault(municipality, set()).add(key)
    return {m: sorted(keys) for m, keys in sorted(out.items())}


def _chosen_in(municipality: str) -> Callable[[Sequence[Any]], Any]:
    def condition(part: Sequence[Any]) -> Any:
        return (claims.c.municipality == municipality) & claims.c.claim_id.in_(part)

    return condition


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


class AllocationState:
    """The run's view of debtor's claims; see the module docstring."""

    def __init__(self, conn: Connection, lock: bool) -> None:
        self.conn = conn
        self.lock = lock
        self.claims: dict[int, ClaimState] = {}
        self.by_claim_id: dict[tuple[str, str], int] = {}
        self.invoices: dict[int, InvoiceRef] = {}
        self.invoice_by_payment_id: dict[tuple[str, str], int] = {}
        self.accounts: dict[tuple[str, str], int] = {}
        self.applied_refs: set[tuple[str, str]] = set()
        self._invoice_claims: dict[int, list[int]] = {}
        self._account_claims: dict[int, list[int]] = {}

    # -- reading up front ----------------------------------------------------------------------

    @classmethod
    def read(
        cls, conn: Connection, payments: Table, messages: Sequence[PaymentReceived]
    ) -> AllocationState:
        """Read what ``messages`` name, in bulk; ``payments`` is debtor's payment table."""
        state = cls(conn, lock=True)
        state._read_applied(payments, messages)
        state._read_invoices(messages)
        state._read_accounts(messages)
        chosen = _by_municipality((m.municipality, c) for m in messages for c in m.claim_ids)
        for municipality, claim_ids in chosen.items():
            state._load_claims(_chosen_in(municipality), claim_ids)
        state.invoice_claims_many(sorted(state.invoices))
        state.account_claims_many(sorted(set(state.accounts.values())))
        return state

    def _read_applied(self, payments: Table, messages: Sequence[PaymentReceived]) -> None:
        refs = _by_municipality((m.municipality, m.payment_ref) for m in messages)
        for municipality, values in refs.items():
            for part in _chunks(values):
                rows = self.conn.execute(
                    select(payments.c.payment_ref).where(
                        payments.c.municipality == municipality, payments.c.payment_ref.in_(part)
                    )
                )
                self.applied_refs.update((municipality, r) for (r,) in rows)

    def _read_invoices(self, messages: Sequence[PaymentReceived]) -> None:
        pids = _by_municipality((m.municipality, m.payment_id) for m in messages if m.payment_id)
        ids = sorted(
            {
                int(m.invoice_id)
                for m in messages
                if not m.payment_id and m.invoice_id and m.invoice_id.isdigit()
            }
        )
        cols = (
            invoices.c.id,
            invoices.c.municipality,
            invoices.c.account_id,
            invoices.c.payment_id,
        )
        for municipality, values in pids.items():
            for part in _chunks(values):
                self._keep_invoices(
                    self.conn.execute(
                        select(*cols).where(
                            invoices.c.municipality == municipality,
                            invoices.c.payment_id.in_(part),
                        )
                    )
                )
        for part in _chunks(ids):
            self._keep_invoices(self.conn.execute(select(*cols).where(invoices.c.id.in_(part))))

    def _keep_invoices(self, rows: Iterable[Any]) -> None:
        for r in rows:
            ref = InvoiceRef(int(r.id), r.municipality, int(r.account_id), r.payment_id)
            self.invoices[ref.id] = ref
            self.invoice_by_payment_id[(ref.municipality, ref.payment_id)] = ref.id

    def _read_accounts(self, messages: Sequence[PaymentReceived]) -> None:
        wanted = _by_municipality(
            (m.municipality, m.debtor.id) for m in messages if m.debtor is not None
        )
        for municipality, debtor_ids in wanted.items():
            for part in _chunks(debtor_ids):
                rows = self.conn.execute(
                    select(accounts.c.id, accounts.c.debtor_id).where(
                        accounts.c.municipality == municipality, accounts.c.debtor_id.in_(part)
                    )
                )
                for r in rows:
                    self.accounts[(municipality, r.debtor_id)] = int(r.id)

    # -- claims, up front or when first needed ---------------------------------------------------

    def _load_claims(
        self,
        condition: Callable[[Sequence[Any]], Any],
        values: Sequence[Any],
        *,
        open_only: bool = False,
    ) -> list[ClaimState]:
        """Read the claims that ``condition(part of values)`` selects (``open_only``: those a
        payment may cover, :data:`PAYABLE`); claims known already keep their in-memory state.
        Returns every matching claim (known or new)."""
        found: list[ClaimState] = []
        new: list[ClaimState] = []
        for part in _chunks(list(values)):
            query = select(claims).where(condition(part))
            if open_only:
                query = query.where(claims.c.status.in_(sorted(PAYABLE)))
            if self.lock:
                query = query.with_for_update()
            for r in self.conn.execute(query):
                known = self.claims.get(int(r.id))
                if known is not None:
                    found.append(known)
                    continue
                claim = ClaimState(
                    pk=int(r.id),
                    municipality=r.municipality,
                    claim_id=r.claim_id,
                    account_id=int(r.account_id),
                    invoice_id=None if r.invoice_id is None else int(r.invoice_id),
                    due_date=r.due_date,
                    created_on=r.created_on,
                    status=r.status,
                    coverage_sequence=int(r.coverage_sequence),
                    collection_sequence=int(r.collection_sequence),
                )
                self.claims[claim.pk] = claim
                self.by_claim_id[(claim.municipality, claim.claim_id)] = claim.pk
                found.append(claim)
                new.append(claim)
        self._read_ledgers(new)
        return found

    def _read_ledgers(self, new: list[ClaimState]) -> None:
        pks = sorted(c.pk for c in new)
        for part in _chunks(pks):
            rows = self.conn.execute(
                select(
                    postings.c.claim_pk,
                    postings.c.amount_ore,
                    postings.c.fee_part_ore,
                    postings.c.kind,
                    postings.c.effective_on,
                )
                .where(postings.c.claim_pk.in_(part))
                .order_by(postings.c.id)
            )
            for pk, amount, fee_part, kind, on in rows:
                claim = self.claims[int(pk)]
                claim.ledger.append((int(amount), int(fee_part)))
                if kind in _FEE_KINDS:
                    claim.fees_charged.append((on, int(amount)))

    def invoice_claims_many(self, invoice_ids: Sequence[int]) -> None:
        missing = [i for i in invoice_ids if i not in self._invoice_claims]
        if not missing:
            return
        for i in missing:
            self._invoice_claims[i] = []
        for claim in self._load_claims(claims.c.invoice_id.in_, missing):
            if (
                claim.invoice_id is not None
                and claim.pk not in self._invoice_claims[claim.invoice_id]
            ):
                self._invoice_claims[claim.invoice_id].append(claim.pk)

    def account_claims_many(self, account_ids: Sequence[int]) -> None:
        missing = [a for a in account_ids if a not in self._account_claims]
        if not missing:
            return
        for a in missing:
            self._account_claims[a] = []
        for claim in self._load_claims(claims.c.account_id.in_, missing, open_only=True):
            self._account_claims[claim.account_id].append(claim.pk)

    def invoice_claims(self, invoice_id: int) -> list[ClaimState]:
        """Every claim on the invoice, whatever its status."""
        self.invoice_claims_many([invoice_id])
        return [self.claims[pk] for pk in self._invoice_claims[invoice_id]]

    def open_claims_of_account(self, account_id: int) -> list[ClaimState]:
        """The account's claims a payment may cover (as of now in this run: open or handed
        over), in allocation order."""
        self.account_claims_many([account_id])
        return sorted(
            (
                self.claims[pk]
                for pk in self._account_claims[account_id]
                if self.claims[pk].is_payable
            ),
            key=ClaimState.order_key,
        )

    def invoice(self, invoice_id: int) -> InvoiceRef:
        if invoice_id not in self.invoices:
            r = self.conn.execute(
                select(
                    invoices.c.id,
                    invoices.c.municipality,
                    invoices.c.account_id,
                    invoices.c.payment_id,
                ).where(invoices.c.id == invoice_id)
            ).one()
            self._keep_invoices([r])
        return self.invoices[invoice_id]

    def account_of(self, municipality: str, claim_ids: Sequence[str]) -> int | None:
        """The account of the first of the named claims debtor has, open or not."""
        for claim_id in claim_ids:
            pk = self.by_claim_id.get((municipality, claim_id))
            if pk is not None:
                return self.claims[pk].account_id
        return None

    def chosen(self, municipality: str, claim_ids: Sequence[str]) -> list[ClaimState]:
        pks = {
            self.by_claim_id[(municipality, c)]
            for c in claim_ids
            if (municipality, c) in self.by_claim_id
        }
        return sorted(
            (self.claims[pk] for pk in pks if self.claims[pk].is_payable),
            key=ClaimState.order_key,
        )
