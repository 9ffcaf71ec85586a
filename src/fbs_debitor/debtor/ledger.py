"""Reading the debtor ledger: account and claim views, balances for reconciliation, and the
ledger guard.

The guard (:func:`check_ledger`, after pretix's transaction check) lists every claim whose state
disagrees with its postings. Tests call it after every test that changes claims; an operator can
run it at any time. An empty list means the ledger is sound.

It also reads whole records (:class:`~fbs_debitor.debtor.model.Claim`, ``Account``, ``Posting``,
``ClaimEvent``) for whoever needs them. Views mask CPR numbers ("DDMMYY-XXXX"); the full number never leaves this module.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from fbs_debitor.contracts.registration import ClaimKind, LegalBasis
from fbs_debitor.core.errors import NotFoundError
from fbs_debitor.core.ids import parse_debtor_id
from fbs_debitor.core.money import Money
from fbs_debitor.debtor import store
from fbs_debitor.debtor.billing_guard import check_billing
from fbs_debitor.debtor.billing_view import account_billing
from fbs_debitor.debtor.credit import credit_view
from fbs_debitor.debtor.model import (
    Account,
    Claim,
    ClaimEvent,
    ClaimStatus,
    EventKind,
    IdType,
    Posting,
    PostingKind,
    balance,
    principal_and_fees,
)
from fbs_debitor.debtor.store import accounts, claims, events, postings, rejections

__all__ = [
    "account_view",
    "check_ledger",
    "claim_balances",
    "claims_of_account",
    "events_of",
    "get_claim",
    "list_rejections",
    "load_account",
    "load_claim",
    "postings_of",
]

_PLUS = [k.value for k in PostingKind if k.sign > 0]
_MINUS = [k.value for k in PostingKind if k.sign < 0]
_SETTLED = {ClaimStatus.CANCELLED.value, ClaimStatus.PAID.value, ClaimStatus.WRITTEN_OFF.value}


# -- whole records ----------------------------------------------------------------------


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


# -- views ----------------------------------------------------------------------------------------


def _posting_dict(p: Posting) -> dict[str, Any]:
    return {
        "id": p.id,
        "kind": p.kind.value,
        "amount_ore": p.amount.ore,
        "amount": p.amount.to_json_str(),
        "effective_on": p.effective_on,
        "booked_at": p.booked_at,
        "reverses": p.reverses,
        "message_id": p.message_id,
        "note": p.note,
    }


def _claim_dict(
    claim: Claim, claim_postings: list[Posting], claim_events: list[ClaimEvent]
) -> dict[str, Any]:
    registered = {
        "kind": EventKind.REGISTERED.value,
        "at": claim.registered_at,
        "message_id": next(
            (p.message_id for p in claim_postings if p.kind is PostingKind.CHARGE), None
        ),
        "detail": {},
    }
    total = balance(claim_postings)
    return {
        "claim_id": claim.claim_id,
        "claim_kind": claim.claim_kind.value,
        "legal_basis": claim.legal_basis.value,
        "debtor_classification": claim.debtor_classification,
        "psrm_claim_type": claim.psrm_claim_type,
        "patron_id": claim.patron_id,
        "created_on": claim.created_on,
        "due_date": claim.due_date,
        "acknowledged": claim.acknowledged,
        "materials": list(claim.materials),
        "invoice_text": claim.invoice_text,
        "status": claim.status.value,
        "registered_at": claim.registered_at,
        "leg1_ms": claim.leg1_ms,
        "last_applied_sequence": claim.last_applied_sequence,
        "balance_ore": total.ore,
        "balance": total.to_json_str(),
        "postings": [_posting_dict(p) for p in claim_postings],
        "events": [
            registered,
            *(
                {"kind": e.kind.value, "at": e.at, "message_id": e.message_id, "detail": e.detail}
                for e in claim_events
            ),
        ],
    }


def _debtor_dict(account: Account) -> dict[str, Any]:
    return {"debtor": account.masked, "id_type": account.id_type.value}


def account_view(
    conn: Connection, municipality: str, debtor_id: str, today: date | None = None
) -> dict[str, Any]:
    """The debtor's account: its claims with balances, postings and events, its invoices (with
    the amount due derived from the claims), reminders, letters, payment agreement (``active``
    as of ``today``, if given), balance, credit (and any shortfall) and refunds; the CPR
    masked.

    ``debtor_id`` is a CPR (10 digits) or a CVR (8 digits). Raises ValidationError for a
    malformed number and NotFoundError when the municipality has no account for it.
    """
    number = parse_debtor_id(debtor_id).value
    account_id = store.find_account_id(conn, municipality, number)
    if account_id is None:
        raise NotFoundError(
            "no debtor account for that number in this municipality", code="unknown-debtor"
        )
    account = load_account(conn, account_id)
    account_claims = claims_of_account(conn, account_id)
    pks = [c.id for c in account_claims]
    by_claim = postings_of(conn, pks)
    events_by_claim = events_of(conn, pks)
    views = [_claim_dict(c, by_claim[c.id], events_by_claim[c.id]) for c in account_claims]
    total = Money(ore=sum(v["balance_ore"] for v in views))
    return {
        "municipality": municipality,
        **_debtor_dict(account),
        "created_at": account.created_at,
        "balance_ore": total.ore,
        "balance": total.to_json_str(),
        "claims": views,
        **account_billing(conn, municipality, account_id, today),
        **credit_view(conn, municipality, account_id),
    }


def get_claim(conn: Connection, municipality: str, claim_id: str) -> dict[str, Any]:
    """One claim with its debtor (masked), postings, events, balance and leg-1 delay.

    Raises NotFoundError if the municipality has no claim with the library's ``claim_id``.
    """
    claim = load_claim(conn, municipality, claim_id)
    if claim is None:
        raise NotFoundError(f"unknown claim {claim_id}", code="unknown-claim")
    account = load_account(conn, claim.account_id)
    view = _claim_dict(
        claim,
        postings_of(conn, [claim.id])[claim.id],
        events_of(conn, [claim.id])[claim.id],
    )
    return {"municipality": municipality, **_debtor_dict(account), **view}


def claim_balances(conn: Connection, municipality: str) -> dict[str, int]:
    """The library's claim id → the claim's balance in øre, for every claim of the municipality
    (for reconciliation against the library)."""
    rows = conn.execute(
        select(claims.c.claim_id, func.coalesce(func.sum(postings.c.amount_ore), 0))
        .select_from(claims.outerjoin(postings, postings.c.claim_pk == claims.c.id))
        .where(claims.c.municipality == municipality)
        .group_by(claims.c.id, claims.c.claim_id)
    )
    return {claim_id: int(total) for claim_id, total in rows}


def list_rejections(
    conn: Connection, municipality: str, claim_id: str | None = None
) -> list[dict[str, Any]]:
    """The refused messages of the municipality (of one claim if given), oldest first."""
    query = select(
        rejections.c.message_id,
        rejections.c.message_type,
        rejections.c.claim_id,
        rejections.c.code,
        rejections.c.reason,
        rejections.c.at,
    ).where(rejections.c.municipality == municipality)
    if claim_id is not None:
        query = query.where(rejections.c.claim_id == claim_id)
    return [dict(r._mapping) for r in conn.execute(query.order_by(rejections.c.id))]


def check_ledger(conn: Connection, municipality: str | None = None) -> list[str]:
    """Every disagreement between claims and their postings, one sentence each ([] = sound).

    Checked: every claim has its charge posting; a cancelled, paid or written-off claim stands at
    zero; no claim stands below zero; every posting has the sign its kind demands, a reversal
    names a posting of the opposite sign and nothing else names one; postings and accounts belong
    to the claim's municipality; and the checks of invoicing and dunning
    (:func:`~fbs_debitor.debtor.billing_guard.check_billing`: reminder fees and interest with
    their postings, write-offs with their reasons, invoices of the right debtor).
    """
    problems: list[str] = []

    def scoped(query: Any, table: Any = claims) -> Any:
        return query if municipality is None else query.where(table.c.municipality == municipality)

    charged = select(postings.c.id).where(
        postings.c.claim_pk == claims.c.id, postings.c.kind == PostingKind.CHARGE.value
    )
    for m, cid in conn.execute(
        scoped(select(claims.c.municipality, claims.c.claim_id).where(~charged.exists()))
    ):
        problems.append(f"{m}/{cid}: claim without its charge posting")

    totals = conn.execute(
        scoped(
            select(
                claims.c.municipality,
                claims.c.claim_id,
                claims.c.status,
                func.coalesce(func.sum(postings.c.amount_ore), 0),
            )
            .select_from(claims.outerjoin(postings, postings.c.claim_pk == claims.c.id))
            .group_by(claims.c.id, claims.c.municipality, claims.c.claim_id, claims.c.status)
        )
    )
    for m, cid, status, total in totals:
        amount = Money(ore=int(total))
        if status not in {s.value for s in ClaimStatus}:
            problems.append(f"{m}/{cid}: unknown status {status!r}")
        if status in _SETTLED and not amount.is_zero():
            problems.append(f"{m}/{cid}: {status} claim with balance {amount.to_json_str()}")
        if amount.is_negative():
            problems.append(
                f"{m}/{cid}: {status} claim with negative balance {amount.to_json_str()}"
            )

    p, r = postings, postings.alias("reversed")
    bad_sign = or_(
        and_(p.c.kind.in_(_PLUS), p.c.amount_ore <= 0),
        and_(p.c.kind.in_(_MINUS), p.c.amount_ore >= 0),
        and_(p.c.kind == PostingKind.REVERSAL.value, p.c.reverses.is_(None)),
        and_(p.c.kind != PostingKind.REVERSAL.value, p.c.reverses.is_not(None)),
        p.c.kind.not_in([k.value for k in PostingKind]),
        p.c.municipality != claims.c.municipality,
        and_(
            r.c.id.is_not(None),
            or_(r.c.claim_pk != p.c.claim_pk, (r.c.amount_ore > 0) == (p.c.amount_ore > 0)),
        ),
    )
    for m, cid, pid, kind in conn.execute(
        scoped(
            select(claims.c.municipality, claims.c.claim_id, p.c.id, p.c.kind)
            .select_from(
                p.join(claims, p.c.claim_pk == claims.c.id).outerjoin(r, r.c.id == p.c.reverses)
            )
            .where(bad_sign)
        )
    ):
        problems.append(f"{m}/{cid}: posting {pid} ({kind}) breaks the sign or reversal rule")

    for m, cid in conn.execute(
        scoped(
            select(claims.c.municipality, claims.c.claim_id)
            .join_from(claims, accounts, claims.c.account_id == accounts.c.id)
            .where(accounts.c.municipality != claims.c.municipality)
        )
    ):
        problems.append(f"{m}/{cid}: claim on another municipality's account")
    return problems + check_billing(conn, municipality)


def principal_balances(conn: Connection, municipality: str) -> dict[str, int]:
    """The library's claim id → what is left of the principal (what the library charged, as
    regulated, less what settled it), leaving out debtor's own reminder fees and interest.

    This is the amount the library shows on the fee; reconciliation compares the two. Payments
    settle fees and interest first, write-offs and cancellations the principal first
    (``model.principal_and_fees``); the library applies exactly the principal changes debtor
    reports (and stops at zero), so the two agree.
    """
    ledgers: dict[str, list[tuple[PostingKind, int]]] = {}
    rows = conn.execute(
        select(claims.c.claim_id, postings.c.kind, postings.c.amount_ore)
        .select_from(claims.outerjoin(postings, postings.c.claim_pk == claims.c.id))
        .where(claims.c.municipality == municipality)
        .order_by(claims.c.id, postings.c.id)
    )
    for claim_id, kind, amount in rows:
        ledger = ledgers.setdefault(claim_id, [])
        if kind is not None:
            ledger.append((PostingKind(kind), int(amount)))
    return {c: max(0, principal_and_fees(ledger)[0]) for c, ledger in ledgers.items()}
