"""``fbs-debitor library``: the library (FBS side): moving old balances to debtor."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer

from fbs_debitor.cli.options import DatabaseOpt, console, err_console, open_system
from fbs_debitor.core.errors import DomainError
from fbs_debitor.settings import DEFAULT_DATABASE_URL

app = typer.Typer(no_args_is_help=True, help="The library (FBS side): old balances.")


@app.command("move-old")
def library_move_old(
    municipality: Annotated[str, typer.Option("--municipality", help="Kommunekode, 3 digits.")],
    day: Annotated[str, typer.Option("--date", help="The move date, YYYY-MM-DD (not future).")],
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Move the municipality's open old fees (before the cutoff) to debtor as of DATE."""
    from fbs_debitor.library.service.accounts import move_old_balances

    try:
        on = date.fromisoformat(day)
    except ValueError as exc:
        err_console.print(f"[red]not a date (YYYY-MM-DD): {day}[/]")
        raise typer.Exit(2) from exc
    system = open_system(database, municipality=municipality)
    try:
        with system.db.begin() as conn:
            result = move_old_balances(conn, system.clock, municipality, on)
    except DomainError as exc:
        err_console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from exc
    summary = {
        "moved": result.moved,
        "sent": result.sent,
        "held": result.held,
        "total_ore": result.total.ore,
    }
    if as_json:
        console.print_json(json.dumps(summary))
    else:
        console.print(
            f"moved {result.moved} old fee(s) of {municipality} to debtor as of {on.isoformat()} "
            f"({result.total}): {result.sent} sent, {result.held} held until their kind is mapped"
        )
