"""Tables of the debtor context and the queries on them (SQLAlchemy Core, no ORM).

Every table starts with ``debtor_`` and carries the municipality. Money is BigInteger øre;
timestamps are aware UTC (:class:`~fbs_debitor.core.db.UtcDateTime`), business dates ``Date``.

Naming: ``debtor_claim.claim_id`` is the *library's* id of the claim (the contracts' ``claim_id``);
rows that point at a claim use ``claim_pk`` for the database id, so the two never get mixed up.

Reading whole records (Claim, Account, Posting) is in :mod:`fbs_debitor.debtor.ledger`.

The hot path (a ClaimRegistered) uses the prebuilt statements below: one lookup, at most one
account insert, one claim insert, one posting insert.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from fbs_debitor.contracts.registration import ClaimKind, ClaimRegistered
from fbs_debitor.core.db import ID_TYPE, UtcDateTime, metadata
from fbs_debitor.debtor.billing_tables import (
    invoice_runs,
    invoices,
    letters,
    payment_agreements,
    payment_sequences,
    reminders,
    rules,
    write_offs,
)
from fbs_debitor.debtor.model import (
    ClaimStatus,
    Outcome,
    PostingKind,
)

ID = ID_TYPE
"""Autoincrement ids: BIGINT on PostgreSQL, INTEGER (the rowid) on SQLite."""

# Debtor's copy of the municipality's set-up (from tenants.MunicipalityConfigured).
configs = Table(
    "debtor_config",
    metadata,
    Column("municipality", String(3), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("creditor_number", String(8), nullable=False),
    Column("debtor_vendor", String(20), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# One debtor account per CPR/CVR number per municipality.
accounts = Table(
    "debtor_account",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("id_type", String(3), nullable=False),  # cpr | cvr
    # the full number: invoices and PSRM need it; never shown unmasked
    Column("debtor_id", String(10), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # set by staff: the debtor died; the next dunning run writes the account's claims off
    Column("deceased_on", Date, nullable=True),
    UniqueConstraint("municipality", "debtor_id"),
)

# The library's claims; a claim's balance is the sum of its postings, never a column.
claims = Table(
    "debtor_claim",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("claim_id", String(40), nullable=False),  # the library's id (FBS feeId)
    Column("account_id", ID, ForeignKey("debtor_account.id"), nullable=False),
    Column("claim_kind", String(40), nullable=False),
    Column("legal_basis", String(10), nullable=False),
    Column("debtor_classification", String(40), nullable=False),
    Column("psrm_claim_type", String(40), nullable=False),
    Column("patron_id", String(64), nullable=False),
    Column("created_on", Date, nullable=False),
    Column("due_date", Date, nullable=True),
    Column("acknowledged", Boolean, nullable=False),
    Column("materials", Text, nullable=False),  # JSON list of the contract's Material
    Column("invoice_text", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("leg1_ms", BigInteger, nullable=True),
    Column("last_applied_sequence", Integer, nullable=True),
    # the invoice the claim is on (None: not invoiced yet)
    Column("invoice_id", ID, ForeignKey("debtor_invoice.id"), nullable=True),
    # the last per-claim sequence used for coverage messages to the library (0: none sent)
    Column("coverage_sequence", Integer, nullable=False, default=0, server_default="0"),
    UniqueConstraint("municipality", "claim_id"),
)
Index("ix_debtor_claim_account", claims.c.account_id)
Index("ix_debtor_claim_status", claims.c.municipality, claims.c.status)
Index("ix_debtor_claim_invoice", claims.c.invoice_id)

# The append-only ledger: one row per money event on a claim; rows are never updated.
postings = Table(
    "debtor_posting",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("claim_pk", ID, ForeignKey("debtor_claim.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("amount_ore", BigInteger, nullable=False),  # signed: + raises, - lowers the balance
    Column("reverses", ID, ForeignKey("debtor_posting.id"), nullable=True),
    Column("booked_at", UtcDateTime, nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("message_id", String(36), nullable=True),
    Column("note", Text, nullable=False),
    # reminder_fee postings only: the reminder that charged the fee
    Column("reminder_id", ID, ForeignKey("debtor_reminder.id"), nullable=True),
)
Index("ix_debtor_posting_claim", postings.c.claim_pk)

# Non-money history of a claim (debtor changes, cancellation).
events = Table(
    "debtor_claim_event",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("claim_pk", ID, ForeignKey("debtor_claim.id"), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("message_id", String(36), nullable=True),
    Column("detail", Text, nullable=False),  # JSON object; CPRs masked
)
Index("ix_debtor_claim_event_claim", events.c.claim_pk)

# Every registration message debtor refused, with the code and sentence sent back.
rejections = Table(
    "debtor_rejection",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("message_id", String(36), nullable=False),
    Column("message_type", String(120), nullable=False),
    Column("claim_id", String(40), nullable=True),
    Column("code", String(60), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)
Index("ix_debtor_rejection_claim", rejections.c.municipality, rejections.c.claim_id)

# -- prebuilt statements for the hot path -----------------------------------------------------
# Built once with bind parameters, so that executing one costs no statement construction and
# SQLAlchemy finds its compiled form in the cache at once. They hold no data.

_INSERT_CLAIM = claims.insert()
_INSERT_POSTING = postings.insert()
_INSERT_EVENT = events.insert()
_INSERT_REJECTION = rejections.insert()

_ACCOUNT_ID = (
    select(accounts.c.id)
    .where(
        accounts.c.municipality == bindparam("municipality"),
        accounts.c.debtor_id == bindparam("debtor_id"),
    )
    .scalar_subquery()
)
_CLAIM_PK = (
    select(claims.c.id)
    .where(
        claims.c.municipality == bindparam("municipality"),
        claims.c.claim_id == bindparam("claim_id"),
    )
    .scalar_subquery()
)
_LOOKUP_FOR_REGISTRATION = select(_ACCOUNT_ID, _CLAIM_PK)
_FIND_ACCOUNT_ID = select(_ACCOUNT_ID)
_INSERT_ACCOUNT = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(accounts)
    .on_conflict_do_nothing(index_elements=["municipality", "debtor_id"])
    .returning(accounts.c.id)
    for dialect in (postgresql, sqlite)
}
_CLAIM_STATE = (
    select(
        claims.c.id,
        claims.c.account_id,
        claims.c.status,
        select(func.coalesce(func.sum(postings.c.amount_ore), 0))
        .where(postings.c.claim_pk == claims.c.id)
        .scalar_subquery()
        .label("balance_ore"),
        accounts.c.id_type,
        accounts.c.debtor_id,
    )
    .join_from(claims, accounts, claims.c.account_id == accounts.c.id)
    .where(
        claims.c.municipality == bindparam("municipality"),
        claims.c.claim_id == bindparam("claim_id"),
    )
)


def lookup_for_registration(
    conn: Connection, municipality: str, debtor_id: str, claim_id: str
) -> tuple[int | None, int | None]:
    """(account id of the debtor, database id of the claim), each None if missing: one query."""
    row = conn.execute(
        _LOOKUP_FOR_REGISTRATION,
        {"municipality": municipality, "debtor_id": debtor_id, "claim_id": claim_id},
    ).one()
    return (None if row[0] is None else int(row[0]), None if row[1] is None else int(row[1]))


def find_account_id(conn: Connection, municipality: str, debtor_id: str) -> int | None:
    """The id of the account for this number in this municipality, or None."""
    value = conn.execute(
        _FIND_ACCOUNT_ID, {"municipality": municipality, "debtor_id": debtor_id}
    ).scalar()
    return None if value is None else int(value)


def insert_account(
    conn: Connection, municipality: str, id_type: str, debtor_id: str, created_at: datetime
) -> int:
    """Open an account and return its id; when another transaction opened the same account
    meanwhile, return that one's id (INSERT ... ON CONFLICT DO NOTHING, then read)."""
    value = conn.execute(
        _INSERT_ACCOUNT[conn.dialect.name],
        {
            "municipality": municipality,
            "id_type": id_type,
            "debtor_id": debtor_id,
            "created_at": created_at,
        },
    ).scalar()
    if value is None:
        existing = find_account_id(conn, municipality, debtor_id)
        assert existing is not None  # the conflict says it exists
        return existing
    return int(value)


