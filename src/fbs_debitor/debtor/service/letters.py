"""Letters out: a letter as PDF for staff, and the delivery of pending letters (Digital Post in
reality; a folder here), each file written atomically and marked delivered once."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from sqlalchemy import Connection, bindparam, select, update

from fbs_debitor.core.clock import Clock
from fbs_debitor.core.db import Database
from fbs_debitor.debtor.adapters.pdf import render_pdf
from fbs_debitor.debtor.store.letters import DELIVERED, PENDING, letter_from_data, load_letter
from fbs_debitor.debtor.store.tables import letters


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
