"""Incoming contracts -> service calls."""

from __future__ import annotations

from fbs_debitor.core.clock import Clock
from fbs_debitor.messaging import Router


def register(router: Router, clock: Clock) -> None:
    """Subscribe this context's handlers."""
    _ = (router, clock)
