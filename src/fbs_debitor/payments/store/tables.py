"""The payments context's tables. Every table carries its ``municipality``; money is integer øre
(BigInteger).

* ``payments_payable``: the channels' copy of payable invoices (from ``coverage.InvoiceIssued``
  and ``coverage.InvoiceUpdated``, never written by hand);
* ``payments_bank_file``: one row per imported bank file (unique by its SHA-256, so importing
  the same file again adds nothing);
* ``payments_bank_entry``: one row per payment found in a bank file, unique by its bank key,
  with its state and, once debtor has answered, the allocation;
* ``payments_register_payment``: payments at a cash register, unique by receipt number, with
  the tender and, for cash, what was taken and the rounding line;
* ``payments_bank_upload``: one row per bank file uploaded over HTTP: the background job that
  imports it (queued -> importing -> done | failed), its progress and its result.
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

_ID = ID_TYPE


payables = Table(
    "payments_payable",
    metadata,
    Column("municipality", String(3), primary_key=True),
    Column("invoice_id", String(40), primary_key=True),
    Column("payment_id", String(16), nullable=False),
    Column("creditor_number", String(8), nullable=False),
    Column("debtor_id_masked", String(20), nullable=False),
    Column("amount_ore", BigInteger, nullable=False),
    Column("amount_due_ore", BigInteger, nullable=False),
    # open | paid | closed
    Column("status", String(10), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("last_timely_payment_date", Date, nullable=False),
    Column("claim_ids", Text, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("municipality", "payment_id"),
)


bank_files = Table(
    "payments_bank_file",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("document", String(20), nullable=False),
    # importing -> done
    Column("status", String(12), nullable=False),
    Column("entries", Integer, nullable=False),
    Column("summary", Text, nullable=True),
    Column("imported_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    UniqueConstraint("municipality", "sha256"),
)


bank_entries = Table(
    "payments_bank_entry",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("entry_key", String(120), nullable=False),
    Column("file_id", _ID, ForeignKey("payments_bank_file.id"), nullable=False),
    # matched | partly_matched | unmatched | reversed | error (duplicates are not stored)
    Column("state", String(16), nullable=False),
    Column("reason", Text, nullable=True),
    Column("record_id", String(40), nullable=True),
    Column("account", String(40), nullable=True),
    Column("entry_index", Integer, nullable=False),
    Column("tx_index", Integer, nullable=True),
    Column("credit", Boolean, nullable=False),
    Column("reversal", Boolean, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", String(40), nullable=False),
    Column("amount_ore", BigInteger, nullable=True),
    Column("booked_on", Date, nullable=True),
    Column("reference", String(140), nullable=True),
    Column("payment_id", String(16), nullable=True),
    Column("invoice_id", String(40), nullable=True),
    Column("amount_due_ore", BigInteger, nullable=True),
    Column("payer_text", Text, nullable=False),
    Column("message_id", String(36), nullable=True),
    Column("reverses_key", String(120), nullable=True),
    Column("reversed_by_key", String(120), nullable=True),
    Column("allocation", String(20), nullable=True),
    Column("covered_ore", BigInteger, nullable=True),
    Column("credit_ore", BigInteger, nullable=True),
    Column("allocation_reason", Text, nullable=True),
    Column("allocated_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("municipality", "entry_key"),
)


register_payments = Table(
    "payments_register_payment",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("receipt", String(100), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("debtor_masked", String(20), nullable=False),
    # card (exact) | cash (rounded to 50 øre; decision 0014)
    Column("tender", String(10), nullable=False, default="card", server_default="card"),
    # what the payment settles, exact: what debtor receives
    Column("amount_ore", BigInteger, nullable=False),
    # cash only: what the citizen handed over (amount_ore rounded to 50 øre); None for card
    Column("cash_ore", BigInteger, nullable=True),
    # the rounding line: cash_ore - amount_ore (-24..+25 øre), booked on the rounding account
    Column("rounding_ore", BigInteger, nullable=False, default=0, server_default="0"),
    Column("booked_on", Date, nullable=False),
    Column("invoice_ids", Text, nullable=False),
    Column("claim_ids", Text, nullable=False),
    Column("message_id", String(36), nullable=False),
    Column("allocation", String(20), nullable=True),
    Column("covered_ore", BigInteger, nullable=True),
    Column("credit_ore", BigInteger, nullable=True),
    Column("allocation_reason", Text, nullable=True),
    Column("allocated_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("municipality", "receipt"),
)


bank_uploads = Table(
    "payments_bank_upload",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    # queued -> importing -> done | failed
    Column("state", String(10), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("dry_run", Boolean, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    # where the body was spooled, on the disk of the API process named by ``node``
    Column("spool_path", Text, nullable=False),
    Column("node", String(255), nullable=False),
    # progress while importing: payments read so far
    Column("payments", BigInteger, nullable=False, default=0, server_default="0"),
    # the import summary (JSON) once done; the refusal's code and sentence once failed
    Column("summary", Text, nullable=True),
    Column("error_code", String(60), nullable=True),
    Column("error_detail", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    # the job's heartbeat: a job importing whose heartbeat stopped is taken up again
    Column("updated_at", UtcDateTime, nullable=False),
)


# -- indexes beyond the primary and unique keys ------------------------------------------------

Index("ix_payments_payable_debtor", payables.c.municipality, payables.c.debtor_id_masked)
Index("ix_payments_bank_entry_state", bank_entries.c.municipality, bank_entries.c.state)
Index("ix_payments_bank_entry_reference", bank_entries.c.municipality, bank_entries.c.reference)
Index("ix_payments_bank_upload_state", bank_uploads.c.state, bank_uploads.c.node)
