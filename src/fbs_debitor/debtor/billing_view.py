"""The invoicing side of a debtor account's view: invoices (payment ID, code line, due date, SRB,
the amount due derived from the claims' balances), reminders, letters, the payment agreement and
the deceased flag. The debtor is shown masked everywhere; the letters are listed, not rendered.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from fbs_debitor.core.money import Money
from fbs_debitor.debtor.agreements import latest_agreement
from fbs_debitor.debtor.billing_tables import invoices, reminders
from fbs_debitor.debtor.letters_store import list_letters
from fbs_debitor.debtor.store import accounts, claims, postings

__all__ = ["account_billing", "invoice_views"]


def invoice_views(conn: Connection, account_id: int) -> list[dict[str, Any]]:
    """The account's invoices, oldest first, each with its claims, amount due and reminders."""
    rows = conn.execute(
        select(invoices).where(invoices.c.account_id == account_id).order_by(invoices.c.id)
    ).all()
    if not rows:
        return []
    ids = [int(r.id) for r in rows]
    on_invoice: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for invoice_id, claim_id, status, balance in conn.execute(
        select(
            claims.c.invoice_id,
            claims.c.claim_id,
            claims.c.status,
            func.coalesce(func.sum(postings.c.amount_ore), 0),
        )
        .select_from(claims.outerjoin(postings, postings.c.claim_pk == claims.c.id))
        .where(claims.c.invoice_id.in_(ids))
        .group_by(claims.c.id)
        .order_by(claims.c.id)
    ):
        on_invoice[int(invoice_id)].append(
            {"claim_id": claim_id, "status": status, "balance_ore": int(balance)}
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
