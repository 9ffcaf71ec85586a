"""What staff record on a debtor account: a payment agreement and the debtor's death.

* **Payment agreement** (afdragsordning): ``until`` a date, with a note. While the newest
  agreement of the account runs (``until >= the run date``) the dunning run sends no reminders
  for the account's invoices and writes nothing off by the minimum or limitation rules (the
  agreement acknowledges the debt). Interest, where enabled, still accrues. A new agreement
  replaces the old; one with a past ``until`` ends it.
* **Deceased**: the account is flagged with the date of death; the next dunning run writes off
  every open claim of the account and reminds no more.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, select, update

from fbs_debitor.core.clock import Clock
from fbs_debitor.core.errors import NotFoundError, ValidationError
from fbs_debitor.core.ids import mask_cprs_in_text, parse_debtor_id
from fbs_debitor.debtor.store.ledger import find_account_id
from fbs_debitor.debtor.store.tables import accounts, payment_agreements


def account_for(conn: Connection, municipality: str, debtor_id: str) -> int:
    """The account id of a CPR or CVR number; ValidationError if malformed, NotFoundError if the
    municipality has no account for it."""
    number = parse_debtor_id(debtor_id).value
    account_id = find_account_id(conn, municipality, number)
    if account_id is None:
        raise NotFoundError(
            "no debtor account for that number in this municipality", code="unknown-debtor"
        )
    return account_id


def set_payment_agreement(
    conn: Connection, clock: Clock, municipality: str, debtor_id: str, *, until: date, note: str
) -> dict[str, Any]:
    """Record a payment agreement for the debtor's account until ``until`` (the newest counts)."""
    account_id = account_for(conn, municipality, debtor_id)
    if len(note) > 2000:
        raise ValidationError("the note may have at most 2000 characters", code="note-too-long")
    conn.execute(
        payment_agreements.insert().values(
            municipality=municipality,
            account_id=account_id,
            until=until,
            note=mask_cprs_in_text(note),
            created_at=clock.now(),
        )
    )
    agreement = latest_agreement(conn, account_id, clock.today())
    assert agreement is not None
    return agreement


def latest_agreement(conn: Connection, account_id: int, today: date) -> dict[str, Any] | None:
    """The account's newest payment agreement (``active``: it runs on ``today``), or None."""
    row = conn.execute(
        select(payment_agreements)
        .where(payment_agreements.c.account_id == account_id)
        .order_by(payment_agreements.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return {
        "until": row.until,
        "note": row.note,
        "created_at": row.created_at,
        "active": row.until >= today,
    }


def mark_deceased(
    conn: Connection, clock: Clock, municipality: str, debtor_id: str, *, on: date | None = None
) -> dict[str, Any]:
    """Flag the debtor as deceased (``on``: the date of death, default today). Idempotent: a
    second call keeps the first date."""
    account_id = account_for(conn, municipality, debtor_id)
    current = conn.execute(
        select(accounts.c.deceased_on).where(accounts.c.id == account_id)
    ).scalar()
    if current is None:
        current = on or clock.today()
        conn.execute(
            update(accounts).where(accounts.c.id == account_id).values(deceased_on=current)
        )
    return {"deceased_on": current}
