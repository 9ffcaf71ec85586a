"""Outbox and inbox tables."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from fbs_debitor.core.db import ID_TYPE, UtcDateTime, metadata

outbox = Table(
    "outbox",
    metadata,
    Column("id", ID_TYPE, primary_key=True, autoincrement=True),
    Column("message_id", String(36), nullable=False, unique=True),
    Column("message_type", String(120), nullable=False),
    Column("source", String(40), nullable=False),
    Column("municipality", String(3), nullable=False),
    Column("payload", Text, nullable=False),
    Column("ordering_key", String(120), nullable=True),
    Column("sequence", Integer, nullable=True),
    Column("leg", String(10), nullable=True),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("enqueued_at", UtcDateTime, nullable=False),
    Column("available_at", UtcDateTime, nullable=False),
    # pending -> sent | dead
    Column("status", String(10), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("deferrals", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=True),
    Column("sent_at", UtcDateTime, nullable=True),
)
# Workers take the oldest pending rows: a partial index on id, so finding them costs the same
# however many sent rows the table keeps.
Index(
    "ix_outbox_pending",
    outbox.c.id,
    postgresql_where=outbox.c.status == "pending",
    sqlite_where=outbox.c.status == "pending",
)
Index("ix_outbox_municipality", outbox.c.municipality, outbox.c.status)
# Rows waiting for an earlier message of their ordering key: the batch that applies that message
# makes them due at once, looking them up here (almost always empty, so the look-up is free).
Index(
    "ix_outbox_deferred",
    outbox.c.ordering_key,
    postgresql_where=(outbox.c.status == "pending") & (outbox.c.deferrals > 0),
    sqlite_where=(outbox.c.status == "pending") & (outbox.c.deferrals > 0),
)

inbox = Table(
    "inbox",
    metadata,
    Column("consumer", String(60), primary_key=True),
    Column("message_id", String(36), primary_key=True),
    Column("source", String(40), nullable=False),
    Column("message_type", String(120), nullable=False),
    Column("municipality", String(3), nullable=False),
    Column("leg", String(10), nullable=True),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("enqueued_at", UtcDateTime, nullable=False),
    Column("applied_at", UtcDateTime, nullable=False),
)
Index("ix_inbox_leg", inbox.c.municipality, inbox.c.leg, inbox.c.applied_at)

inbox_sequence = Table(
    "inbox_sequence",
    metadata,
    Column("consumer", String(60), primary_key=True),
    Column("ordering_key", String(120), primary_key=True),
    Column("last_sequence", Integer, nullable=False),
)
