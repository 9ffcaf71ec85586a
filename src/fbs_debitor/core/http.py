"""What a context's HTTP routes need of the request: the wired system's database, clock and
settings.

The web layer (``fbs_debitor.web``) puts the wired system on ``app.state``; the contexts may not
import it (nor ``bootstrap``), so they see it through this protocol.
"""

from __future__ import annotations

from typing import Protocol, cast

from starlette.requests import Request

from fbs_debitor.core.clock import Clock
from fbs_debitor.core.db import Database
from fbs_debitor.settings import Settings


class RequestSystem(Protocol):
    """The part of ``bootstrap.System`` that routes use."""

    @property
    def db(self) -> Database: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def settings(self) -> Settings: ...


def request_system(request: Request) -> RequestSystem:
    """The wired system serving ``request``."""
    return cast(RequestSystem, request.app.state.system)
