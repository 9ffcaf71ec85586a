"""An account's credit: overpayments that pay the account's next claims, or are refunded.

Credit arises in allocation: what a payment brings beyond what its claims owe stays on the debtor
account (``debtor_payment.credit_ore``, outcome ``partly_matched``). It leaves the account in two
ways:

* it pays the account's open claims (:func:`apply_credit`). Invoicing calls it before it makes an
  invoice for an account with credit, so the credit pays the *next* claim and the invoice shows
  only what is left. Each use is a payment of its own through
  :func:`fbs_debitor.debtor.service.allocation.allocate` on the internal channel ``credit``
  (``payment_ref`` ``credit:<account id>:<n>``), so the coverage postings, ``ClaimCovered`` /
  ``ClaimClosed`` to the library and ``InvoiceUpdated`` to the channels all come from the one
  allocation path, in allocation's order (oldest due first, fees before principal);
* staff refund it (:func:`refund`): a ``debtor_refund`` row, idempotent per reference. The payout
  itself (to the citizen's NemKonto) is the municipality's own; we record it so that the credit
  is gone.

The available credit of an account is derived, never stored::

    credit of its non-reversed payments from the real channels
  - what its non-reversed ``credit`` payments covered
  - its refunds

and shown never below zero. A reversed overpayment takes its credit away, but what was used of
it already stays used: the claims it paid stay paid (the library was told). The account then has
a *shortfall* (the sum above is negative); it is shown in the account view, and a later
overpayment makes it up before any credit is available again (docs/decisions/0007).

Credit is used and refunded under a lock on the account row (PostgreSQL; SQLite serialises
writers anyway), so two transactions never spend the same credit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    case,
    func,
    insert,
    select,
    union_all,
)

from fbs_debitor.contracts.payment import PaymentReceived
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.errors import ConflictError, NotFoundError, ValidationError
from fbs_debitor.core.ids import mask_cprs_in_text
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.model.claims import ClaimStatus
from fbs_debitor.debtor.service import allocation
from fbs_debitor.debtor.store.ledger import BALANCE_ORE, with_postings
from fbs_debitor.debtor.store.tables import accounts, claims, payments, refunds
from fbs_debitor.messaging.outbox import new_message_id

CREDIT_CHANNEL = "credit"
"""The channel of a payment made from an account's credit (inside debtor, no money moves)."""

CHUNK = 900
"""Account ids per ``IN`` list (two lists per query; SQLite allows 32,766 bound values)."""


# -- how much ---------------------------------------------------------------------------------------


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _totals(conn: Connection, municipality: str, account_ids: Sequence[int]) -> dict[int, int]:
    """The signed credit total of each account that ever had a credit payment or refund (one
    query per ``CHUNK`` accounts; may be negative: a shortfall)."""
    out: dict[int, int] = {}
    for chunk in _chunks(account_ids):
        moved = select(
            payments.c.account_id.label("account_id"),
            case(
                (payments.c.channel == CREDIT_CHANNEL, -payments.c.covered_ore),
                else_=payments.c.credit_ore,
            ).label("amount_ore"),
        ).where(
            payments.c.municipality == municipality,
            payments.c.account_id.in_(chunk),
            payments.c.reversed.is_(False),
        )
        refunded = select(
            refunds.c.account_id.label("account_id"),
            (-refunds.c.amount_ore).label("amount_ore"),
        ).where(refunds.c.municipality == municipality, refunds.c.account_id.in_(chunk))
        both = union_all(moved, refunded).subquery()
        rows = conn.execute(
            select(both.c.account_id, func.sum(both.c.amount_ore)).group_by(both.c.account_id)
        )
        out.update((int(a), int(total)) for a, total in rows)
    return out


def accounts_with_credit(
    conn: Connection, municipality: str, account_ids: Collection[int]
) -> dict[int, int]:
    """Which of these accounts have credit, and how much (øre); the others are left out. One
    query per 900 accounts: the common case (no credit) costs one indexed look-up."""
    if not account_ids:
        return {}
    totals = _totals(conn, municipality, sorted(set(account_ids)))
    return {a: total for a, total in totals.items() if total > 0}


def available_credit(conn: Connection, municipality: str, account_id: int) -> int:
    """The credit the account can use or have refunded now, in øre (never below zero)."""
    return max(0, _totals(conn, municipality, [account_id]).get(account_id, 0))


# -- using it ---------------------------------------------------------------------------------------


def _lock_account(conn: Connection, municipality: str, account_id: int) -> None:
    """Hold the account row until the transaction ends; NotFoundError if it is not there."""
    found = conn.execute(
        select(accounts.c.id)
        .where(accounts.c.id == account_id, accounts.c.municipality == municipality)
        .with_for_update()
    ).scalar()
    if found is None:
        raise NotFoundError(f"no debtor account {account_id}", code="unknown-debtor")


def _open_claims(conn: Connection, municipality: str, account_id: int) -> list[tuple[str, int]]:
    """(claim id, balance) of the account's open claims that owe something."""
    balance = BALANCE_ORE
    rows = conn.execute(
        select(claims.c.claim_id, balance)
        .select_from(with_postings())
        .where(
            claims.c.municipality == municipality,
            claims.c.account_id == account_id,
            claims.c.status == ClaimStatus.OPEN.value,
        )
        .group_by(claims.c.id, claims.c.claim_id)
        .having(balance > 0)
        .order_by(claims.c.id)
    )
    return [(c, int(b)) for c, b in rows]


