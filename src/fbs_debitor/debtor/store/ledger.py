"""Queries of the debtor ledger: accounts, claims, postings, events and rejections, written
and read as whole records (:class:`~fbs_debitor.debtor.model.claims.Claim`, ``Account``,
``Posting``). The tables are in :mod:`~fbs_debitor.debtor.store.tables`.

The hot path (a ClaimRegistered) uses the prebuilt statements below: one lookup, at most one
account insert, one claim insert, one posting insert.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Join,
    bindparam,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from fbs_debitor.contracts.registration import ClaimKind, ClaimRegistered, LegalBasis
from fbs_debitor.core.fastsql import fast_insert
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.model.claims import (
    Account,
    Claim,
    ClaimEvent,
    ClaimStatus,
    EventKind,
    IdType,
    Outcome,
)
from fbs_debitor.debtor.model.ledger import Posting, PostingKind
from fbs_debitor.debtor.model.regulation import ClaimParts, parts_of
from fbs_debitor.debtor.store.tables import accounts, claims, events, postings, rejections

# -- the one query of a claim's balance --------------------------------------------------------------

BALANCE_ORE: ColumnElement[int] = func.coalesce(func.sum(postings.c.amount_ore), 0)
"""A claim's balance in øre: the sum of its postings (0 without any). An aggregate: select it
from :func:`with_postings` grouped by ``claims.c.id``. Every read of a balance goes through it
(:func:`claim_balances`, and the set-based reads of invoicing, write-off, credit, views, guard)."""


PRINCIPAL_ORE: ColumnElement[int] = func.coalesce(
    func.sum(postings.c.amount_ore - postings.c.fee_part_ore), 0
)
"""What is left of a claim's principal in øre (the library's amount, as regulated, less what
covered, wrote off or cancelled it): an aggregate like :data:`BALANCE_ORE`."""

FEES_ORE: ColumnElement[int] = func.coalesce(func.sum(postings.c.fee_part_ore), 0)
"""What is left of debtor's own reminder fees and interest on a claim in øre (an aggregate)."""


def with_postings(left: FromClause = claims) -> Join:
    """``left`` (``debtor_claim`` or a join that holds it) outer-joined to each claim's postings,
    for :data:`BALANCE_ORE`."""
    return left.outerjoin(postings, postings.c.claim_pk == claims.c.id)


def claim_balances(conn: Connection, claim_pks: Sequence[int]) -> dict[int, Money]:
    """The balance of each claim (by database id; a claim that does not exist is missing)."""
    out: dict[int, Money] = {}
    pks = sorted(set(claim_pks))
    for start in range(0, len(pks), 900):
        rows = conn.execute(
            select(claims.c.id, BALANCE_ORE)
            .select_from(with_postings())
            .where(claims.c.id.in_(pks[start : start + 900]))
            .group_by(claims.c.id)
        )
        out.update((int(pk), Money(ore=int(total))) for pk, total in rows)
    return out


def claim_balance(conn: Connection, claim_pk: int) -> Money:
    """The balance of one claim (it must exist)."""
    return claim_balances(conn, [claim_pk])[claim_pk]


# -- prebuilt statements for the hot path -----------------------------------------------------
# Built once with bind parameters, so that executing one costs no statement construction and
# SQLAlchemy finds its compiled form in the cache at once. They hold no data.

INSERT_CLAIM = claims.insert()
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
INSERT_ACCOUNT = {
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
        select(BALANCE_ORE)
        .where(postings.c.claim_pk == claims.c.id)
        .scalar_subquery()
        .label("balance_ore"),
        select(PRINCIPAL_ORE)
        .where(postings.c.claim_pk == claims.c.id)
        .scalar_subquery()
        .label("principal_ore"),
        accounts.c.id_type,
        accounts.c.debtor_id,
    )
    .join_from(claims, accounts, claims.c.account_id == accounts.c.id)
    .where(
        claims.c.municipality == bindparam("municipality"),
        claims.c.claim_id == bindparam("claim_id"),
    )
)


# -- the one writer of postings ------------------------------------------------------------------

POSTING_COLUMNS = (
    "municipality",
    "claim_pk",
    "kind",
    "amount_ore",
    "reverses",
    "booked_at",
    "effective_on",
    "message_id",
    "note",
    "reminder_id",
    "fee_part_ore",
)
"""The columns every posting is written with, in the order of :func:`_posting_values`."""