def claim_row(
    msg: ClaimRegistered,
    *,
    account_id: int,
    kind: ClaimKind,
    registered_at: datetime,
    leg1_ms: int | None,
    sequence: int | None,
    invoice_id: int | None = None,
) -> dict[str, Any]:
    """The ``debtor_claim`` row (without ``id``) of a new open claim from its registration
    (``invoice_id``: the invoice immediate mode issued for it, if any)."""
    return {
        "municipality": msg.municipality,
        "claim_id": msg.claim_id,
        "account_id": account_id,
        "claim_kind": kind.value,
        "legal_basis": kind.legal_basis.value,
        "debtor_classification": msg.debtor_classification,
        "psrm_claim_type": msg.psrm_claim_type,
        "patron_id": msg.patron_id,
        "created_on": msg.created_on,
        "due_date": msg.due_date,
        "acknowledged": msg.acknowledged,
        "materials": json.dumps([m.model_dump() for m in msg.materials], ensure_ascii=False),
        "invoice_text": msg.invoice_text,
        "status": ClaimStatus.OPEN.value,
        "registered_at": registered_at,
        "leg1_ms": leg1_ms,
        "last_applied_sequence": sequence,
        "invoice_id": invoice_id,
        "coverage_sequence": 0,
    }


def charge_row(
    msg: ClaimRegistered, claim_pk: int, booked_at: datetime, message_id: str
) -> dict[str, Any]:
    """The claim's first posting: the charge of its amount, effective on the day the library
    created the claim."""
    return {
        "municipality": msg.municipality,
        "claim_pk": claim_pk,
        "kind": PostingKind.CHARGE.value,
        "amount_ore": msg.amount_ore,
        "reverses": None,
        "booked_at": booked_at,
        "effective_on": msg.created_on,
        "message_id": message_id,
        "note": "",
    }


