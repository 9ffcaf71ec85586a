"""Every table of the collection context (SQLAlchemy Core). Each starts with ``collection_`` and
carries the municipality; money is BigInteger øre, business dates ``Date``, timestamps aware UTC.

* ``collection_claim``: one row per claim ever handed to PSRM (unique per municipality and claim
  id: the row's insert is what makes a hand-over happen exactly once, whatever runs repeat or
  race), with its state and PSRM's id of it;
* ``collection_action``: every action sent or to be sent to PSRM (OPRETFORDRING, NEDSKRIV,
  OPSKRIV, TILBAGEKALD), keyed by our ``aktion_id`` (PSRM's idempotency key), with what PSRM
  answered; its ``amount_ore`` is the signed change of what PSRM should hold;
* ``collection_receipt`` and ``collection_notification``: every receipt and notification read
  from PSRM, unique by PSRM's id (a receipt or notification read twice applies once);
* ``collection_cursor``: where the reads of receipts and notifications got to;
* ``collection_run``: every hand-over run with its counts and the claims waiting for a person.

What PSRM holds of a claim is not stored: it is the sum of the claim's done actions less its
settlements and write-offs (``store.claims.psrm_balances``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from fbs_debitor.core.db import ID_TYPE, UtcDateTime, metadata

ID = ID_TYPE

claims = Table(
    "collection_claim",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("claim_id", String(40), nullable=False),  # the library's id (our PSRM reference)
    # submitted | done | hearing | returned | released | recalled (``model.claims.State``)
    Column("state", String(10), nullable=False),
    Column("psrm_claim_type", String(40), nullable=False),
    Column("psrm_claim_id", String(40), nullable=True),  # from the UDFOERT receipt
    Column("handed_over_on", Date, nullable=False),  # the run's date (the latest hand-over)
    Column("handed_over_ore", BigInteger, nullable=False),  # principal + fees + interest sent
    Column("return_code", String(40), nullable=True),  # why PSRM rejected or sent it back
    Column("return_reason", Text, nullable=True),
    # the last per-claim sequence of messages to debtor (key collection:<m>:<claim>)
    Column("sequence", Integer, nullable=False),
    # the last per-claim sequence of queued PSRM actions (key psrm:<m>:<claim>)
    Column("action_sequence", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("municipality", "claim_id"),
)
Index("ix_collection_claim_state", claims.c.municipality, claims.c.state)

actions = Table(
    "collection_action",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("claim_id", String(40), nullable=False),
    Column("aktion_id", String(36), nullable=False),
    Column(
        "aktion", String(14), nullable=False
    ),  # OPRETFORDRING | NEDSKRIV | OPSKRIV | TILBAGEKALD
    Column("aarsagskode", String(4), nullable=True),
    Column("amount_ore", BigInteger, nullable=False),  # signed change of what PSRM holds
    Column("virkningsdato", Date, nullable=False),
    Column("body", Text, nullable=False),  # the FordringAktion as JSON (model.actions)
    # queued | sent | UDFOERT | AFVIST | HOERING
    Column("status", String(10), nullable=False),
    Column("cause", String(60), nullable=False),  # handover | a debtor report's change
    Column("attempts", Integer, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("answer_code", String(40), nullable=True),
    Column("answer_text", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("aktion_id"),
)
Index("ix_collection_action_claim", actions.c.municipality, actions.c.claim_id)
Index("ix_collection_action_status", actions.c.municipality, actions.c.status)

receipts = Table(
    "collection_receipt",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("kvittering_id", String(60), nullable=False),
    Column("aktion_id", String(36), nullable=False),
    Column("claim_id", String(40), nullable=False),
    Column("status", String(10), nullable=False),
    Column("code", String(40), nullable=False),
    Column("text", Text, nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    UniqueConstraint("municipality", "kvittering_id"),
)

notifications = Table(
    "collection_notification",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("underretning_id", String(60), nullable=False),
    Column("type", String(12), nullable=False),  # AFREGNING | TILBAGESEND | AFSKRIVNING
    Column("claim_id", String(40), nullable=False),
    Column("psrm_claim_id", String(40), nullable=False),
    Column("amount_ore", BigInteger, nullable=False),
    Column("betalingsdato", Date, nullable=False),
    Column("afregningsdato", Date, nullable=True),
    Column("text", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    UniqueConstraint("municipality", "underretning_id"),
)
Index("ix_collection_notification_claim", notifications.c.municipality, notifications.c.claim_id)

cursors = Table(
    "collection_cursor",
    metadata,
    Column("municipality", String(3), primary_key=True),
    Column("feed", String(13), primary_key=True),  # receipts | notifications
    Column("cursor", Text, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
)

runs = Table(
    "collection_run",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(3), nullable=False),
    Column("run_on", Date, nullable=False),
    Column("evaluated", BigInteger, nullable=False),
    Column("eligible", BigInteger, nullable=False),
    Column("handed_over", BigInteger, nullable=False),
    Column("not_eligible", Text, nullable=False),  # JSON {reason: count}
    Column("waiting", Text, nullable=False),  # JSON [[claim id, reason], ...] for a person
    Column("at", UtcDateTime, nullable=False),
)
Index("ix_collection_run", runs.c.municipality, runs.c.run_on)