def _posting_values(p: Posting) -> tuple[Any, ...]:
    """The row of a posting, in the order of :data:`POSTING_COLUMNS` (Python values)."""
    if p.claim_pk is None or not p.municipality:
        raise ValueError(f"a {p.kind.value} posting to store needs its claim and municipality")
    return (
        p.municipality,
        p.claim_pk,
        p.kind.value,
        p.amount.ore,
        p.reverses,
        p.booked_at,
        p.effective_on,
        p.message_id,
        p.note,
        p.reminder_id,
        p.fees_ore,
    )


def _converter(conn: Connection, column: str) -> Any:
    """The bind processor of a date or timestamp column, remembering each value it converted
    (a run shares one "now" and one business date); the identity where the driver needs none."""
    dialect = conn.dialect
    processor = postings.c[column].type.dialect_impl(dialect).bind_processor(dialect)
    if processor is None:
        return lambda value: value
    cache: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        done = cache.get(value)
        if done is None:
            done = cache[value] = processor(value)
        return done

    return convert


def append_postings(conn: Connection, new: Sequence[Posting]) -> None:
    """Append postings to the ledger: the only way a posting is written.

    One posting (a regulation, a charge) is one prebuilt ``INSERT``; many (a run of
    registrations, payments, a dunning run) are one bulk insert (:func:`fast_insert`: COPY on
    PostgreSQL, executemany on SQLite), with the timestamp and date columns converted once per
    distinct value.
    """
    if not new:
        return
    if len(new) == 1:
        conn.execute(
            _INSERT_POSTING, dict(zip(POSTING_COLUMNS, _posting_values(new[0]), strict=True))
        )
        return
    for p in new:
        if p.claim_pk is None or not p.municipality:
            _posting_values(p)  # raises, naming the posting
    booked = _converter(conn, "booked_at")
    effective = _converter(conn, "effective_on")
    rows = [
        (
            p.municipality,
            p.claim_pk,
            p.kind.value,
            p.amount.ore,
            p.reverses,
            booked(p.booked_at),
            effective(p.effective_on),
            p.message_id,
            p.note,
            p.reminder_id,
            p.fees_ore,
        )
        for p in new
    ]
    fast_insert(conn, postings, POSTING_COLUMNS, rows)


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
        INSERT_ACCOUNT[conn.dialect.name],
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
    status: ClaimStatus = ClaimStatus.OPEN,
) -> dict[str, Any]:
    """The ``debtor_claim`` row (without ``id``) of a new claim from its registration
    (``invoice_id``: the invoice immediate mode issued for it, if any; ``status``: open, or
    held when its debtor is a minor)."""
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
        "status": status.value,
        "registered_at": registered_at,
        "leg1_ms": leg1_ms,
        "last_applied_sequence": sequence,
        "invoice_id": invoice_id,
        "coverage_sequence": 0,
    }


def charge_posting(
    msg: ClaimRegistered, claim_pk: int, booked_at: datetime, message_id: str
) -> Posting:
    """The claim's first posting: the charge of its amount, effective on the day the library
    created the claim."""
    return Posting(
        kind=PostingKind.CHARGE,
        amount=Money(ore=msg.amount_ore),
        effective_on=msg.created_on,
        booked_at=booked_at,
        message_id=message_id,
        claim_pk=claim_pk,
        municipality=msg.municipality,
    )


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
    status: ClaimStatus = ClaimStatus.OPEN,
) -> int:
    """Insert a new claim (open, or held) from its registration and its charge posting;
    returns the claim's database id."""
    row = claim_row(
        msg,
        account_id=account_id,
        kind=kind,
        registered_at=registered_at,
        leg1_ms=leg1_ms,
        sequence=sequence,
        invoice_id=invoice_id,
        status=status,
    )
    pk = conn.execute(INSERT_CLAIM, row).inserted_primary_key
    assert pk is not None
    claim_pk = int(pk[0])
    append_postings(conn, [charge_posting(msg, claim_pk, registered_at, message_id)])
    return claim_pk


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


def insert_event(conn: Connection, values: dict[str, Any]) -> None:
    """Append one claim event row; ``detail`` is a dict, stored as JSON."""
    conn.execute(_INSERT_EVENT, {**values, "detail": json.dumps(values["detail"])})


def claim_state(conn: Connection, municipality: str, claim_id: str) -> Any:
    """The claim's ``id``, ``account_id``, ``status``, ``balance_ore`` and its debtor's
    ``id_type`` and ``debtor_id``; None if the claim does not exist. One query."""
    return conn.execute(_CLAIM_STATE, {"municipality": municipality, "claim_id": claim_id}).first()


