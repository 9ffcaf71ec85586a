"""The held claims of a municipality (``debtor_claim.status = 'held'``), for staff: each with its
debtor, balance and the detail of its last ``held`` event (why it waits, since when)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from fbs_debitor.debtor.model.claims import ClaimStatus, EventKind
from fbs_debitor.debtor.store.ledger import BALANCE_ORE
from fbs_debitor.debtor.store.tables import accounts, claims, events, postings


def held_claims(conn: Connection, municipality: str, *, limit: int, offset: int) -> list[Any]:
    """The municipality's held claims, oldest first: ``claim_id``, ``patron_id``,
    ``claim_kind``, ``created_on``, ``registered_at``, the debtor's ``id_type`` and
    ``debtor_id`` (full: mask it), ``balance_ore``, and ``detail`` (JSON) and ``held_at`` of the
    last ``held`` event (None if it has none). One query."""
    held = events.alias("held_event")
    last_held = (
        select(func.max(held.c.id))
        .where(held.c.claim_pk == claims.c.id, held.c.kind == EventKind.HELD.value)
        .correlate(claims)
        .scalar_subquery()
    )
    balance = select(BALANCE_ORE).where(postings.c.claim_pk == claims.c.id).scalar_subquery()
    query = (
        select(
            claims.c.claim_id,
            claims.c.patron_id,
            claims.c.claim_kind,
            claims.c.created_on,
            claims.c.registered_at,
            accounts.c.id_type,
            accounts.c.debtor_id,
            balance.label("balance_ore"),
            events.c.detail,
            events.c.at.label("held_at"),
        )
        .select_from(
            claims.join(accounts, accounts.c.id == claims.c.account_id).outerjoin(
                events, events.c.id == last_held
            )
        )
        .where(claims.c.municipality == municipality, claims.c.status == ClaimStatus.HELD.value)
        .order_by(claims.c.id)
        .limit(limit)
        .offset(offset)
    )
    return list(conn.execute(query))
