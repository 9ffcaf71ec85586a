"""What staff see of the held claims: claims debtor does not collect yet, with the reason.

Today there is one reason, "guardian required" (:mod:`fbs_debitor.debtor.model.minors`): the
claim's debtor is a person under 18. The library releases such a claim by naming a debtor of age
(``ClaimDebtorChanged``, e.g. when staff register the patron's guardian); until then it is listed
here, debtor masked.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from fbs_debitor.core.money import Money
from fbs_debitor.debtor.model.claims import mask_debtor_id
from fbs_debitor.debtor.store.holds import held_claims


def list_held_claims(
    conn: Connection, municipality: str, *, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """The held claims, oldest first, as staff see them (CPR masked)."""
    out = []
    for row in held_claims(conn, municipality, limit=limit, offset=offset):
        detail = json.loads(row.detail) if row.detail is not None else {}
        balance = Money(int(row.balance_ore or 0))
        out.append(
            {
                "claim_id": row.claim_id,
                "patron_id": row.patron_id,
                "claim_kind": row.claim_kind,
                "debtor": mask_debtor_id(row.id_type, row.debtor_id),
                "balance_ore": balance.ore,
                "balance": str(balance),
                "reason": detail.get("reason", ""),
                "text": detail.get("text", ""),
                "created_on": row.created_on,
                "held_since": row.held_at or row.registered_at,
            }
        )
    return out
