"""The municipality's debtor rules in the database, and what invoicing and dunning need to know
about a municipality (its name, creditor number and rules) in one read.

A municipality without a stored document has the defaults (``DebtorRules()``). A document is
validated when it is stored (``validate_rules``: beyond the legal limits is refused with
LegalLimitError) and again when it is read, so a hand-edited row cannot slip past the law.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, select, text, update

from fbs_debitor.core.clock import Clock
from fbs_debitor.debtor.billing_tables import rules as rules_table
from fbs_debitor.debtor.rules import DebtorRules, validate_rules
from fbs_debitor.debtor.store import configs

__all__ = [
    "BillingSetup",
    "billing_municipalities",
    "get_rules",
    "load_setup",
    "lock_billing",
    "put_rules",
    "rules_document",
]

_LOCK_CLASS = 0x44420001
"""First key of the PostgreSQL advisory lock of a municipality's billing jobs ("DB" + 1)."""


@dataclass(frozen=True, slots=True)
class BillingSetup:
    """What invoicing and dunning need of one municipality.

    municipality:     the kommunekode.
    name:             the municipality's name (the letters' sender).
    creditor_number:  the FIK creditor number (8 digits, starts with 8) from debtor's copy of the
                      set-up (``MunicipalityConfigured``).
    rules:            the municipality's debtor rules (the defaults if none are stored).
    """

    municipality: str
    name: str
    creditor_number: str
    rules: DebtorRules


@lru_cache(maxsize=256)
def _parse(document: str) -> DebtorRules:
    """A stored rules document (validated; cached, since the rules are immutable)."""
    return validate_rules(json.loads(document))


def rules_document(rules: DebtorRules) -> dict[str, Any]:
    """The rules as JSON-able data (what the API shows and the table holds)."""
    return rules.model_dump(mode="json")


def get_rules(conn: Connection, municipality: str) -> DebtorRules:
    """The municipality's rules; ``DebtorRules()`` when none are stored."""
    document = conn.execute(
        select(rules_table.c.rules).where(rules_table.c.municipality == municipality)
    ).scalar()
    return DebtorRules() if document is None else _parse(document)


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


def load_setup(conn: Connection, municipality: str) -> BillingSetup | None:
    """Name, creditor number and rules of the municipality in one query; None while debtor has
    no copy of its set-up (then nothing can be invoiced: there is no creditor number)."""
    row = conn.execute(
        select(configs.c.name, configs.c.creditor_number, rules_table.c.rules)
        .select_from(
            configs.outerjoin(rules_table, rules_table.c.municipality == configs.c.municipality)
        )
        .where(configs.c.municipality == municipality)
    ).first()
    if row is None:
        return None
    return BillingSetup(
        municipality=municipality,
        name=row.name,
        creditor_number=row.creditor_number,
        rules=DebtorRules() if row.rules is None else _parse(row.rules),
    )


def billing_municipalities(conn: Connection, only: str | None = None) -> list[str]:
    """The municipalities debtor has a set-up for (``only``: just that one, if it has), sorted."""
    query = select(configs.c.municipality).order_by(configs.c.municipality)
    if only is not None:
        query = query.where(configs.c.municipality == only)
    return [m for (m,) in conn.execute(query)]


def lock_billing(conn: Connection, municipality: str) -> None:
    """Serialize the billing jobs (invoicing, dunning, write-offs) of one municipality until the
    transaction ends. PostgreSQL: a transaction-scoped advisory lock; SQLite needs none, since
    every transaction there holds the database's write lock from its start (BEGIN IMMEDIATE)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:a, :b)"),
            {"a": _LOCK_CLASS, "b": int(municipality)},
        )
