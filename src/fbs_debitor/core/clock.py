"""The injected clock: one replaceable "now".

Timestamps are timezone-aware UTC; business dates (due dates, cutoff) are ``date`` in
Europe/Copenhagen. Nothing in the domain reads the system time directly: it asks a ``Clock``.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def today(self) -> date:
        """The current business date in Europe/Copenhagen."""
        ...


def business_date(instant: datetime) -> date:
    """The Copenhagen calendar date of an aware instant."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: timestamps must be timezone-aware")
    return instant.astimezone(COPENHAGEN).date()


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return business_date(self.now())


class SettableClock:
    """A clock that stands still until told to move; for tests and simulations. Thread-safe."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("naive datetime: timestamps must be timezone-aware")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    @classmethod
    def at_date(cls, day: date, hour: int = 9) -> SettableClock:
        """A clock at ``hour`` o'clock Copenhagen time on ``day``."""
        return cls(datetime(day.year, day.month, day.day, hour, tzinfo=COPENHAGEN))

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def today(self) -> date:
        return business_date(self.now())

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("naive datetime: timestamps must be timezone-aware")
        with self._lock:
            self._now = instant.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now = self._now + delta

    def set_date(self, day: date, hour: int = 9) -> None:
        self.set(datetime(day.year, day.month, day.day, hour, tzinfo=COPENHAGEN))
