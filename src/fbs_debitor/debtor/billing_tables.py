"""The tables of leg 2 and dunning: rules, invoices, reminders, letters, payment agreements and
write-offs (SQLAlchemy Core; :mod:`fbs_debitor.debtor.store` re-exports them).

Like every debtor table they start with ``debtor_`` and carry the municipality. Money is
BigInteger øre, business dates ``Date``, timestamps aware UTC.

What is *not* stored: an invoice's amount due and whether it is settled. Both follow from the
balances of the claims on it (``debtor_claim.invoice_id``), so a write-down, a cancellation or a
payment after invoicing shows at once. ``issued_total_ore`` is what the letter said, nothing more.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from fbs_debitor.core.db import ID_TYPE, UtcDateTime, metadata

ID = ID_TYPE
"""Autoincrement ids: BIGINT on PostgreSQL, INTEGER (the rowid) on SQLite (as in ``store``)."""

# One DebtorRules document (JSON) per municipality; none = the defaults (``DebtorRules()``).
rules = Table(
    "debtor_rules",
    metadata,
    Column("municipality", String(3), primary_key=True),
    Column("rules", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# The per-municipality counter behind the FIK payment IDs (``PaymentId.generate(seq)``).
payment_sequences = Table(
    "debtor_payment_sequence",
    metadata,
    Column("municipality", String(3), primary_key=True),
    Column("last_sequence", BigInteger, nullable=False),
)

# An invoice (opkrævning): the demand for payment of one or more claims of one account, with its
# FIK payment ID. The claims point at it (``debtor_claim.invoice_id``).
invoices = Table(
    "debtor_invoice",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("account_id", ID, ForeignKey("debtor_account.id"), nullable=False),
    Column("payment_id", String(16), nullable=False),  # FIK +71, 15 digits with check digit
    Column("creditor_number", String(8), nullable=False),
    Column("issue_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("last_timely_payment_date", Date, nullable=False),  # SRB; = the due date
    Column("issued_total_ore", BigInteger, nullable=False),  # what the letter said; not the truth
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("municipality", "payment_id"),
)
Index("ix_debtor_invoice_account", invoices.c.account_id)
Index("ix_debtor_invoice_srb", invoices.c.municipality, invoices.c.last_timely_payment_date)

# Every run of the invoicing job (collected mode needs to know when it last collected).
invoice_runs = Table(
    "debtor_invoice_run",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("run_on", Date, nullable=False),
    Column("mode", String(10), nullable=False),  # immediate | collected
    Column("invoices", Integer, nullable=False),
    Column("claims", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)
Index("ix_debtor_invoice_run", invoice_runs.c.municipality, invoice_runs.c.run_on)

# One row per reminder step applied to an invoice; the unique key makes the dunning run
# idempotent. ``fee_total_ore`` must equal the reminder_fee postings that name it (ledger guard).
reminders = Table(
    "debtor_reminder",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("invoice_id", ID, ForeignKey("debtor_invoice.id"), nullable=False),
    Column("step_number", Integer, nullable=False),  # 1 = the first step of the rules
    Column("reminder_date", Date, nullable=False),
    Column("fee_total_ore", BigInteger, nullable=False),
    Column("announces_collection", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("invoice_id", "step_number"),
)

# The letter outbox (Digital Post in reality): a row is cheap; the PDF is made on delivery.
letters = Table(
    "debtor_letter",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("kind", String(10), nullable=False),  # invoice | reminder
    Column("invoice_id", ID, ForeignKey("debtor_invoice.id"), nullable=False),
    Column("account_id", ID, ForeignKey("debtor_account.id"), nullable=False),
    Column("reminder_number", Integer, nullable=True),
    Column("letter_date", Date, nullable=False),
    Column("data", Text, nullable=False),  # the Letter as JSON (letters_store.letter_data)
    Column("status", String(10), nullable=False),  # pending | delivered
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("path", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)
Index("ix_debtor_letter_pending", letters.c.status, letters.c.id)
Index("ix_debtor_letter_account", letters.c.account_id)

# Payment agreements (afdragsordning) per account; the newest row of an account is the one that
# counts, and it stops reminders while ``until`` has not passed.
payment_agreements = Table(
    "debtor_payment_agreement",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("account_id", ID, ForeignKey("debtor_account.id"), nullable=False),
    Column("until", Date, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
Index("ix_debtor_payment_agreement_account", payment_agreements.c.account_id)

# Why and by whom every write-off posting was made (the posting holds the money).
write_offs = Table(
    "debtor_write_off",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("claim_pk", ID, ForeignKey("debtor_claim.id"), nullable=False),
    Column("amount_ore", BigInteger, nullable=False),  # positive: how much was written off
    Column("rule", String(20), nullable=False),  # manual | below_minimum | limitation | deceased
    Column("reason", Text, nullable=False),
    Column("by", String(100), nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)
Index("ix_debtor_write_off_claim", write_offs.c.claim_pk)
