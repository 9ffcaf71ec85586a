"""Payments from the channels to debtor (leg 3): bank notifications (camt.054/053), cash
registers, the citizen portal.

Every payment carries its natural idempotency key in ``payment_ref`` (``bank:<account servicer
reference>``, ``register:<receipt number>``, ``portal:<gateway payment id>``): debtor applies a
payment once per key, whatever the channel sends twice.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from fbs_debitor.contracts.base import Contract
from fbs_debitor.contracts.registration import DebtorRef


class PaymentReceived(Contract):
    """Money arrived; debtor allocates it (afstemning) and covers claims."""

    MESSAGE_TYPE: ClassVar[str] = "payment.PaymentReceived.v1"
    payment_ref: str = Field(min_length=1, max_length=120)
    channel: str
    """bank, cash-register, portal."""
    booked_on: date
    """The day the money was booked (bank booking date, till receipt date)."""
    amount_ore: int = Field(gt=0)
    payment_id: str | None = None
    """FIK payment ID (15 digits, check digit valid) when the payer used the slip."""
    invoice_id: str | None = None
    debtor: DebtorRef | None = None
    """Who paid, when the channel knows (the cash register does)."""
    claim_ids: list[str] = Field(default_factory=list)
    """Claims the payer chose (cash register, portal); empty: debtor's allocation order."""
    payer_text: str = ""
    """Free text from the payment (remittance information), CPR numbers masked."""


class PaymentReversed(Contract):
    """An earlier payment was reversed by the bank (or refunded)."""

    MESSAGE_TYPE: ClassVar[str] = "payment.PaymentReversed.v1"
    payment_ref: str
    """The key of the reversed payment."""
    reversal_ref: str
    amount_ore: int = Field(gt=0)
    reason: str = ""


class PaymentAllocated(Contract):
    """Debtor -> channels: how a payment was applied (for the channel's own state)."""

    MESSAGE_TYPE: ClassVar[str] = "payment.PaymentAllocated.v1"
    payment_ref: str
    outcome: str
    """matched (paid what was due), partly_matched (less or more than due), unmatched."""
    covered_ore: int
    credit_ore: int
    """Overpayment kept as credit on the debtor account (or to be refunded)."""
    reason: str = ""
    claim_ids: list[str] = Field(default_factory=list)


PAYMENT_MESSAGES: tuple[type[Contract], ...] = (PaymentReceived, PaymentReversed, PaymentAllocated)
