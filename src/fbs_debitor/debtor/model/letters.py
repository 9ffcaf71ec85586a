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
    """One line of a letter: a claim, a reminder fee or interest."""

    text: str
    amount: Money
    materials: tuple[str, ...] = ()


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

    @property
    def total(self) -> Money:
        return Money.sum(line.amount for line in self.lines)

    @property
    def title(self) -> str:
        if self.kind == "invoice":
            return "Opkrævning"
        if self.reminder_number == 1 and not any("Rykkergebyr" in line.text for line in self.lines):
            return "Påmindelse"
        return f"Rykker {self.reminder_number or ''}".strip()
