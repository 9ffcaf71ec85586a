"""Cash register payments (leg 3), after KOMBIT's payment-solution operation ForetagIndbetaling.

A till at the citizen service desk looks up the debtor's payable invoices
(:func:`fbs_debitor.payments.service.invoices.payable_for_debtor`) and pays chosen ones with
:func:`pay_at_register`. The receipt number is the idempotency key: the same receipt with the
same request answers the same payment again and sends nothing twice; the same receipt with a
different request is refused (ConflictError), because a receipt stands for one payment.

The payment goes to debtor as one ``payment.PaymentReceived`` (channel ``cash-register``,
``payment_ref`` ``register:<receipt>``, ``leg="leg3"``) with the debtor, the chosen invoice's
payment ID when exactly one invoice is paid, and the claims: those chosen, else every claim of
the chosen invoices.

**Cash** (``tender`` ``cash``; decision 0014): the amount settled is what it would be by card
(``amount``, default all due), exact to the øre, and that is what debtor receives; the citizen
hands over that amount rounded to 50 øre (:func:`~fbs_debitor.payments.model.cash_rounded`), and
the difference (at most 25 øre either way) is the till's *rounding line* (``rounding_ore``: cash
taken minus amount settled), booked on the municipality's rounding account, never on the claim.
So a claim paid in cash closes at exactly zero, with no few øre left open and no credit made of
a rounding. A cash ``amount`` that is the rounded sum due of the chosen invoices (the clerk typed
the cash figure shown) settles that sum due. An amount that rounds to 0,00 kr. cannot be paid in
cash. ``card`` (the default) is paid to the øre, as before.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from fbs_debitor.contracts.payment import PaymentReceived
from fbs_debitor.contracts.registration import DebtorRef
from fbs_debitor.contracts.sending import send
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.errors import ConflictError, NotFoundError, ValidationError
from fbs_debitor.core.ids import Cpr, parse_debtor_id
from fbs_debitor.core.money import MAX_TILL_PAYMENT_ORE, Money
from fbs_debitor.messaging.outbox import new_message_id
from fbs_debitor.payments.model import Tender, cash_rounded, clean_payment_id, clean_text
from fbs_debitor.payments.service.invoices import SOURCE
from fbs_debitor.payments.store import records

CHANNEL = "cash-register"
LEG = "leg3"


@dataclass(frozen=True, slots=True)
class RegisterPayment:
    """What the till asks for.

    receipt:      the till's receipt number; the idempotency key.
    debtor:       the payer's CPR or CVR (as the clerk types it).
    invoice_ids:  the invoices chosen (at least one, together with ``payment_ids``).
    payment_ids:  invoices chosen by the FIK payment ID on the citizen's slip.
    claim_ids:    a choice among the chosen invoices' claims (empty: all of them).
    amount:       what the payment settles; None: the sum due on the chosen invoices (only when
                  no claims are chosen: the copy does not know the claims' amounts).
    tender:       ``card`` (exact; the default) or ``cash`` (the citizen pays ``amount`` rounded
                  to 50 øre; see the module docstring).
    """

    receipt: str
    debtor: str
    invoice_ids: tuple[str, ...] = ()
    payment_ids: tuple[str, ...] = ()
    claim_ids: tuple[str, ...] = ()
    amount: Money | None = None
    tender: Tender = Tender.CARD

    def request_hash(self) -> str:
        """The fingerprint of the request, to tell a repeat from a different payment."""
        body = {
            "debtor": "".join(c for c in self.debtor if c.isdigit()),
            "invoice_ids": sorted(self.invoice_ids),
            "payment_ids": sorted("".join(p.split()) for p in self.payment_ids),
            "claim_ids": sorted(self.claim_ids),
            "amount_ore": None if self.amount is None else self.amount.ore,
        }
        if self.tender is not Tender.CARD:  # card keeps the fingerprint receipts had before
            body["tender"] = self.tender.value
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _answer(row: Any, *, replayed: bool) -> dict[str, Any]:
    amount = Money(int(row.amount_ore))
    cash = None if row.cash_ore is None else Money(int(row.cash_ore))
    rounding = Money(int(row.rounding_ore))
    return {
        "receipt": row.receipt,
        "payment_ref": f"register:{row.receipt}",
        "debtor": row.debtor_masked,
        "tender": row.tender,
        "amount_ore": amount.ore,
        "amount": str(amount),
        "cash_ore": None if cash is None else cash.ore,
        "cash": None if cash is None else str(cash),
        "rounding_ore": rounding.ore,
        "rounding": str(rounding),
        "booked_on": row.booked_on.isoformat(),
        "invoice_ids": json.loads(row.invoice_ids),
        "claim_ids": json.loads(row.claim_ids),
        "message_id": row.message_id,
        "allocation": row.allocation,
        "replayed": replayed,
    }


def _check(request: RegisterPayment) -> RegisterPayment:
    """The request with its texts cleaned; ValidationError for what cannot be stored."""
    if request.amount is not None and abs(request.amount.ore) > MAX_TILL_PAYMENT_ORE:
        raise ValidationError(
            f"beløbet er for stort / the amount is too large: {request.amount}; one payment at "
            f"the till is at most {Money(MAX_TILL_PAYMENT_ORE)}",
            code="amount-too-large",
        )
    if request.amount is not None and not request.amount.is_positive():
        raise ValidationError(
            f"beløbet skal være positivt / the amount must be positive, got {request.amount}",
            code="amount-not-positive",
        )
    return RegisterPayment(
        receipt=clean_text(request.receipt, "receipt", 100),
        debtor=request.debtor,
        invoice_ids=tuple(clean_text(i, "invoice id", 40) for i in request.invoice_ids),
        payment_ids=tuple(clean_payment_id(p) for p in request.payment_ids),
        claim_ids=tuple(clean_text(c, "claim id", 100) for c in request.claim_ids),
        amount=request.amount,
        tender=Tender(request.tender),
    )


def _debtor_ref(text: str) -> tuple[DebtorRef, str]:
    debtor = parse_debtor_id(text)
    if isinstance(debtor, Cpr):
        return DebtorRef(id_type="cpr", id=debtor.value), debtor.masked
    return DebtorRef(id_type="cvr", id=debtor.value), debtor.value


def pay_at_register(
    conn: Connection, clock: Clock, municipality: str, request: RegisterPayment
) -> dict[str, Any]:
    """Register a payment at the till (see the module docstring); returns the answer, with
    ``replayed`` true when the receipt was paid before with the same request."""
    request = _check(request)
    receipt = request.receipt
    fingerprint = request.request_hash()
    kept = records.register_payment(conn, municipality, receipt)
    if kept is not None:
        return _replay(kept, fingerprint)
    ref, masked = _debtor_ref(request.debtor)
    invoices = _chosen_invoices(conn, municipality, request, masked)
    claims_on_invoices = [c for inv in invoices for c in json.loads(inv.claim_ids)]
    claim_ids = list(request.claim_ids) or claims_on_invoices
    stray = sorted(set(claim_ids) - set(claims_on_invoices))
    if stray:
        raise ValidationError(
            f"fordringerne {', '.join(stray)} står ikke på de valgte opkrævninger / the claims "
            f"{', '.join(stray)} are not on the chosen invoices",
            code="claim-not-on-invoice",
        )
    due = Money(sum(int(inv.amount_due_ore) for inv in invoices))
    amount = request.amount
    if amount is None:
        if request.claim_ids:
            raise ValidationError(
                "angiv beløbet, når der vælges enkelte fordringer / give the amount when "
                "paying chosen claims",
                code="amount-required",
            )
        amount = due
    if not amount.is_positive():
        raise ValidationError(
            f"beløbet skal være positivt / the amount must be positive, got {amount}",
            code="amount-not-positive",
        )
    cash: Money | None = None
    if request.tender is Tender.CASH:
        if not request.claim_ids and amount == cash_rounded(due):
            amount = due  # the cash figure of the whole sum due: it settles the sum due
        cash = cash_rounded(amount)
        if cash.is_zero():
            raise ValidationError(
                f"{amount} bliver 0,00 kr. kontant / {amount} rounds to 0,00 kr. in cash: "
                "pay it by card",
                code="cash-rounds-to-zero",
            )
    now = clock.now()
    message_id = new_message_id()
    only = invoices[0] if len(invoices) == 1 else None
    values = {
        "municipality": municipality,
        "receipt": receipt,
        "request_hash": fingerprint,
        "debtor_masked": masked,
        "tender": request.tender.value,
        "amount_ore": amount.ore,
        "cash_ore": None if cash is None else cash.ore,
        "rounding_ore": 0 if cash is None else (cash - amount).ore,
        "booked_on": clock.today(),
        "invoice_ids": json.dumps([inv.invoice_id for inv in invoices]),
        "claim_ids": json.dumps(claim_ids),
        "message_id": message_id,
        "created_at": now,
    }
    try:
        with conn.begin_nested():
            records.insert_register_payment(conn, values)
    except IntegrityError:
        # the same receipt, committed by a concurrent request a moment ago
        kept = records.register_payment(conn, municipality, receipt)
        if kept is None:  # pragma: no cover - the unique key was hit, so the row exists
            raise
        return _replay(kept, fingerprint)
    send(
        conn,
        PaymentReceived(
            municipality=municipality,
            occurred_at=now,
            payment_ref=f"register:{receipt}",
            channel=CHANNEL,
            booked_on=clock.today(),
            amount_ore=amount.ore,
            payment_id=only.payment_id if only is not None else None,
            invoice_id=only.invoice_id if only is not None else None,
            debtor=ref,
            claim_ids=claim_ids,
            payer_text=_payer_text(receipt, amount, cash),
        ),
        source=SOURCE,
        leg=LEG,
        message_id=message_id,
    )
    row = records.register_payment(conn, municipality, receipt)
    return _answer(row, replayed=False)


def day_report(
    conn: Connection, municipality: str, on: date, *, limit: int | None = None, offset: int = 0
) -> dict[str, Any]:
    """The till's day ``on``, for closing the drawer: every payment and the totals of what was
    settled (``amount``), taken in cash (``cash``) and of the rounding lines (``rounding``: the
    amount for the municipality's rounding account). Cash counted in the drawer = ``cash``.
    ``limit`` and ``offset`` page through the payments; the totals are always the whole day's."""
    rows = records.register_payments_on(conn, municipality, on)
    totals = {
        "amount": Money(sum(int(r.amount_ore) for r in rows)),
        "card": Money(sum(int(r.amount_ore) for r in rows if r.cash_ore is None)),
        "cash": Money(sum(int(r.cash_ore) for r in rows if r.cash_ore is not None)),
        "rounding": Money(sum(int(r.rounding_ore) for r in rows)),
    }
    out: dict[str, Any] = {
        "on": on.isoformat(),
        "payment_count": len(rows),
        "payments": [
            _answer(r, replayed=False)
            for r in rows[offset : None if limit is None else offset + limit]
        ],
    }
    for name, total in totals.items():
        out[f"{name}_ore"] = total.ore
        out[name] = str(total)
    return out


def _payer_text(receipt: str, amount: Money, cash: Money | None) -> str:
    """The payment's text for debtor: the receipt, and for cash what was taken and the rounding
    line (the amount sent is ``amount``, exact)."""
    text = f"Kasse, kvittering {receipt}"
    if cash is None:
        return text
    return f"{text}, kontant {cash} (øreafrunding {(cash - amount).ore:+d} øre)"


def _replay(kept: Any, fingerprint: str) -> dict[str, Any]:
    if kept.request_hash != fingerprint:
        raise ConflictError(
            f"kvittering {kept.receipt} er brugt til en anden betaling / receipt {kept.receipt} "
            "was used for another payment",
            code="receipt-reused",
        )
    return _answer(kept, replayed=True)


def _chosen_invoices(
    conn: Connection, municipality: str, request: RegisterPayment, masked: str
) -> list[Any]:
    """The chosen invoices, each open and the debtor's; in the order chosen."""
    if not request.invoice_ids and not request.payment_ids:
        raise ValidationError(
            "vælg mindst én opkrævning / choose at least one invoice (invoice_ids or payment_ids)",
            code="no-invoice-chosen",
        )
    rows = records.payable_rows(conn, municipality, request.invoice_ids)
    by_payment = records.payables_by_payment_id(
        conn, municipality, ("".join(p.split()) for p in request.payment_ids)
    )
    chosen: dict[str, Any] = {}
    for invoice_id in request.invoice_ids:
        if invoice_id not in rows:
            raise NotFoundError(f"ingen opkrævning / no invoice {invoice_id}", code="no-invoice")
        chosen.setdefault(invoice_id, rows[invoice_id])
    for payment_id in request.payment_ids:
        compact = "".join(payment_id.split())
        if compact not in by_payment:
            raise NotFoundError(
                f"ingen opkrævning med betalings-id / no invoice with payment ID {compact}",
                code="no-invoice",
            )
        invoice_id = by_payment[compact].invoice_id
        if invoice_id not in chosen:
            chosen[invoice_id] = records.payable_rows(conn, municipality, [invoice_id])[invoice_id]
    for inv in chosen.values():
        if inv.debtor_id_masked != masked:
            raise ValidationError(
                f"opkrævning {inv.invoice_id} er ikke debitorens / invoice {inv.invoice_id} "
                "belongs to another debtor",
                code="invoice-of-another-debtor",
            )
        if inv.status != "open" or int(inv.amount_due_ore) <= 0:
            raise ConflictError(
                f"opkrævning {inv.invoice_id} kan ikke betales ({inv.status}) / invoice "
                f"{inv.invoice_id} is not payable ({inv.status})",
                code="invoice-not-payable",
            )
    return list(chosen.values())