def _next_ref(conn: Connection, municipality: str, account_id: int) -> str:
    """``credit:<account id>:<n>``, n counting the account's uses of credit from 1."""
    used = conn.execute(
        select(func.count())
        .select_from(payments)
        .where(
            payments.c.municipality == municipality,
            payments.c.account_id == account_id,
            payments.c.channel == CREDIT_CHANNEL,
        )
    ).scalar_one()
    return f"{CREDIT_CHANNEL}:{account_id}:{int(used) + 1}"


def _use(conn: Connection, clock: Clock, municipality: str, account_id: int) -> int:
    """Pay the account's open claims from its credit; returns the øre used."""
    _lock_account(conn, municipality, account_id)
    credit = available_credit(conn, municipality, account_id)
    if credit <= 0:
        return 0
    owed = _open_claims(conn, municipality, account_id)
    amount = min(credit, sum(b for _, b in owed))
    if amount <= 0:
        return 0
    message = PaymentReceived(
        municipality=municipality,
        occurred_at=clock.now(),
        payment_ref=_next_ref(conn, municipality, account_id),
        channel=CREDIT_CHANNEL,
        booked_on=clock.today(),
        amount_ore=amount,
        claim_ids=[c for c, _ in owed],
        payer_text=f"credit of debtor account {account_id}",
    )
    done = allocation.allocate(conn, clock, message, new_message_id())
    assert done is not None, f"{message.payment_ref} was applied before"
    return done.covered_ore


def apply_credit(
    conn: Connection, clock: Clock, municipality: str, account_ids: Collection[int]
) -> dict[int, int]:
    """For each account with credit, pay its open claims from it (oldest due first, as
    allocation orders them). Returns account id -> øre used, only for accounts that used some.
    Accounts without credit cost one bulk query together."""
    used: dict[int, int] = {}
    for account_id in sorted(accounts_with_credit(conn, municipality, account_ids)):
        amount = _use(conn, clock, municipality, account_id)
        if amount:
            used[account_id] = amount
    return used


# -- refunds ----------------------------------------------------------------------------------------


def _refund_dict(row: Any) -> dict[str, Any]:
    amount = Money(ore=int(row.amount_ore))
    return {
        "id": int(row.id),
        "amount_ore": amount.ore,
        "amount": amount.to_json_str(),
        "reference": row.reference,
        "requested_by": row.requested_by,
        "created_at": row.created_at,
    }


def _refund_by_reference(conn: Connection, municipality: str, reference: str) -> Any:
    return conn.execute(
        select(refunds).where(
            refunds.c.municipality == municipality, refunds.c.reference == reference
        )
    ).first()


def refund(
    conn: Connection,
    clock: Clock,
    municipality: str,
    account_id: int,
    amount: Money | None,
    reference: str,
    by: str,
) -> tuple[dict[str, Any], bool]:
    """Refund ``amount`` of the account's credit (None: all of it); returns the refund and
    whether it was made now (False: ``reference`` was used before, and that first refund is
    returned unchanged).

    Raises ValidationError for an empty or too long reference or name, or an amount below
    1 øre; ConflictError when the account has no credit (``no-credit``), when the amount
    exceeds it (``refund-exceeds-credit``) or when the reference belongs to a refund of another
    account (``refund-reference-used``)."""
    reference, by = reference.strip(), mask_cprs_in_text(by.strip())
    if not 0 < len(reference) <= 120:
        raise ValidationError(
            "a refund needs a reference of 1 to 120 characters", code="refund-reference"
        )
    if not 0 < len(by) <= 100:
        raise ValidationError(
            "a refund needs the name of who asks for it (1 to 100 characters)", code="refund-by"
        )
    if amount is not None and not amount.is_positive():
        raise ValidationError(
            f"a refund must be at least 0,01 kr., got {amount}",
            code="refund-amount",
        )
    _lock_account(conn, municipality, account_id)
    first = _refund_by_reference(conn, municipality, reference)
    if first is not None:
        if int(first.account_id) != account_id:
            raise ConflictError(
                f"the reference {reference!r} was used for a refund of another account",
                code="refund-reference-used",
            )
        return _refund_dict(first), False
    credit = available_credit(conn, municipality, account_id)
    if credit <= 0:
        raise ConflictError("the account has no credit to refund", code="no-credit")
    ore = credit if amount is None else amount.ore
    if ore > credit:
        raise ConflictError(
            f"the refund of {Money(ore=ore)} exceeds the credit {Money(ore=credit)}",
            code="refund-exceeds-credit",
            available_ore=credit,
        )
    conn.execute(
        insert(refunds).values(
            municipality=municipality,
            account_id=account_id,
            amount_ore=ore,
            reference=reference,
            requested_by=by,
            created_at=clock.now(),
        )
    )
    made = _refund_by_reference(conn, municipality, reference)
    return _refund_dict(made), True


# -- the view ---------------------------------------------------------------------------------------


def credit_view(conn: Connection, municipality: str, account_id: int) -> dict[str, Any]:
    """The credit part of an account's view: available credit, a shortfall (a reversed
    overpayment whose credit was used already), and the refunds, oldest first."""
    total = _totals(conn, municipality, [account_id]).get(account_id, 0)
    credit, shortfall = Money(ore=max(0, total)), Money(ore=max(0, -total))
    rows = conn.execute(
        select(refunds)
        .where(refunds.c.municipality == municipality, refunds.c.account_id == account_id)
        .order_by(refunds.c.id)
    )
    return {
        "credit_ore": credit.ore,
        "credit": credit.to_json_str(),
        "credit_shortfall_ore": shortfall.ore,
        "refunds": [_refund_dict(r) for r in rows],
    }
