"""The municipality's debtor rules ("opsæt regler i debitor"): read them, and replace them
with a validated document that keeps within the law."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select, update

from fbs_debitor.core.clock import Clock
from fbs_debitor.debtor.model.rules import DebtorRules, validate_rules
from fbs_debitor.debtor.store.rules import parse_rules
from fbs_debitor.debtor.store.tables import rules as rules_table


def rules_document(rules: DebtorRules) -> dict[str, Any]:
    """The rules as JSON-able data (what the API shows and the table holds)."""
    return rules.model_dump(mode="json")


def get_rules(conn: Connection, municipality: str) -> DebtorRules:
    """The municipality's rules; ``DebtorRules()`` when none are stored."""
    document = conn.execute(
        select(rules_table.c.rules).where(rules_table.c.municipality == municipality)
    ).scalar()
    return DebtorRules() if document is None else parse_rules(document)


def put_rules(
    conn: Connection, clock: Clock, municipality: str, data: dict[str, Any]
) -> DebtorRules:
    """Validate ``data`` as the whole rules document and store it (fields left out take their
    defaults). Raises ValidationError, or LegalLimitError beyond the law; nothing is stored then."""
    new = validate_rules(data)
    document = json.dumps(rules_document(new), separators=(",", ":"))
    where = rules_table.c.municipality == municipality
    now = clock.now()
    if conn.execute(select(rules_table.c.municipality).where(where)).first() is None:
        conn.execute(
            rules_table.insert().values(municipality=municipality, rules=document, updated_at=now)
        )
    else:
        conn.execute(update(rules_table).where(where).values(rules=document, updated_at=now))
    return new
