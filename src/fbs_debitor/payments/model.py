"""The payment channels' domain (pure): bank entries, the payments in them, and how each is judged.

A camt.054 / camt.053 file holds **entries** (``Ntry``): one booking on the municipality's
account. An entry holds one payment, or several when the bank books a **batch** (several
``TxDtls`` under one ``Ntry``, each with its own amount and reference). :func:`payments_of`
turns an entry into its **bank payments**; each has a **key** that is unique at the bank, so a
file imported twice books nothing twice:

* an entry of one payment: the bank's reference of the entry (``AcctSvcrRef``), else of its
  transaction, else the entry reference (``NtryRef``, qualified by the account), else a hash of
  (account, booking date, direction, amount, currency, reference, record, position in the
  record);
* a payment in a batch: the transaction's own bank reference when every transaction has a
  distinct one, else the entry's key plus ``#n`` (n = 1, 2, ...).

Every payment ends in one **state** (:class:`EntryState`), decided by :func:`judge` for credits
and by the importer for debits (a reversal needs the original payment from the database):

* ``matched``: its FIK payment ID belongs to a payable invoice and the amount is what is due;
* ``partly_matched``: the invoice is found, the amount differs (under- or overpayment, or an
  invoice that is no longer open);
* ``unmatched``: a well-formed payment ID that belongs to no invoice, or no payment ID at all;
* ``duplicate``: its key was imported before (not stored again);
* ``reversed``: a reversal (``RvslInd``) or a debit that takes back an imported payment;
* ``error``: foreign currency, a payment ID with a wrong check digit, a debit that reverses
  nothing, a batch whose amounts do not add up. Real money that waits for a person.

The payment ID comes from the structured creditor reference (``RmtInf/Strd/CdtrRefInf/Ref``),
15 digits for card type +71 and 16 for +75, or a full code line ``+71<...+...<``; failing that,
from the first 15-digit number in the unstructured text whose check digit is right.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from fbs_debitor.core.errors import ValidationError
from fbs_debitor.core.fik import ID_LENGTHS, PaymentId, parse_code_line
from fbs_debitor.core.ids import mask_cprs_in_text
from fbs_debitor.core.money import MAX_AMOUNT_ORE, Money
from fbs_debitor.core.text import readable

DKK = "DKK"
PAYER_TEXT_MAX = 500
REFERENCE_MAX = 140
KEY_MAX = 115
"""At most 115 characters, so that ``bank:<key>`` fits the contracts' 120."""


def clean_text(value: str, what: str, max_length: int) -> str:
    """``value`` stripped, 1 to ``max_length`` characters, no control characters; else
    ValidationError (code ``invalid-<what>``)."""
    value = value.strip()
    if not readable(value, max_length):
        raise ValidationError(
            f"{what} skal have 1 til {max_length} tegn uden kontroltegn / {what} must have 1 to "
            f"{max_length} characters, no control characters",
            code=f"invalid-{what.replace(' ', '-')}",
        )
    return value


def clean_payment_id(value: str) -> str:
    """A payment ID as typed at the till (spaces ignored): 15 or 16 digits, else
    ValidationError."""
    compact = "".join(value.split())
    if not compact.isascii() or not compact.isdigit() or len(compact) not in ID_LENGTHS.values():
        raise ValidationError(
            "betalings-id'et skal have 15 eller 16 cifre / the payment ID must have 15 or 16 "
            "digits",
            code="invalid-payment-id",
        )
    return compact


class Tender(StrEnum):
    """How the citizen pays at the till. ``card`` (card, MobilePay: the default, paid to the
    øre, as the till always did) or ``cash`` (rounded to 50 øre, :func:`cash_rounded`)."""

    CARD = "card"
    CASH = "cash"


CASH_STEP_ORE = 50
"""The smallest coin since the 25-øre coin went out on 1 October 2008 (Danmarks Nationalbank)."""


