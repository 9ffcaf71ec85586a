"""What a person names when applying an unmatched payment (:mod:`fbs_debitor.debtor.service.unmatched`):
exactly one of a debtor (CPR or CVR), an invoice's FIK payment ID or chosen claims, read,
checked and resolved; and the texts (who, why) cleaned, CPR numbers masked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from fbs_debitor.contracts.registration import DebtorRef
from fbs_debitor.core.errors import ConflictError, NotFoundError, ValidationError
from fbs_debitor.core.ids import Cpr, mask_cprs_in_text, parse_debtor_id
from fbs_debitor.core.text import CONTROL, CONTROL_OR_NEWLINE, readable
from fbs_debitor.debtor.model.claims import ClaimStatus
from fbs_debitor.debtor.store.ledger import find_account_id
from fbs_debitor.debtor.store.tables import claims, invoices

MAX_CLAIMS = 100


@dataclass(frozen=True, slots=True)
class Target:
    """What a person named. ``key`` identifies it for idempotency (a debtor by account id)."""

    key: str
    text: str
    """For people: a CPR masked."""
    debtor: DebtorRef | None = None
    payment_id: str | None = None
    claim_ids: tuple[str, ...] = ()


# -- texts --------------------------------------------------------------------------------------


def clean_text(value: str, what: str, max_length: int, *, multiline: bool = False) -> str:
    """``value`` stripped, 1 to ``max_length`` characters, no control characters (a note may
    have line breaks), valid UTF-8, CPR numbers masked; else ValidationError."""
    value = value.strip()
    if not readable(value, max_length, CONTROL if multiline else CONTROL_OR_NEWLINE):
        raise ValidationError(
            f"{what} must have 1 to {max_length} characters, no control characters",
            code=f"assign-{what}",
        )
    return mask_cprs_in_text(value)


# -- the target ---------------------------------------------------------------------------------


def resolve_target(
    conn: Connection,
    municipality: str,
    debtor: str | None,
    payment_id: str | None,
    claim_ids: Sequence[str],
) -> Target:
    """Read and resolve what the person named (exactly one kind). Raises ValidationError for
    none or several kinds or a malformed value, NotFoundError for a debtor without an account
    or a payment ID of no invoice. Whether the claims can be paid is :func:`check_claims`."""
    debtor = (debtor or "").strip() or None
    payment_id = (payment_id or "").strip() or None
    chosen = tuple(dict.fromkeys(c.strip() for c in claim_ids if c.strip()))
    if sum((debtor is not None, payment_id is not None, bool(chosen))) != 1:
        raise ValidationError(
            "name exactly one of: a debtor (CPR or CVR), an invoice's payment ID, claim ids",
            code="assign-target",
        )
    if debtor is not None:
        if len(debtor) > 20:
            raise ValidationError(
                "a debtor is a CPR (10 digits) or a CVR (8 digits)", code="invalid-debtor-id"
            )
        number = parse_debtor_id(debtor)
        account_id = find_account_id(conn, municipality, number.value)
        if account_id is None:
            raise NotFoundError(
                f"no debtor account for {number} in this municipality: the payment cannot be "
                "applied to it (register a claim for the debtor first, or name an invoice)",
                code="unknown-debtor",
            )
        return Target(
            key=f"account:{account_id}",
            text=f"debtor {number}",
            debtor=DebtorRef(id_type="cpr" if isinstance(number, Cpr) else "cvr", id=number.value),
        )
    if payment_id is not None:
        if not re.fullmatch(r"[0-9]{1,16}", payment_id):
            raise ValidationError(
                "a payment ID has 1 to 16 digits (the FIK code line's 15)",
                code="invalid-payment-id",
            )
        found = conn.execute(
            select(invoices.c.id).where(
                invoices.c.municipality == municipality, invoices.c.payment_id == payment_id
            )
        ).first()
        if found is None:
            raise NotFoundError(
                f"no invoice has the payment ID {payment_id}", code="unknown-payment-id"
            )
        return Target(
            key=f"payment_id:{payment_id}",
            text=f"invoice with payment ID {payment_id}",
            payment_id=payment_id,
        )
    if len(chosen) > MAX_CLAIMS:
        raise ValidationError(f"at most {MAX_CLAIMS} claims", code="assign-claims")
    for claim_id in chosen:
        clean_text(claim_id, "claim-id", 40)
    return Target(
        key="claims:" + ",".join(sorted(chosen)),
        text="claims " + ", ".join(chosen),
        claim_ids=chosen,
    )


def check_claims(conn: Connection, municipality: str, chosen: Sequence[str]) -> None:
    """The chosen claims exist, are open and are one debtor's (else the money could end up
    nowhere, or the credit on an account the person did not mean)."""
    rows = {
        r.claim_id: r
        for r in conn.execute(
            select(claims.c.claim_id, claims.c.status, claims.c.account_id).where(
                claims.c.municipality == municipality, claims.c.claim_id.in_(chosen)
            )
        )
    }
    unknown = [c for c in chosen if c not in rows]
    if unknown:
        raise NotFoundError(f"no claim {', '.join(unknown)}", code="unknown-claim")
    closed = [c for c in chosen if rows[c].status != ClaimStatus.OPEN.value]
    if closed:
        raise ConflictError(
            f"not open: claim {', '.join(closed)}", code="claim-not-open", claim_ids=closed
        )
    if len({int(r.account_id) for r in rows.values()}) > 1:
        raise ValidationError(
            "the claims belong to different debtors: assign to one debtor's claims",
            code="claims-of-several-debtors",
        )
