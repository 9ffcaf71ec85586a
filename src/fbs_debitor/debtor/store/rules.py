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

from sqlalchemy import Connection, select, text

from fbs_debitor.debtor.model.rules import DebtorRules, validate_rules
from fbs_debitor.debtor.store.tables import configs
from fbs_debitor.debtor.store.tables import rules as rules_table

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
def parse_rules(document: str) -> DebtorRules:
    """A stored rules document (validated; cached, since the rules are immutable)."""
    return validate_rules(json.loads(document))


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
        rules=DebtorRules() if row.rules is None else parse_rules(row.rules),
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