def insert_registered_claim(
    conn: Connection,
    msg: ClaimRegistered,
    *,
    account_id: int,
    kind: ClaimKind,
    registered_at: datetime,
    leg1_ms: int | None,
    sequence: int | None,
    message_id: str,
    invoice_id: int | None = None,
) -> int:
    """Insert a new open claim from its registration and its charge posting; returns the
    claim's database id."""
    row = claim_row(
        msg,
        account_id=account_id,
        kind=kind,
        registered_at=registered_at,
        leg1_ms=leg1_ms,
        sequence=sequence,
        invoice_id=invoice_id,
    )
    pk = conn.execute(_INSERT_CLAIM, row).inserted_primary_key
    assert pk is not None
    claim_pk = int(pk[0])
    conn.execute(_INSERT_POSTING, charge_row(msg, claim_pk, registered_at, message_id))
    return claim_pk


# -- many at once (executemany), for apply_registrations_bulk --------------------------------------

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
    stmt = _INSERT_ACCOUNT[conn.dialect.name].returning(
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
    stmt = _INSERT_CLAIM.returning(claims.c.id, claims.c.municipality, claims.c.claim_id)
    return {(m, c): int(i) for i, m, c in conn.execute(stmt, rows)}


def insert_postings(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Append many posting rows in one statement."""
    if rows:
        conn.execute(_INSERT_POSTING, rows)


def insert_rejections(conn: Connection, outcomes: list[Outcome], at: datetime) -> None:
    """Record refused messages (their outcomes) in one statement."""
    if outcomes:
        conn.execute(
            _INSERT_REJECTION,
            [
                {
                    "municipality": o.municipality,
                    "message_id": o.message_id,
                    "message_type": o.message_type,
                    "claim_id": o.claim_id or None,
                    "code": o.code,
                    "reason": o.reason,
                    "at": at,
                }
                for o in outcomes
            ],
        )


def insert_posting(conn: Connection, values: dict[str, Any]) -> None:
    """Append one posting row (every column but ``id``)."""
    conn.execute(_INSERT_POSTING, values)


def insert_event(conn: Connection, values: dict[str, Any]) -> None:
    """Append one claim event row; ``detail`` is a dict, stored as JSON."""
    conn.execute(_INSERT_EVENT, {**values, "detail": json.dumps(values["detail"])})


def claim_state(conn: Connection, municipality: str, claim_id: str) -> Any:
    """The claim's ``id``, ``account_id``, ``status``, ``balance_ore`` and its debtor's
    ``id_type`` and ``debtor_id``; None if the claim does not exist. One query."""
    return conn.execute(_CLAIM_STATE, {"municipality": municipality, "claim_id": claim_id}).first()


BILLING_TABLES = (
    rules,
    payment_sequences,
    invoices,
    invoice_runs,
    reminders,
    letters,
    payment_agreements,
    write_offs,
)
"""The tables of invoicing and dunning (defined in :mod:`~fbs_debitor.debtor.billing_tables`)."""
