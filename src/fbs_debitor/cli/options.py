"""Shared options of the commands: the consoles, ``--database`` and opening the wired system."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:  # the system is built lazily, so that `fik validate` starts fast
    from fbs_debitor.bootstrap import System

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


DatabaseOpt = Annotated[
    str,
    typer.Option(
        "--database",
        envvar="FBS_DEBITOR_DATABASE_URL",
        help="SQLAlchemy URL or SQLite file path (postgresql://user@host/db for PostgreSQL).",
    ),
]


def open_system(database: str) -> System:
    """The wired system on ``database``, with logging configured from its settings."""
    from fbs_debitor.bootstrap import build_system
    from fbs_debitor.logging_setup import configure_logging

    system = build_system(database)
    configure_logging(system.settings.log_level, json=system.settings.log_json)
    return system