def to_claim(row: Any) -> Claim:
    """A ``debtor_claim`` row as a :class:`Claim`."""
    return Claim(
        id=int(row.id),
        municipality=row.municipality,
        claim_id=row.claim_id,
        account_id=int(row.account_id),
        claim_kind=ClaimKind(row.claim_kind),
        legal_basis=LegalBasis(row.legal_basis),
        debtor_classification=row.debtor_classification,
        psrm_claim_type=row.psrm_claim_type,
        patron_id=row.patron_id,
        created_on=row.created_on,
        due_date=row.due_date,
        acknowledged=bool(row.acknowledged),
        materials=tuple(json.loads(row.materials)),
        invoice_text=row.invoice_text,
        status=ClaimStatus(row.status),
        registered_at=row.registered_at,
        leg1_ms=None if row.leg1_ms is None else int(row.leg1_ms),
        last_applied_sequence=row.last_applied_sequence,
    )


def to_account(row: Any) -> Account:
    """A ``debtor_account`` row as an :class:`Account`."""
    return Account(
        id=int(row.id),
        municipality=row.municipality,
        id_type=IdType(row.id_type),
        debtor_id=row.debtor_id,
        created_at=row.created_at,
    )


def load_claim(conn: Connection, municipality: str, claim_id: str) -> Claim | None:
    """The claim with the library's ``claim_id`` in ``municipality``, or None."""
    row = conn.execute(
        select(claims).where(claims.c.municipality == municipality, claims.c.claim_id == claim_id)
    ).first()
    return None if row is None else to_claim(row)


def load_account(conn: Connection, account_id: int) -> Account:
    """The account with this database id (it must exist)."""
    return to_account(conn.execute(select(accounts).where(accounts.c.id == account_id)).one())


def claims_of_account(conn: Connection, account_id: int) -> list[Claim]:
    """Every claim on the account, oldest first."""
    rows = conn.execute(
        select(claims).where(claims.c.account_id == account_id).order_by(claims.c.id)
    )
    return [to_claim(r) for r in rows]


def postings_of(conn: Connection, claim_pks: list[int]) -> dict[int, list[Posting]]:
    """The postings of each claim (by database id), in booking order."""
    out: dict[int, list[Posting]] = {pk: [] for pk in claim_pks}
    if not claim_pks:
        return out
    rows = conn.execute(
        select(postings).where(postings.c.claim_pk.in_(claim_pks)).order_by(postings.c.id)
    )
    for r in rows:
        out[int(r.claim_pk)].append(
            Posting(
                kind=PostingKind(r.kind),
                amount=Money(ore=int(r.amount_ore)),
                effective_on=r.effective_on,
                booked_at=r.booked_at,
                reverses=None if r.reverses is None else int(r.reverses),
                message_id=r.message_id,
                note=r.note,
                id=int(r.id),
                fee_part=Money(ore=int(r.fee_part_ore)),
            )
        )
    return out


def events_of(conn: Connection, claim_pks: list[int]) -> dict[int, list[ClaimEvent]]:
    """The events of each claim (by database id), in order."""
    out: dict[int, list[ClaimEvent]] = {pk: [] for pk in claim_pks}
    if not claim_pks:
        return out
    rows = conn.execute(
        select(events).where(events.c.claim_pk.in_(claim_pks)).order_by(events.c.id)
    )
    for r in rows:
        out[int(r.claim_pk)].append(
            ClaimEvent(
                kind=EventKind(r.kind),
                at=r.at,
                message_id=r.message_id,
                detail=json.loads(r.detail),
            )
        )
    return out


def claim_parts(conn: Connection, claim_pk: int) -> ClaimParts:
    """Where the claim stands (:func:`~fbs_debitor.debtor.model.regulation.parts_of`): one
    read of its postings, each with the kind of the posting it reverses."""
    reversed_ = postings.alias("reversed")
    rows = conn.execute(
        select(postings.c.kind, postings.c.amount_ore, postings.c.fee_part_ore, reversed_.c.kind)
        .select_from(postings.outerjoin(reversed_, reversed_.c.id == postings.c.reverses))
        .where(postings.c.claim_pk == claim_pk)
        .order_by(postings.c.id)
    )
    return parts_of(
        (PostingKind(k), int(a), int(f), None if r is None else PostingKind(r))
        for k, a, f, r in rows
    )
