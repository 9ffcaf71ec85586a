"""Registrations many at once (executemany), for ``service.bulk_intake``: which claims and
accounts exist, and inserting many accounts and claims in one statement each (their postings go
through :func:`~fbs_debitor.debtor.store.ledger.append_postings`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from fbs_debitor.debtor.store.ledger import INSERT_ACCOUNT, INSERT_CLAIM
from fbs_debitor.debtor.store.tables import accounts, claims

Key = tuple[str, str]
"""(municipality, number or claim id): the natural key of an account or a claim."""


def _by_municipality(keys: set[Key]) -> dict[str, list[str]]:
    """The second halves of ``keys`` per municipality."""
    out: dict[str, list[str]] = {}
    for municipality, value in keys:
        out.setdefault(municipality, []).append(value)
    return out


def existing_claims(conn: Connection, keys: set[Key]) -> set[Key]:
    """Which of the (municipality, claim id) pairs exist already.

    One query per municipality with ``municipality = :m AND claim_id IN (...)``: PostgreSQL
    plans a row-value ``(municipality, claim_id) IN (...)`` list of thousands as a scan of the
    whole table, which made every batch slower than the last."""
    found: set[Key] = set()
    for municipality, ids in _by_municipality(keys).items():
        rows = conn.execute(
            select(claims.c.claim_id).where(
                claims.c.municipality == municipality, claims.c.claim_id.in_(ids)
            )
        )
        found.update((municipality, c) for (c,) in rows)
    return found


def account_ids(conn: Connection, keys: set[Key]) -> dict[Key, int]:
    """The account ids of those (municipality, debtor number) pairs that have an account (one
    query per municipality, as in :func:`existing_claims`)."""
    found: dict[Key, int] = {}
    for municipality, numbers in _by_municipality(keys).items():
        rows = conn.execute(
            select(accounts.c.debtor_id, accounts.c.id).where(
                accounts.c.municipality == municipality, accounts.c.debtor_id.in_(numbers)
            )
        )
        found.update(((municipality, d), int(i)) for d, i in rows)
    return found


def insert_accounts(conn: Connection, rows: list[dict[str, Any]]) -> dict[Key, int]:
    """Open many accounts in one statement; returns the id of each, also of those another
    transaction opened meanwhile."""
    if not rows:
        return {}
    stmt = INSERT_ACCOUNT[conn.dialect.name].returning(
        accounts.c.municipality, accounts.c.debtor_id
    )
    ids = {(m, d): int(i) for i, m, d in conn.execute(stmt, rows)}
    missing = {(r["municipality"], r["debtor_id"]) for r in rows} - set(ids)
    ids.update(account_ids(conn, missing))
    return ids


def insert_claims(conn: Connection, rows: list[dict[str, Any]]) -> dict[Key, int]:
    """Insert many claim rows in one statement; returns each claim's database id."""
    if not rows:
        return {}
    stmt = INSERT_CLAIM.returning(claims.c.id, claims.c.municipality, claims.c.claim_id)
    return {(m, c): int(i) for i, m, c in conn.execute(stmt, rows)}
