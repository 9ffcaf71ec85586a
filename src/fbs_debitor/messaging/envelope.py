"""The envelope every message travels in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message as a consumer sees it.

    message_id:   globally unique id (UUID text); the inbox deduplicates on it.
    message_type: contract name and version, e.g. ``registration.ClaimRegistered.v1``.
    source:       the sending context (``library``, ``debtor``, ...).
    municipality: the kommunekode the message belongs to (3 digits).
    payload:      the contract's JSON form.
    occurred_at:  when the business event happened, on the sender's (possibly simulated) clock.
    enqueued_at:  wall-clock time the outbox row was written; the start of the leg's delay.
    ordering_key: messages with the same key are applied in ``sequence`` order (None: unordered).
    sequence:     1, 2, 3, ... per ``ordering_key``; None when unordered.
    leg:          which of the four flows the message closes (``leg1`` .. ``leg4``), or None.
    attempts:     deliveries tried before this one.
    """

    message_id: str
    message_type: str
    source: str
    municipality: str
    payload: dict[str, Any]
    occurred_at: datetime
    enqueued_at: datetime
    ordering_key: str | None = None
    sequence: int | None = None
    leg: str | None = None
    attempts: int = 0
