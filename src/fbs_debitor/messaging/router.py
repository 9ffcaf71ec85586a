"""Which consumers handle which message types."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from fbs_debitor.messaging.envelope import Envelope

Handler = Callable[[Connection, Envelope], None]
"""Applies one message inside the worker's transaction; raises to have it retried."""

BatchHandler = Callable[[Connection, list[Envelope]], None]
"""Applies several messages in order, inside the worker's transaction (all or nothing)."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """``handler`` applies one message; ``batch``, if given, applies a run of consecutive
    messages at once (the worker's fast path) and must have the same effect as calling
    ``handler`` on each in turn."""

    consumer: str
    handler: Handler
    batch: BatchHandler | None = None


class Router:
    """Subscriptions by message type. A message with no subscriber is marked sent and kept."""

    def __init__(self) -> None:
        self._subs: dict[str, list[Subscription]] = {}

    def subscribe(
        self,
        message_type: str,
        consumer: str,
        handler: Handler,
        batch: BatchHandler | None = None,
    ) -> None:
        subs = self._subs.setdefault(message_type, [])
        if any(s.consumer == consumer for s in subs):
            raise ValueError(f"{consumer} already subscribes to {message_type}")
        subs.append(Subscription(consumer, handler, batch))

    def subscribers(self, message_type: str) -> list[Subscription]:
        return self._subs.get(message_type, [])

    @property
    def message_types(self) -> list[str]:
        return sorted(self._subs)
