"""The letter outbox: invoices and reminders as rows (cheap, in the transaction that makes them),
delivered later as PDFs (Digital Post in reality; a folder here) and readable over HTTP.

A row holds the :class:`~fbs_debitor.debtor.letters.Letter` as JSON (``letter_data``): plain
values, dates as ISO text, amounts as øre. Making the row never renders anything; the delivery
job (:func:`deliver_letters`) renders each pending letter with ``letters.render_pdf`` into
``<folder>/<kommunekode>/<letter id>.pdf`` and marks it delivered.

Delivery is at-least-once: the PDF is written (atomically, through a temporary file) before the
row is marked, so a crash in between renders the same letter to the same file again. Nothing
holds a database lock while rendering, because PDFs take a while and SQLite has one writer.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from fbs_debitor.core.clock import Clock
from fbs_debitor.core.db import Database
from fbs_debitor.core.errors import NotFoundError
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.billing_tables import letters
from fbs_debitor.debtor.letters import Letter, LetterLine, render_pdf

__all__ = [
    "LETTER_COLUMNS",
    "PENDING",
    "deliver_letters",
    "encode_letter",
    "letter_data",
    "letter_from_data",
    "letter_pdf",
    "list_letters",
]

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
            LetterLine(text, Money(ore=int(ore)), tuple(materials))
            for text, ore, materials in data["lines"]
        ),
        reminder_number=data.get("reminder_number"),
        announces_collection=bool(data.get("announces_collection")),
        reference=data.get("reference", ""),
        pay_by=None if pay_by is None else date.fromisoformat(pay_by),
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


def _summary(row: Any) -> dict[str, Any]:
    data = json.loads(row.data)
    total = sum(int(ore) for _, ore, _ in data["lines"])
    return {
        "id": int(row.id),
        "kind": row.kind,
        "title": letter_from_data(data).title,
        "invoice_id": int(row.invoice_id),
        "reminder_number": row.reminder_number,
        "letter_date": row.letter_date,
        "debtor": data["debtor_masked"],
        "payment_id": data["payment_id"],
        "total_ore": total,
        "total": Money(ore=total).to_json_str(),
        "status": row.status,
        "delivered_at": row.delivered_at,
        "pdf": f"/api/v1/{row.municipality}/letters/{int(row.id)}.pdf",
    }


def list_letters(
    conn: Connection,
    municipality: str,
    *,
    account_id: int | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The municipality's letters, newest first (of one account / in one status if given).
    The debtor shows masked; the full letter is the PDF."""
    query = select(letters).where(letters.c.municipality == municipality)
    if account_id is not None:
        query = query.where(letters.c.account_id == account_id)
    if status is not None:
        query = query.where(letters.c.status == status)
    query = query.order_by(letters.c.id.desc()).limit(limit).offset(offset)
    return [_summary(r) for r in conn.execute(query)]


def load_letter(conn: Connection, municipality: str, letter_id: int) -> Letter:
    """The letter with this id in this municipality; NotFoundError otherwise."""
    data = conn.execute(
        select(letters.c.data).where(
            letters.c.municipality == municipality, letters.c.id == letter_id
        )
    ).scalar()
    if data is None:
        raise NotFoundError(f"no letter {letter_id} in this municipality", code="unknown-letter")
    return letter_from_data(json.loads(data))


def letter_pdf(conn: Connection, municipality: str, letter_id: int) -> bytes:
    """The letter rendered as PDF now (whether or not it was delivered)."""
    return render_pdf(load_letter(conn, municipality, letter_id))


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_MARK = (
    update(letters)
    .where(letters.c.id == bindparam("letter_id"), letters.c.status == PENDING)
    .values(status=DELIVERED, delivered_at=bindparam("at"), path=bindparam("file"))
)


def deliver_letters(
    db: Database,
    clock: Clock,
    folder: Path,
    *,
    municipality: str | None = None,
    batch: int = 50,
    limit: int | None = None,
) -> int:
    """Render pending letters to ``folder/<kommunekode>/<id>.pdf`` and mark them delivered, a
    batch at a time (each batch marked in one short transaction). Returns how many were
    delivered; stops after ``limit`` if given."""
    delivered = 0
    last_id = 0
    while limit is None or delivered < limit:
        size = batch if limit is None else min(batch, limit - delivered)
        query = (
            select(letters.c.id, letters.c.municipality, letters.c.data)
            .where(letters.c.status == PENDING, letters.c.id > last_id)
            .order_by(letters.c.id)
            .limit(size)
        )
        if municipality is not None:
            query = query.where(letters.c.municipality == municipality)
        with db.connect() as conn:
            pending = conn.execute(query).all()
        if not pending:
            break
        marks = []
        for letter_id, kommunekode, data in pending:
            path = folder / kommunekode / f"{int(letter_id)}.pdf"
            _write_atomically(path, render_pdf(letter_from_data(json.loads(data))))
            marks.append({"letter_id": int(letter_id), "at": clock.now(), "file": str(path)})
        with db.begin() as conn:
            conn.execute(_MARK, marks)
        delivered += len(marks)
        last_id = int(pending[-1][0])
    return delivered
