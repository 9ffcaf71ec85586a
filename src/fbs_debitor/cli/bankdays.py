"""``fbs-debitor bankdays``: Danish bank days."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from fbs_debitor.cli.options import console, err_console
from fbs_debitor.core import bankdays

app = typer.Typer(no_args_is_help=True, help="Danish bank days.")


@app.command("next")
def bankdays_next(day: Annotated[str, typer.Argument(help="A date, YYYY-MM-DD.")]) -> None:
    """The bank day on or after DATE."""
    try:
        d = date.fromisoformat(day)
    except ValueError as exc:
        err_console.print(f"[red]not a date (YYYY-MM-DD): {day}[/]")
        raise typer.Exit(2) from exc
    console.print(bankdays.next_bank_day(d).isoformat())
