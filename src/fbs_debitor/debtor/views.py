"""What staff see of a debtor account and a claim: balances, postings and events (CPR masked
"DDMMYY-XXXX"), and the invoicing side: invoices (payment ID, code line, due date, SRB,
the amount due derived from the claims' balances), reminders, letters, the payment agreement and
the deceased flag. The debtor is shown masked everywhere; the letters are listed, not rendered.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from fbs_debitor.contracts.collection import CollectionFacts, CollectionTerms
from fbs_debitor.core.errors import NotFoundError
from fbs_debitor.core.ids import parse_debtor_id
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.model.claims import Account, Claim, ClaimEvent, EventKind
from fbs_debitor.debtor.model.ledger import Posting, PostingKind, balance, principal_and_fees
from fbs_debitor.debtor.model.rules import DebtorRules
from fbs_debitor.debtor.service.agreements import latest_agreement
from fbs_debitor.debtor.service.credit import credit_view
from fbs_debitor.debtor.store import ledger
from fbs_debitor.debtor.store.candidates import agreements_until
from fbs_debitor.debtor.store.collection import handed_over_balances, load_facts
from fbs_debitor.debtor.store.ledger import (
    BALANCE_ORE,
    PRINCIPAL_ORE,
    claims_of_account,
    events_of,
    load_account,
    load_claim,
    postings_of,
    with_postings,
)
from fbs_debitor.debtor.store.letters import letter_from_data
from fbs_debitor.debtor.store.rules import billing_municipalities, load_setup
from fbs_debitor.debtor.store.tables import (
    accounts,
    claims,
    invoices,
    letters,
    payments,
    rejections,
    reminders,
)


def invoice_views(conn: Connection, account_id: int) -> list[dict[str, Any]]:
    """The account's invoices, oldest first, each with its claims, amount due and reminders."""
    rows = conn.execute(
        select(invoices).where(invoices.c.account_id == account_id).order_by(invoices.c.id)
    ).all()
    if not rows:
        return []
    ids = [int(r.id) for r in rows]
    on_invoice: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for invoice_id, claim_id, status, balance_ore in conn.execute(
        select(
            claims.c.invoice_id,
            claims.c.claim_id,
            claims.c.status,
            BALANCE_ORE,
        )
        .select_from(with_postings())
        .where(claims.c.invoice_id.in_(ids))
        .group_by(claims.c.id)
        .order_by(claims.c.id)
    ):
        on_invoice[int(invoice_id)].append(
            {"claim_id": claim_id, "status": status, "balance_ore": int(balance_ore)}
        )
    steps: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for r in conn.execute(
        select(reminders).where(reminders.c.invoice_id.in_(ids)).order_by(reminders.c.step_number)
    ):
        steps[int(r.invoice_id)].append(
            {
                "number": r.step_number,
                "date": r.reminder_date,
                "fee_total_ore": int(r.fee_total_ore),
                "announces_collection": bool(r.announces_collection),
            }
        )
    out = []
    for r in rows:
        due = Money(ore=sum(c["balance_ore"] for c in on_invoice[int(r.id)]))
        out.append(
            {
                "invoice_id": int(r.id),
                "payment_id": r.payment_id,
                "code_line": f"+71<{r.payment_id}+{r.creditor_number}<",
                "creditor_number": r.creditor_number,
                "issue_date": r.issue_date,
                "due_date": r.due_date,
                "last_timely_payment_date": r.last_timely_payment_date,
                "issued_total_ore": int(r.issued_total_ore),
                "amount_due_ore": due.ore,
                "amount_due": due.to_json_str(),
                "status": "open" if due.is_positive() else "settled",
                "claims": on_invoice[int(r.id)],
                "reminders": steps[int(r.id)],
            }
        )
    return out


def account_billing(
    conn: Connection, municipality: str, account_id: int, today: date | None
) -> dict[str, Any]:
    """Invoices, letters, payment agreement and deceased flag of the account (``today`` decides
    whether the agreement runs; None leaves ``active`` out)."""
    agreement = latest_agreement(conn, account_id, today or date.min)
    if agreement is not None and today is None:
        agreement.pop("active")
    deceased_on = conn.execute(
        select(accounts.c.deceased_on).where(accounts.c.id == account_id)
    ).scalar()
    return {
        "invoices": invoice_views(conn, account_id),
        "letters": list_letters(conn, municipality, account_id=account_id, limit=1000),
        "payment_agreement": agreement,
        "deceased_on": deceased_on,
    }


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
        "fee_part_ore": p.fees_ore,
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
    principal, fees = principal_and_fees((p.amount.ore, p.fees_ore) for p in claim_postings)
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
        "principal_ore": principal,
        "fees_ore": fees,
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
    return {
        "debtor": account.masked,
        "id_type": account.id_type.value,
        "debtor_ref": debtor_ref(account.id),
    }


