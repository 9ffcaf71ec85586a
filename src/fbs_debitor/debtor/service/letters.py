"""Letters out: a letter as PDF for staff, and the delivery of pending letters (Digital Post in
reality; a folder here), each file written atomically and marked delivered once.

The debtor's name and address are looked up when the letter is rendered, not when the letter row
is made (decision 0013): the address is the one that is current when the letter leaves, and the
dunning run, which makes up to a hundred thousand letter rows, never calls a register. A letter
the look-up cannot address stays pending with the reason (``hold_reason``) and is tried again
later (``next_attempt_at``); it never leaves without an address.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, bindparam, or_, select, update

from fbs_debitor.core.clock import Clock
from fbs_debitor.core.db import Database
from fbs_debitor.core.errors import ValidationError
from fbs_debitor.core.ids import Cpr, Cvr
from fbs_debitor.debtor.adapters.address.lookup import AddressLookup, AddressLookupError
from fbs_debitor.debtor.adapters.pdf import render_pdf
from fbs_debitor.debtor.model.addresses import LookupResult, NoAddress, NoAddressReason
from fbs_debitor.debtor.model.claims import parse_debtor
from fbs_debitor.debtor.store.letters import (
    DELIVERED,
    PENDING,
    letter_from_data,
    load_letter_and_debtor,
)
from fbs_debitor.debtor.store.tables import accounts, letters

log = logging.getLogger(__name__)

NO_ADDRESS_RETRY = timedelta(days=1)
"""When a letter whose debtor the register has no address for is tried again (the register is
updated daily; staff may also change the claim's debtor)."""

LOOKUP_FAILED_RETRY = timedelta(minutes=10)
"""When a letter whose look-up failed (register down, timeout) is tried again."""


def _look_up(lookup: AddressLookup, id_type: str, number: str, municipality: str) -> LookupResult:
    """The recipient of a letter to the account's debtor. A number that no longer parses (it
    passed intake, so this is a data error) counts as unknown to the register."""
    try:
        debtor: Cpr | Cvr = parse_debtor(id_type, number)
    except ValidationError:
        return NoAddress(NoAddressReason.UNKNOWN)
    return lookup.lookup(debtor, municipality)


def letter_pdf(conn: Connection, municipality: str, letter_id: int, lookup: AddressLookup) -> bytes:
    """The letter rendered as PDF now (whether or not it was delivered), addressed as the
    register has the debtor now. Without an address (none found, or the look-up failed) the
    window says why: this is the staff's copy, not a letter that leaves."""
    letter, id_type, number = load_letter_and_debtor(conn, municipality, letter_id)
    try:
        result = _look_up(lookup, id_type, number, municipality)
    except AddressLookupError as error:
        return render_pdf(letter, address_note=error.detail)
    if isinstance(result, NoAddress):
        return render_pdf(letter, address_note=result.text)
    return render_pdf(letter, result)


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
    .values(
        status=DELIVERED,
        delivered_at=bindparam("at"),
        path=bindparam("file"),
        hold_reason=None,
        next_attempt_at=None,
    )
)

_HOLD = (
    update(letters)
    .where(letters.c.id == bindparam("letter_id"), letters.c.status == PENDING)
    .values(hold_reason=bindparam("reason"), next_attempt_at=bindparam("retry_at"))
)


def deliver_letters(
    db: Database,
    clock: Clock,
    folder: Path,
    *,
    lookup: AddressLookup,
    municipality: str | None = None,
    batch: int = 50,
    limit: int | None = None,
) -> int:
    """Render pending letters to ``folder/<kommunekode>/<id>.pdf``, addressed by ``lookup``, and
    mark them delivered, a batch at a time (each batch marked in one short transaction; no
    transaction is open during a look-up or a rendering). Returns how many were delivered;
    stops after ``limit`` if given.

    A letter the register has no address for is held with the reason and tried again after
    ``NO_ADDRESS_RETRY``; one whose look-up fails is held and tried again after
    ``LOOKUP_FAILED_RETRY``, and the run stops there (the register is down for the letters after
    it too). A debtor asked once in a run is not asked again in that run."""
    delivered = 0
    last_id = 0
    answers: dict[tuple[str, str, str], LookupResult] = {}
    while limit is None or delivered < limit:
        size = batch if limit is None else min(batch, limit - delivered)
        now = clock.now()
        query = (
            select(
                letters.c.id,
                letters.c.municipality,
                letters.c.data,
                accounts.c.id_type,
                accounts.c.debtor_id,
            )
            .join(accounts, accounts.c.id == letters.c.account_id)
            .where(
                letters.c.status == PENDING,
                letters.c.id > last_id,
                or_(letters.c.next_attempt_at.is_(None), letters.c.next_attempt_at <= now),
            )
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
        holds = []
        failed = False
        for letter_id, kommunekode, data, id_type, number in pending:
            key = (kommunekode, id_type, number)
            try:
                result = (
                    answers[key]
                    if key in answers
                    else _look_up(lookup, id_type, number, kommunekode)
                )
            except AddressLookupError as error:
                holds.append(_hold(int(letter_id), error.detail, now + LOOKUP_FAILED_RETRY))
                failed = True
                break
            answers[key] = result
            if isinstance(result, NoAddress):
                holds.append(_hold(int(letter_id), result.text, now + NO_ADDRESS_RETRY))
                continue
            path = folder / kommunekode / f"{int(letter_id)}.pdf"
            _write_atomically(path, render_pdf(letter_from_data(json.loads(data)), result))
            marks.append({"letter_id": int(letter_id), "at": clock.now(), "file": str(path)})
        with db.begin() as conn:
            if marks:
                conn.execute(_MARK, marks)
            if holds:
                conn.execute(_HOLD, holds)
        delivered += len(marks)
        if failed:
            break
        last_id = int(pending[-1][0])
    return delivered


def _hold(letter_id: int, reason: str, retry_at: datetime) -> dict[str, object]:
    """A pending letter that waits for its address; logged with the letter id and the reason
    (neither holds the debtor's number)."""
    log.warning("letter %d waits for its address: %s", letter_id, reason)
    return {"letter_id": letter_id, "reason": reason, "retry_at": retry_at}
