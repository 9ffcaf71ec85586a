"""Every table of the debtor context (SQLAlchemy Core): configs, accounts, claims, postings,
events and rejections of intake; rules, invoices, reminders, letters, payment agreements and
write-offs of leg 2 and dunning; payments applied and refunds.

Naming: ``debtor_claim.claim_id`` is the *library's* id of the claim (the contracts' ``claim_id``);
rows that point at a claim use ``claim_pk`` for the database id, so the two never get mixed up.

Every debtor table starts with ``debtor_`` and carry the municipality. Money is
BigInteger øre, business dates ``Date``, timestamps aware UTC.

What is *not* stored: an invoice's amount due and whether it is settled. Both follow from the
balances of the claims on it (``debtor_claim.invoice_id``), so a write-down, a cancellation or a
payment after invoicing shows at once. ``issued_total_ore`` is what the letter said, nothing more.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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
# idempotent. ``fee_total_ore`` must equal the reminder_fee postings that name it (ledger guard)
# and is the one fee of the letter: never above 250 kr, whatever the claims (gebyrloven § 2;
# the 100 kr of a letter with a civil claim is the run's and the guard's, decision 0012).
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
    CheckConstraint("fee_total_ore >= 0 AND fee_total_ore <= 25000", name="fee_cap"),
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
    # a pending letter whose address look-up failed or found none: why, and when to try again
    Column("hold_reason", Text, nullable=True),
    Column("next_attempt_at", UtcDateTime, nullable=True),
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
    # None: the claim (principal first, then fees); "fees": only reminder fees and interest
    # (a fee waived); "principal": only the library's amount
    Column("component", String(10), nullable=True),
    Column("effective_on", Date, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)
Index("ix_debtor_write_off_claim", write_offs.c.claim_pk)


ID = ID_TYPE
"""Autoincrement ids: BIGINT on PostgreSQL, INTEGER (the rowid) on SQLite."""


# Debtor's copy of the municipality's set-up (from tenants.MunicipalityConfigured).
configs = Table(
    "debtor_config",
    metadata,
    Column("municipality", String(3), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("creditor_number", String(8), nullable=False),
    Column("debtor_vendor", String(20), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)


# One debtor account per CPR/CVR number per municipality.
accounts = Table(
    "debtor_account",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("id_type", String(3), nullable=False),  # cpr | cvr
    # the full number: invoices and PSRM need it; never shown unmasked
    Column("debtor_id", String(10), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # set by staff: the debtor died; the next dunning run writes the account's claims off
    Column("deceased_on", Date, nullable=True),
    UniqueConstraint("municipality", "debtor_id"),
)


# The library's claims; a claim's balance is the sum of its postings, never a column.
claims = Table(
    "debtor_claim",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("claim_id", String(40), nullable=False),  # the library's id (FBS feeId)
    Column("account_id", ID, ForeignKey("debtor_account.id"), nullable=False),
    Column("claim_kind", String(40), nullable=False),
    Column("legal_basis", String(10), nullable=False),
    Column("debtor_classification", String(40), nullable=False),
    Column("psrm_claim_type", String(40), nullable=False),
    Column("patron_id", String(64), nullable=False),
    Column("created_on", Date, nullable=False),
    Column("due_date", Date, nullable=True),
    Column("acknowledged", Boolean, nullable=False),
    Column("materials", Text, nullable=False),  # JSON list of the contract's Material
    Column("invoice_text", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("leg1_ms", BigInteger, nullable=True),
    Column("last_applied_sequence", Integer, nullable=True),
    # the invoice the claim is on (None: not invoiced yet)
    Column("invoice_id", ID, ForeignKey("debtor_invoice.id"), nullable=True),
    # the last per-claim sequence used for coverage messages to the library (0: none sent)
    Column("coverage_sequence", Integer, nullable=False, default=0, server_default="0"),
    # the due date of the first invoice the claim was on, kept when a change of debtor takes it
    # off that invoice (null: on its first invoice, or never invoiced). Limitation runs from
    # ``due_date`` (the library's), else from this, else from the invoice it is on: never from a
    # later invoice (``candidates.LIMITATION_FROM``)
    Column("first_invoice_due_date", Date, nullable=True),
    # the last per-claim sequence used for reports to collection about a claim PSRM holds
    # (``collection.HandedOverClaimChanged``; 0: none sent; decision 0022)
    Column("collection_sequence", Integer, nullable=False, default=0, server_default="0"),
    UniqueConstraint("municipality", "claim_id"),
)


# The append-only ledger: one row per money event on a claim; rows are never updated.
postings = Table(
    "debtor_posting",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("claim_pk", ID, ForeignKey("debtor_claim.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("amount_ore", BigInteger, nullable=False),  # signed: + raises, - lowers the balance
    Column("reverses", ID, ForeignKey("debtor_posting.id"), nullable=True),
    Column("booked_at", UtcDateTime, nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("message_id", String(36), nullable=True),
    Column("note", Text, nullable=False),
    # reminder_fee postings only: the reminder that charged the fee
    Column("reminder_id", ID, ForeignKey("debtor_reminder.id"), nullable=True),
    # how much of amount_ore is debtor's fees and interest (same sign, never larger); the rest
    # is the principal. Reminder fees and interest: all of it; charges and regulations: 0.
    Column("fee_part_ore", BigInteger, nullable=False),
)


# Non-money history of a claim (debtor changes, cancellation).
events = Table(
    "debtor_claim_event",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("claim_pk", ID, ForeignKey("debtor_claim.id"), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("message_id", String(36), nullable=True),
    Column("detail", Text, nullable=False),  # JSON object; CPRs masked
)


# Every registration message debtor refused, with the code and sentence sent back.
rejections = Table(
    "debtor_rejection",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("message_id", String(36), nullable=False),
    Column("message_type", String(120), nullable=False),
    Column("claim_id", String(40), nullable=True),
    Column("code", String(60), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)


payments = Table(
    "debtor_payment",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("payment_ref", String(120), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("booked_on", Date, nullable=False),
    Column("amount_ore", BigInteger, nullable=False),
    Column("payment_id", String(16), nullable=True),
    Column("account_id", ID, nullable=True),
    Column("outcome", String(20), nullable=False),  # matched | partly_matched | unmatched
    Column("covered_ore", BigInteger, nullable=False),
    Column("credit_ore", BigInteger, nullable=False),  # kept on the account (or unmatched money)
    Column("reason", Text, nullable=False),
    Column("message_id", String(36), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("reversed", Boolean, nullable=False, default=False, server_default="0"),
    UniqueConstraint("municipality", "payment_ref"),
)


# What staff refunded of an account's credit; paid out by the municipality (NemKonto).
refunds = Table(
    "debtor_refund",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("account_id", ID, ForeignKey("debtor_account.id"), nullable=False),
    Column("amount_ore", BigInteger, nullable=False),
    Column("reference", String(120), nullable=False),  # the caller's idempotency key
    Column("requested_by", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("municipality", "reference"),
)


# -- indexes beyond the primary and unique keys ------------------------------------------------

Index("ix_debtor_claim_account", claims.c.account_id)
Index("ix_debtor_claim_status", claims.c.municipality, claims.c.status)
Index("ix_debtor_claim_invoice", claims.c.invoice_id)
Index("ix_debtor_posting_claim", postings.c.claim_pk)
Index("ix_debtor_claim_event_claim", events.c.claim_pk)
Index("ix_debtor_rejection_claim", rejections.c.municipality, rejections.c.claim_id)
Index("ix_debtor_payment_account", payments.c.account_id)
Index("ix_debtor_refund_account", refunds.c.account_id)
