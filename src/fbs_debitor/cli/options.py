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


def open_system(database: str, *, municipality: str | None = None) -> System:
    """The wired system on ``database``, with logging configured from its settings. With
    ``municipality``, exit 2 with a clear message unless that municipality exists (so a command
    given an unknown kommunekode does nothing at all)."""
    from fbs_debitor.bootstrap import build_system
    from fbs_debitor.logging_setup import configure_logging

    system = build_system(database)
    configure_logging(system.settings.log_level, json=system.settings.log_json)
    if municipality is not None:
        require_municipality(system, municipality)
    return system


def require_municipality(system: System, kommunekode: str) -> None:
    """Exit 2 unless the municipality ``kommunekode`` exists in ``system``: the one check of
    every command that takes ``--municipality``."""
    from fbs_debitor.tenants.service import municipalities as tenants

    with system.db.connect() as conn:
        found = tenants.find_municipality(conn, kommunekode)
    if found is None:
        shown = kommunekode[:20] + ("..." if len(kommunekode) > 20 else "")
        err_console.print(
            f"[red]no municipality {shown!r}: nothing was done. `fbs-debitor municipality list` "
            "shows the municipalities there are; `fbs-debitor municipality create` makes one.[/]",
            highlight=False,
        )
        raise typer.Exit(2)
