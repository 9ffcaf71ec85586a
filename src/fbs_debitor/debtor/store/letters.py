"""The letter outbox: invoices and reminders as rows (cheap, in the transaction that makes them),
delivered later as PDFs (Digital Post in reality; a folder here) and readable over HTTP.
A row names its debtor only through its account; the name and address are looked up when the
letter is rendered (decision 0013).

A row holds the :class:`~fbs_debitor.debtor.model.letters.Letter` as JSON (``letter_data``): plain
values, dates as ISO text, amounts as øre. Making the row never renders anything; the delivery
job (:func:`deliver_letters`) renders each pending letter with ``letters.render_pdf`` into
``<folder>/<kommunekode>/<letter id>.pdf`` and marks it delivered.

Delivery is at-least-once: the PDF is written (atomically, through a temporary file) before the
row is marked, so a crash in between renders the same letter to the same file again. Nothing
holds a database lock while rendering, because PDFs take a while and SQLite has one writer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from fbs_debitor.core.errors import NotFoundError
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.model.letters import Letter, LetterLine
from fbs_debitor.debtor.store.tables import accounts, letters

PENDING = "pending"
DELIVERED = "delivered"

Line = tuple[str, int, Sequence[str]]
"""One letter line as plain data: (text, amount in øre, material titles)."""


def letter_data(
    *,
    kind: str,
    municipality_name: str,
    debtor_masked: str,
    letter_date: date,
    due_date: date,
    last_timely_payment_date: date,
    payment_id: str,
    creditor_number: str,
    code_line: str,
    lines: Iterable[Line],
    reminder_number: int | None = None,
    announces_collection: bool = False,
    reference: str = "",
    pay_by: date | None = None,
) -> dict[str, Any]:
    """A letter as JSON-able data (the ``data`` column); :func:`letter_from_data` reads it."""
    return {
        "kind": kind,
        "municipality_name": municipality_name,
        "debtor_masked": debtor_masked,
        "letter_date": letter_date.isoformat(),
        "due_date": due_date.isoformat(),
        "last_timely_payment_date": last_timely_payment_date.isoformat(),
        "payment_id": payment_id,
        "creditor_number": creditor_number,
        "code_line": code_line,
        "lines": [[text, ore, list(materials)] for text, ore, materials in lines],
        "reminder_number": reminder_number,
        "announces_collection": announces_collection,
        "reference": reference,
        "pay_by": None if pay_by is None else pay_by.isoformat(),
    }


FEE_LINE = "fee"
"""The fourth element of a reminder's line that is the letter's own fee."""


def _line(text: str, ore: int, materials: Sequence[str], detail: Any) -> LetterLine:
    """A line of a row's ``data``: ``[text, øre, materials]`` and, on a reminder, a fourth
    element: ``[claim id, principal, fees, interest]`` (a claim line: what is left of each, øre)
    or ``"fee"`` (:data:`FEE_LINE`, the letter's own fee). Compact lists, not objects: a run
    encodes 100,000 letters."""
    if isinstance(detail, list):
        claim_id, principal, fees, interest = detail
        return LetterLine(
            text,
            Money(ore=int(ore)),
            tuple(materials),
            claim_id=str(claim_id),
            parts=(Money(ore=int(principal)), Money(ore=int(fees)), Money(ore=int(interest))),
        )
    return LetterLine(text, Money(ore=int(ore)), tuple(materials), is_fee=detail == FEE_LINE)


def letter_from_data(data: dict[str, Any]) -> Letter:
    """The :class:`Letter` of a row's ``data``."""
    pay_by = data.get("pay_by")
    return Letter(
        kind=data["kind"],
        municipality_name=data["municipality_name"],
        debtor_masked=data["debtor_masked"],
        letter_date=date.fromisoformat(data["letter_date"]),
        due_date=date.fromisoformat(data["due_date"]),
        last_timely_payment_date=date.fromisoformat(data["last_timely_payment_date"]),
        payment_id=data["payment_id"],
        creditor_number=data["creditor_number"],
        code_line=data["code_line"],
        lines=tuple(
            _line(line[0], line[1], line[2], line[3] if len(line) > 3 else None)
            for line in data["lines"]
        ),
        reminder_number=data.get("reminder_number"),
        announces_collection=bool(data.get("announces_collection")),
        reference=data.get("reference", ""),
        pay_by=None if pay_by is None else date.fromisoformat(pay_by),
        heading=data.get("title", ""),
    )


LETTER_COLUMNS = (
    "municipality",
    "kind",
    "invoice_id",
    "account_id",
    "reminder_number",
    "letter_date",
    "data",
    "status",
    "created_at",
)
"""The columns a new letter row is inserted with (``fastsql.fast_insert``), in order; a new
letter is ``pending``, with no delivery time and no path."""


def encode_letter(data: dict[str, Any]) -> str:
    """The ``data`` column's text of a letter."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def load_letter_and_debtor(
    conn: Connection, municipality: str, letter_id: int
) -> tuple[Letter, str, str]:
    """The letter with this id in this municipality and its debtor (id type and number, from the
    account: the letter row holds no address, decision 0013); NotFoundError otherwise."""
    row = conn.execute(
        select(letters.c.data, accounts.c.id_type, accounts.c.debtor_id)
        .join(accounts, accounts.c.id == letters.c.account_id)
        .where(letters.c.municipality == municipality, letters.c.id == letter_id)
    ).first()
    if row is None:
        raise NotFoundError(f"no letter {letter_id} in this municipality", code="unknown-letter")
    return letter_from_data(json.loads(row.data)), row.id_type, row.debtor_id