DEBTOR_REF = re.compile(r"^D[0-9]{1,18}$")
"""An opaque debtor reference ("D" and the account's number): what URLs carry instead of a CPR."""


def debtor_ref(account_id: int) -> str:
    return f"D{account_id}"


def number_of_ref(conn: Connection, municipality: str, ref: str) -> str:
    """The full CPR or CVR behind a debtor reference of this municipality (for the use cases
    that take a number); NotFoundError when it is not one of this municipality's accounts."""
    if not DEBTOR_REF.match(ref):
        raise NotFoundError("no debtor account with that reference", code="unknown-debtor")
    row = conn.execute(
        select(accounts.c.debtor_id).where(
            (accounts.c.id == int(ref[1:])) & (accounts.c.municipality == municipality)
        )
    ).first()
    if row is None:
        raise NotFoundError("no debtor account with that reference", code="unknown-debtor")
    return str(row.debtor_id)


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
    account_id = ledger.find_account_id(conn, municipality, number)
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
        select(claims.c.claim_id, BALANCE_ORE)
        .select_from(with_postings())
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


def principal_balances(conn: Connection, municipality: str) -> dict[str, int]:
    """The library's claim id → what is left of the principal (what the library charged, as
    regulated, less what settled it), leaving out debtor's own reminder fees and interest.

    This is the amount the library shows on the fee; reconciliation compares the two. Every
    posting names its fee part (payments take fees and interest first, write-offs and
    cancellations the principal first, a reversal gives back what it reversed took); the library
    applies exactly the principal changes debtor reports (and stops at zero), so the two agree.
    """
    rows = conn.execute(
        select(claims.c.claim_id, PRINCIPAL_ORE)
        .select_from(with_postings())
        .where(claims.c.municipality == municipality)
        .group_by(claims.c.id, claims.c.claim_id)
    )
    return {str(c): max(0, int(p)) for c, p in rows}


def _summary(row: Any) -> dict[str, Any]:
    data = json.loads(row.data)
    total = sum(int(line[1]) for line in data["lines"])
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
        "hold_reason": row.hold_reason,
        "next_attempt_at": row.next_attempt_at,
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


# -- state collection (decision 0022) ------------------------------------------------------------


def collection_facts(
    conn: Connection, municipality: str, on: date
) -> tuple[CollectionTerms, list[CollectionFacts]]:
    """The municipality's collection terms (from its debtor rules) and the facts of every open
    claim with a positive balance, for the hand-over run on ``on``; claims in claim order.

    Set-based: one grouped query and a few small reads (``store.collection.load_facts``), no
    query per claim. The facts are as debtor knows them now; ``on`` picks nothing out (it is the
    run's date, which the eligibility compares them with). The balance is split as letters split
    it (``billing.claim_parts``: the principal from the postings' fee parts, what was settled of
    debtor's own part taken from the reminder fees before the interest)."""
    setup = load_setup(conn, municipality)
    rules = setup.rules if setup is not None else DebtorRules()
    terms = CollectionTerms(
        municipality=municipality,
        min_ore=rules.collection_min_ore,
        days_after_deadline=rules.collection_days_after_deadline,
        reminder_steps=len(rules.reminder_steps),
    )
    return terms, load_facts(conn, municipality, agreements_until(conn, municipality))


def collection_balances(conn: Connection, municipality: str) -> dict[str, tuple[int, int]]:
    """Claim id -> (balance now, total covered by PSRM's settlements, channel ``psrm``) in øre,
    for every claim that is or was handed over (it has a ``handed_over`` event)."""
    return handed_over_balances(conn, municipality)


def collection_municipalities(conn: Connection) -> list[str]:
    """The municipalities with a debtor set-up: the ones the hand-over run looks at."""
    return billing_municipalities(conn)


def channel_paid_in(conn: Connection, municipality: str, channel: str) -> int:
    """Everything debtor received on ``channel`` (covered and kept as credit), reversals left out:
    for ``psrm`` it must equal what collection says PSRM settled."""
    total = conn.execute(
        select(func.coalesce(func.sum(payments.c.amount_ore), 0)).where(
            payments.c.municipality == municipality,
            payments.c.channel == channel,
            payments.c.reversed.is_(False),
        )
    ).scalar()
    return int(total or 0)
