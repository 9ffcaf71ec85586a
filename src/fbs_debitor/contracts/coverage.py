"""Coverage back to the library (leg 4), modelled on KOMBIT's DækningAfskrivningRegistreringAfsend,
and the invoice that makes a claim payable in the payment channels (leg 2).

Coverage messages are ordered per claim like registration messages, with their own key
``coverage:<municipality>:<claim_id>`` (the debtor numbers them).
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from fbs_debitor.contracts.base import Contract
from fbs_debitor.contracts.registration import ClaimMessage


class CoverageMessage(ClaimMessage):
    @property
    def ordering_key(self) -> str:
        return f"coverage:{self.municipality}:{self.claim_id}"


class ClaimCovered(CoverageMessage):
    """A payment was applied to the claim (dækning)."""

    MESSAGE_TYPE: ClassVar[str] = "coverage.ClaimCovered.v1"
    amount_ore: int = Field(gt=0)
    payment_date: date
    channel: str
    """bank (camt.054/053), cash-register, portal, manual."""
    payment_reference: str
    remaining_ore: int
    """What is left of the claim in debtor after this coverage."""


class ClaimWrittenOff(CoverageMessage):
    """The debtor system wrote the claim (or part of it) off (afskrivning)."""

    MESSAGE_TYPE: ClassVar[str] = "coverage.ClaimWrittenOff.v1"
    amount_ore: int = Field(gt=0)
    reason: str
    remaining_ore: int


class CoverageReversed(CoverageMessage):
    """An earlier coverage was reversed (a bank reversal, a refund)."""

    MESSAGE_TYPE: ClassVar[str] = "coverage.CoverageReversed.v1"
    amount_ore: int = Field(gt=0)
    payment_reference: str
    reason: str
    remaining_ore: int


class ClaimClosed(CoverageMessage):
    """Nothing more will happen to the claim in debtor (paid, written off or cancelled)."""

    MESSAGE_TYPE: ClassVar[str] = "coverage.ClaimClosed.v1"
    outcome: str
    """paid, written_off, cancelled."""


class ClaimCollectionChanged(CoverageMessage):
    """Debtor -> library: the claim went to state collection (the citizen now pays
    Gældsstyrelsen) or came back from it (the citizen pays the municipality again)."""

    MESSAGE_TYPE: ClassVar[str] = "coverage.ClaimCollectionChanged.v1"
    in_collection: bool
    """True: handed over to PSRM; False: returned to the municipality."""
    reason: str = ""
    """Why it came back (PSRM's rejection), "" when handed over."""


class InvoiceIssued(Contract):
    """Debtor -> payment channels (leg 2): the claims on this invoice are payable now."""

    MESSAGE_TYPE: ClassVar[str] = "coverage.InvoiceIssued.v1"
    invoice_id: str
    payment_id: str
    """FIK +71 payment ID (15 digits)."""
    creditor_number: str
    debtor_id_masked: str
    amount_ore: int
    due_date: date
    last_timely_payment_date: date
    claim_ids: list[str]


class InvoiceUpdated(Contract):
    """Debtor -> payment channels: what is due on an invoice now (after regulation, coverage,
    reminder fees, interest, write-off). ``status`` open, paid or closed; a closed or paid invoice
    is no longer payable. Channels keep their copy of payable invoices current with it."""

    MESSAGE_TYPE: ClassVar[str] = "coverage.InvoiceUpdated.v1"
    invoice_id: str
    payment_id: str
    amount_due_ore: int
    status: str


COVERAGE_MESSAGES: tuple[type[Contract], ...] = (
    ClaimCovered,
    ClaimWrittenOff,
    CoverageReversed,
    ClaimClosed,
    ClaimCollectionChanged,
    InvoiceIssued,
    InvoiceUpdated,
)
