"""What the collection context needs from outside, wired by ``bootstrap``: the PSRM adapter and
debtor's read of its open claims. The handlers, the CLI and the HTTP routes take it from here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Connection
from starlette.requests import Request

from fbs_debitor.collection.adapters.psrm.interface import Psrm
from fbs_debitor.collection.service.handover import FactsSource
from fbs_debitor.core.errors import ValidationError


@dataclass(frozen=True)
class Wiring:
    """What the collection context needs from outside, wired by ``bootstrap``.

    psrm:            the PSRM adapter.
    facts:           debtor's facts of a municipality's open claims on a date.
    municipalities:  the municipalities with a debtor set-up (the hand-over run's list).
    """

    psrm: Psrm
    facts: FactsSource
    municipalities: Callable[[Connection], list[str]]


def wiring_of(request: Request) -> Wiring:
    """The wiring of the system serving ``request`` (``bootstrap.System.collection``)."""
    wiring = cast("Wiring | None", getattr(request.app.state.system, "collection", None))
    if wiring is None:
        raise ValidationError("collection is not wired in this process", code="no-collection")
    return wiring
