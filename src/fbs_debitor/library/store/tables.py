"""The library context's tables.

Every table carries its ``municipality``; money is integer øre (BigInteger); FBS ids (``feeId``,
``patronid``) are the integer primary keys. ``library_municipality`` and ``library_sortiment``
are the library's copies of the tenants context's set-up (filled by handlers, never by hand).
Queries are in :mod:`store` (patrons, fees, their events and payments) and :mod:`setup_copy`
(the set-up copies).
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
    false,
)

from fbs_debitor.core.db import ID_TYPE, UtcDateTime, metadata

_ID = ID_TYPE

municipalities = Table(
    "library_municipality",
    metadata,
    Column("municipality", String(3), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("agency_id", String(6), nullable=False, unique=True),
    Column("cutoff_date", Date, nullable=True),
    Column("configured_at", UtcDateTime, nullable=False),
)

sortiment = Table(
    "library_sortiment",
    metadata,
    Column("municipality", String(3), primary_key=True),
    Column("claim_kind", String(40), primary_key=True),
    Column("debtor_classification", String(40), nullable=False),
    Column("psrm_claim_type", String(40), nullable=False),
    Column("mapped_at", UtcDateTime, nullable=False),
)

patrons = Table(
    "library_patron",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False, index=True),
    Column("cpr", String(10), nullable=True),
    Column("guardian_cpr", String(10), nullable=True),
    Column("cvr", String(8), nullable=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

fees = Table(
    "library_fee",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("patron_id", _ID, ForeignKey("library_patron.id"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("reason_message", String(200), nullable=False),
    Column("amount_ore", BigInteger, nullable=False),
    Column("open_ore", BigInteger, nullable=False),
    Column("status", String(12), nullable=False),
    Column("old", Boolean, nullable=False),
    Column("moved_on", Date, nullable=True),
    Column("creation_date", Date, nullable=False),
    Column("due_date", Date, nullable=True),
    Column("paid_date", Date, nullable=True),
    Column("acknowledged", Boolean, nullable=False),
    Column("debtor_state", String(12), nullable=False),
    Column("debtor_reason", Text, nullable=True),
    Column("debtor_note", Text, nullable=True),
    Column("debtor_balance_ore", BigInteger, nullable=True),
    Column("last_sequence", Integer, nullable=False),
    Column("registration_message_id", String(36), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # handed over to state collection: the citizen pays Gældsstyrelsen (ClaimCollectionChanged)
    Column("in_collection", Boolean, nullable=False, default=False, server_default=false()),
)
Index("ix_library_fee_patron", fees.c.municipality, fees.c.patron_id)
Index("ix_library_fee_debtor_state", fees.c.municipality, fees.c.debtor_state, fees.c.kind)
Index("ix_library_fee_old_open", fees.c.municipality, fees.c.old, fees.c.status)

fee_materials = Table(
    "library_fee_material",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("fee_id", _ID, ForeignKey("library_fee.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("record_id", String(40), nullable=False),
    Column("item_number", String(40), nullable=False),
    Column("material_group", String(60), nullable=False),
    Column("title", String(300), nullable=True),
)

fee_events = Table(
    "library_fee_event",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("fee_id", _ID, ForeignKey("library_fee.id"), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("amount_ore", BigInteger, nullable=False),
    Column("text", Text, nullable=False),
    Column("message_id", String(36), nullable=True),
    Column("sequence", Integer, nullable=True),
)

payments = Table(
    "library_payment",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("fee_id", _ID, ForeignKey("library_fee.id"), nullable=False, unique=True),
    Column("patron_id", _ID, nullable=False),
    Column("order_id", String(100), nullable=False),
    Column("amount_ore", BigInteger, nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
Index("ix_library_payment_order", payments.c.municipality, payments.c.order_id)