def cash_rounded(amount: Money) -> Money:
    """``amount`` as it is paid in cash: to the nearest 50 øre, the Danish rule
    ("afrundingsreglen", decision 0014): 1-24 øre down to 0, 25-74 to 50, 75-99 up to the next
    krone. Only for amounts of 0 or more (the till takes money; it gives none back here)."""
    if amount.is_negative():
        raise ValueError(f"cash rounding of a negative amount {amount}")
    whole, rest = divmod(amount.ore, CASH_STEP_ORE)
    return Money((whole + (1 if rest >= CASH_STEP_ORE // 2 else 0)) * CASH_STEP_ORE)


class EntryState(StrEnum):
    MATCHED = "matched"
    PARTLY_MATCHED = "partly_matched"
    UNMATCHED = "unmatched"
    DUPLICATE = "duplicate"
    REVERSED = "reversed"
    ERROR = "error"


RECEIVED_STATES = (EntryState.MATCHED, EntryState.PARTLY_MATCHED, EntryState.UNMATCHED)
"""The states of a payment that went on to debtor as ``PaymentReceived``."""


# -- what the parser reads -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Transaction:
    """One ``TxDtls`` of an entry.

    index:          0-based position in its entry.
    amount:         the transaction's own amount (``Amt``, or ``AmtDtls/TxAmt/Amt`` in version
                    2), unsigned, in ``currency``; None when the bank gives none.
    currency:       ISO 4217 code of ``amount``; None with it.
    credit_debit:   ``CRDT`` or ``DBIT`` when the transaction says; None otherwise.
    bank_ref:       the bank's reference of the transaction (``Refs/AcctSvcrRef``) or None.
    end_to_end_id:  the payer's end-to-end id (``Refs/EndToEndId``) or None.
    creditor_refs:  every ``RmtInf/Strd/CdtrRefInf/Ref``, in order (the FIK payment ID).
    texts:          every ``RmtInf/Ustrd`` and ``RmtInf/Strd/AddtlRmtInf``, in order.
    payer_name:     the debtor party's name (``RltdPties/Dbtr``) or None.
    """

    index: int
    amount: Decimal | None = None
    currency: str | None = None
    credit_debit: str | None = None
    bank_ref: str | None = None
    end_to_end_id: str | None = None
    creditor_refs: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()
    payer_name: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One ``Ntry`` of a statement (camt.053) or notification (camt.054).

    document:      the message definition, e.g. ``camt.054.001.02``.
    record_id:     the statement's / notification's ``Id``.
    account:       the account's IBAN or other identification.
    index:         0-based position of the entry in its record.
    amount:        unsigned amount in ``currency`` as written (Decimal, never float).
    credit_debit:  ``CRDT`` (money in) or ``DBIT`` (money out).
    reversal:      ``RvslInd`` is true.
    status:        ``BOOK``, ``PDNG``, ``INFO`` (None if absent).
    booking_date:  ``BookgDt`` (a date-time as its Copenhagen date), None if absent.
    value_date:    ``ValDt``, None if absent.
    bank_ref:      ``AcctSvcrRef`` or None. ``entry_ref``: ``NtryRef`` or None.
    info:          ``AddtlNtryInf`` or None.
    record_date:   the record's creation date (fallback for the booking date), None if absent.
    """

    document: str
    record_id: str | None
    account: str | None
    index: int
    amount: Decimal
    currency: str
    credit_debit: str
    reversal: bool = False
    status: str | None = "BOOK"
    booking_date: date | None = None
    value_date: date | None = None
    bank_ref: str | None = None
    entry_ref: str | None = None
    info: str | None = None
    record_date: date | None = None
    transactions: tuple[Transaction, ...] = ()

    @property
    def is_credit(self) -> bool:
        return self.credit_debit == "CRDT"

    @property
    def booked(self) -> bool:
        """Booked entries are imported; pending and information-only ones come again booked."""
        return self.status in (None, "BOOK")

    @property
    def signed_amount(self) -> Decimal:
        """The amount with the sign of the booking: negative for a debit."""
        return self.amount if self.is_credit else -self.amount


# -- payments ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BankPayment:
    """One payment of an entry: the entry itself, or one transaction of a batch.

    key:          unique at the bank (see the module docstring); at most 120 characters.
    entry:        the entry it comes from; ``tx_index`` the transaction's position in a batch
                  (None for an entry of one payment).
    amount:       unsigned, in ``currency``.
    booked_on:    booking date, else value date, else the record's date (None if none).
    reference:    the first creditor reference, else the end-to-end id (CPRs masked).
    payer_text:   payer name and remittance texts, CPRs masked, at most 500 characters.
    problem:      why the payment cannot be judged as a payment at all (a batch whose amounts do
                  not add up, a zero amount), or None.
    amount_ore:   the amount in øre if it is DKK with at most 2 decimals, else None.
    """

    key: str
    entry: Entry
    tx_index: int | None
    amount: Decimal
    currency: str
    booked_on: date | None
    creditor_refs: tuple[str, ...]
    texts: tuple[str, ...]
    reference: str | None
    payer_text: str
    problem: str | None = None
    amount_ore: int | None = None

    @property
    def is_credit(self) -> bool:
        return self.entry.is_credit

    @property
    def is_reversal(self) -> bool:
        return self.entry.reversal


def _hash_key(entry: Entry, reference: str | None) -> str:
    day = entry.booking_date or entry.value_date or entry.record_date
    parts = [
        entry.account or "",
        day.isoformat() if day else "",
        entry.credit_debit,
        f"{entry.amount.normalize():f}",
        entry.currency,
        reference or "",
        entry.record_id or "",
        str(entry.index),
    ]
    return "hash:" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]


def entry_key(entry: Entry, reference: str | None = None, tx_bank_ref: str | None = None) -> str:
    """The unique key of an entry of one payment: the entry's bank reference, else the
    transaction's, else ``NtryRef`` (qualified by the account), else a hash."""
    if entry.bank_ref:
        return entry.bank_ref[:KEY_MAX]
    if tx_bank_ref:
        return tx_bank_ref[:KEY_MAX]
    if entry.entry_ref:
        return f"ntry:{entry.account or ''}:{entry.entry_ref}"[:KEY_MAX]
    return _hash_key(entry, reference)


def _reference(tx: Transaction | None) -> str | None:
    if tx is None:
        return None
    raw = tx.creditor_refs[0] if tx.creditor_refs else tx.end_to_end_id
    if raw is None or raw == "NOTPROVIDED":
        return None
    return mask_cprs_in_text(raw.strip())[:REFERENCE_MAX] or None


def _payer_text(tx: Transaction | None, entry: Entry) -> str:
    parts: list[str] = []
    if tx is not None:
        if tx.payer_name:
            parts.append(tx.payer_name)
        parts.extend(tx.texts)
    if not parts and entry.info:
        parts.append(entry.info)
    text = " / ".join(p.strip() for p in parts if p and p.strip())
    return mask_cprs_in_text(text)[:PAYER_TEXT_MAX]


_ZERO = "beløbet er 0 / the amount is zero"


def _ore(amount: Decimal, currency: str) -> int | None:
    """Øre of a DKK amount with at most 2 decimals and at most ``MAX_AMOUNT_ORE``; None for
    another currency, fractions of an øre or an absurd amount."""
    if currency != DKK:
        return None
    try:
        ore = Money.from_decimal(amount).ore
    except ValidationError:
        return None
    return ore if ore <= MAX_AMOUNT_ORE else None


def payments_of(entry: Entry) -> list[BankPayment]:
    """The payments of an entry: one, or one per transaction of a batch (see module docstring)."""
    if len(entry.transactions) <= 1:
        return [_single(entry)]
    return _batch(entry)


def _single(entry: Entry) -> BankPayment:
    tx = entry.transactions[0] if entry.transactions else None
    reference = _reference(tx)
    return BankPayment(
        key=entry_key(entry, reference, tx.bank_ref if tx else None),
        entry=entry,
        tx_index=None,
        amount=entry.amount,
        currency=entry.currency,
        booked_on=entry.booking_date or entry.value_date or entry.record_date,
        creditor_refs=tx.creditor_refs if tx else (),
        texts=tx.texts if tx else (),
        reference=reference,
        payer_text=_payer_text(tx, entry),
        problem=_ZERO if entry.amount == 0 else None,
        amount_ore=_ore(entry.amount, entry.currency),
    )


def _batch_problem(entry: Entry) -> str | None:
    """Why a batch entry's transactions cannot be booked one by one, or None."""
    amounts = [tx.amount for tx in entry.transactions]
    if any(a is None for a in amounts):
        return (
            "samlepost uden beløb pr. transaktion / batch entry without an amount per transaction"
        )
    if any(tx.currency not in (None, entry.currency) for tx in entry.transactions):
        return "samlepost i flere valutaer / batch entry in several currencies"
    if sum(a for a in amounts if a is not None) != entry.amount:
        return (
            f"samlepostens transaktioner summer ikke til {entry.amount} / the batch's "
            f"transactions do not add up to the entry amount {entry.amount} {entry.currency}"
        )
    return None


def _batch(entry: Entry) -> list[BankPayment]:
    txs = entry.transactions
    base = entry_key(entry, _reference(txs[0]))
    tx_refs = [tx.bank_ref for tx in txs]
    own_refs = all(tx_refs) and len(set(tx_refs)) == len(txs) and entry.bank_ref not in tx_refs
    problem = _batch_problem(entry)
    out: list[BankPayment] = []
    for n, tx in enumerate(txs, start=1):
        amount = tx.amount if tx.amount is not None else Decimal(0)
        out.append(
            BankPayment(
                key=(tx.bank_ref if own_refs and tx.bank_ref else f"{base}#{n}")[:KEY_MAX],
                entry=entry,
                tx_index=tx.index,
                amount=amount,
                currency=entry.currency,
                booked_on=entry.booking_date or entry.value_date or entry.record_date,
                creditor_refs=tx.creditor_refs,
                texts=tx.texts,
                reference=_reference(tx),
                payer_text=_payer_text(tx, entry),
                problem=problem or (_ZERO if amount == 0 else None),
                amount_ore=_ore(amount, entry.currency),
            )
        )
    return out


# -- the payment ID --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FoundId:
    """What :func:`find_payment_id` found: a valid ``payment_id``, or an ``error`` (a FIK ID with
    a wrong check digit), or neither (``note`` says what was looked at)."""

    payment_id: str | None = None
    error: str | None = None
    note: str = ""


_FIFTEEN = re.compile(r"(?<![0-9])[0-9]{15}(?![0-9])")
_CODE_LINE_HINT = re.compile(r"\+7[0-9]<")


def _from_creditor_ref(ref: str) -> FoundId | None:
    compact = "".join(ref.split())
    if _CODE_LINE_HINT.search(compact):
        try:
            _card, pid, _creditor = parse_code_line(compact)
        except ValidationError as exc:
            return FoundId(error=exc.detail)
        return FoundId(payment_id=pid.value) if pid else None
    if compact.isdigit() and len(compact) in ID_LENGTHS.values():
        card = 71 if len(compact) == ID_LENGTHS[71] else 75
        try:
            return FoundId(payment_id=PaymentId.parse(compact, card).value)
        except ValidationError as exc:
            return FoundId(error=exc.detail)
    return None


def find_payment_id(creditor_refs: tuple[str, ...], texts: tuple[str, ...]) -> FoundId:
    """The FIK payment ID of a payment (see the module docstring for where it is looked for)."""
    for ref in creditor_refs:
        found = _from_creditor_ref(ref)
        if found is not None:
            return found
    failing: list[str] = []
    for text in texts:
        for run in _FIFTEEN.findall(text):
            try:
                return FoundId(payment_id=PaymentId.parse(run, 71).value)
            except ValidationError:
                failing.append(run)
    if creditor_refs:
        note = (
            f"kreditorreferencen {mask_cprs_in_text(creditor_refs[0])!r} er ikke et FIK-"
            "betalings-id / the creditor reference is not a FIK payment ID"
        )
    elif failing:
        note = (
            "teksten har et 15-cifret tal med forkert kontrolciffer / the text holds a 15-digit "
            "number with a wrong check digit"
        )
    else:
        note = "intet FIK-betalings-id i betalingen / no FIK payment ID in the payment"
    return FoundId(note=note)


# -- judging a credit ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Payable:
    """The channel's copy of a payable invoice (leg 2), as far as matching needs it."""

    municipality: str
    invoice_id: str
    payment_id: str
    amount_due_ore: int
    status: str
    debtor_id_masked: str = ""

    @property
    def is_open(self) -> bool:
        return self.status == "open" and self.amount_due_ore > 0


@dataclass(frozen=True, slots=True)
class Verdict:
    """The state a credit ends in, why, and what it was matched to."""

    state: EntryState
    reason: str | None = None
    payment_id: str | None = None
    invoice: Payable | None = None


def judge(payment: BankPayment, found: FoundId, invoice: Payable | None) -> Verdict:
    """The state of a booked credit ``payment`` given its payment ID and the invoice it names."""
    if payment.currency != DKK:
        return Verdict(
            EntryState.ERROR,
            f"udenlandsk valuta {payment.currency}: kun DKK bogføres / foreign currency "
            f"{payment.currency}: only DKK is booked; handle it by hand",
        )
    if payment.problem:
        return Verdict(EntryState.ERROR, payment.problem)
    ore = payment.amount_ore
    if ore is None:
        return Verdict(
            EntryState.ERROR,
            f"beløbet {payment.amount} kan ikke bogføres i øre / the amount cannot be booked in "
            "øre (fractions of an øre, or too large)",
        )
    if found.error:
        return Verdict(EntryState.ERROR, found.error)
    if found.payment_id is None:
        return Verdict(EntryState.UNMATCHED, found.note)
    if invoice is None:
        return Verdict(
            EntryState.UNMATCHED,
            f"ingen opkrævning med betalings-id {found.payment_id} / no payable invoice with "
            f"payment ID {found.payment_id}",
            payment_id=found.payment_id,
        )
    due = Money(invoice.amount_due_ore)
    if not invoice.is_open:
        reason = (
            f"opkrævning {invoice.invoice_id} er {invoice.status} / invoice {invoice.invoice_id} "
            f"is {invoice.status}: overpayment of {Money(ore)}"
        )
        return Verdict(EntryState.PARTLY_MATCHED, reason, found.payment_id, invoice)
    if ore == invoice.amount_due_ore:
        return Verdict(EntryState.MATCHED, None, found.payment_id, invoice)
    kind = ("underbetaling", "underpayment") if ore < due.ore else ("overbetaling", "overpayment")
    reason = f"{kind[0]} / {kind[1]}: {Money(ore)} af / of {due}"
    return Verdict(EntryState.PARTLY_MATCHED, reason, found.payment_id, invoice)
