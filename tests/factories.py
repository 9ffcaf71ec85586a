"""Contract factories: one place that builds the messages tests send, with sound defaults and
only the differences named at the call (instead of a hand-written builder in every module)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fbs_debitor.contracts.registration import ClaimRegistered, DebtorRef

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
"""Monday 2 March 2026, 09:00 in Copenhagen: when the tests' messages happen by default."""


def debtor_ref(number: str = "0101801234", id_type: str = "cpr") -> DebtorRef:
    return DebtorRef(id_type=id_type, id=number)  # type: ignore[arg-type]


def claim_registered(claim_id: str = "fee-1", **overrides: Any) -> ClaimRegistered:
    """A fee of 20,00 kr. registered with debtor for municipality 101. ``debtor`` may be given
    as a CPR/CVR text (a :class:`DebtorRef` is made of it) or as a ``DebtorRef``."""
    debtor = overrides.pop("debtor", "0101801234")
    fields: dict[str, Any] = {
        "municipality": "101",
        "occurred_at": T0,
        "claim_id": claim_id,
        "patron_id": "p",
        "debtor": debtor_ref(debtor) if isinstance(debtor, str) else debtor,
        "claim_kind": "fee",
        "debtor_classification": "BIB",
        "psrm_claim_type": "BIBGEB",
        "amount_ore": 2000,
        "created_on": date(2026, 3, 1),
    }
    fields.update(overrides)
    return ClaimRegistered(**fields)
