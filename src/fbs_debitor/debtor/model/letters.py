"""Letters to debtors: the invoice (opkrævning) with its FIK payment slip, and reminders
(påmindelse / rykker), as HTML and PDF (WeasyPrint). In Danish, like the real ones.

A letter is rendered from a :class:`Letter`: plain data, no database. Sending (Digital Post in
reality; a folder and an HTTP endpoint here) is the letter outbox's job, not this module's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from fbs_debitor.core.money import Money

MONTHS = [
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
]


def danish_date(d: date) -> str:
    """``16. marts 2026``."""
    return f"{d.day}. {MONTHS[d.month - 1]} {d.year}"


@dataclass(frozen=True, slots=True)
class LetterLine:
    """One line of a letter: a claim, or a reminder letter's own fee.

    amount:   what the line adds to the letter's total.
    claim_id: the library's id of the claim on the line ("" on other lines and old letters).
    parts:    on a reminder's claim line: what is left of the claim's principal, of its reminder
              fees so far and of its interest (they add up to ``amount``); None elsewhere.
    is_fee:   the line is this reminder letter's one fee.
    """

    text: str
    amount: Money
    materials: tuple[str, ...] = ()
    claim_id: str = ""
    parts: tuple[Money, Money, Money] | None = None
    is_fee: bool = False


@dataclass(frozen=True, slots=True)
class Letter:
    """Everything a letter shows.

    kind: ``invoice`` or ``reminder``.
    debtor_masked: the CPR masked (DDMMYY-XXXX) or the CVR; the full number is never printed.
    code_line: the FIK line ``+71<payment id+creditor<``.
    reminder_number: 1, 2, ... for reminders; None for the invoice.
    announces_collection: the letter tells the debtor the claim goes to the state debt collector.
    pay_by: a reminder's new date to pay by (the SRB stays the invoice's and has passed); None on
        an invoice, where the SRB is the date to pay by.
    heading: the reminder's title as the run fixed it from the rules ("Påmindelse", "1. rykker",
        ...); "" on invoices and on letters made before titles were stored.
    """

    kind: str
    municipality_name: str
    debtor_masked: str
    letter_date: date
    due_date: date
    last_timely_payment_date: date
    payment_id: str
    creditor_number: str
    code_line: str
    lines: tuple[LetterLine, ...]
    reminder_number: int | None = None
    announces_collection: bool = False
    reference: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    pay_by: date | None = None
    heading: str = ""

    @property
    def total(self) -> Money:
        return Money.sum(line.amount for line in self.lines)

    @property
    def fee(self) -> Money | None:
        """This reminder letter's one fee, if it carries one."""
        return next((line.amount for line in self.lines if line.is_fee), None)

    @property
    def itemised(self) -> bool:
        """Whether the claim lines show principal, fees and interest apart."""
        return any(line.parts is not None for line in self.lines)

    @property
    def title(self) -> str:
        if self.kind == "invoice":
            return "Opkrævning"
        if self.heading:
            return self.heading
        # letters made before the run stored their title
        if self.reminder_number == 1 and not any("Rykkergebyr" in line.text for line in self.lines):
            return "Påmindelse"
        return f"Rykker {self.reminder_number or ''}".strip()
