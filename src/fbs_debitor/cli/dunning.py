"""``fbs-debitor dunning``: debtor's invoicing, dunning (reminders, interest) and write-offs."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from fbs_debitor.cli.options import DatabaseOpt, console, err_console, open_system
from fbs_debitor.settings import DEFAULT_DATABASE_URL

app = typer.Typer(
    no_args_is_help=True, help="Debtor: invoicing, dunning (reminders, interest), write-offs."
)


def _run_date(day: str | None) -> date | None:
    """``--date`` as a date (None: today on the system's clock); exits 2 on a bad date."""
    if day is None:
        return None
    try:
        return date.fromisoformat(day)
    except ValueError as exc:
        err_console.print(f"[red]not a date (YYYY-MM-DD): {day}[/]")
        raise typer.Exit(2) from exc


@app.command("run")
def dunning_run(
    day: Annotated[
        str | None, typer.Option("--date", help="Run date YYYY-MM-DD (default: today).")
    ] = None,
    municipality: Annotated[
        str | None, typer.Option("--municipality", help="Only this kommunekode.")
    ] = None,
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Write-offs by rule, interest and reminders as of DATE. Idempotent: running a date again
    changes nothing."""
    from fbs_debitor.debtor.service.dunning import run_dunning

    on = _run_date(day)
    system = open_system(database, municipality=municipality)
    on = on or system.clock.today()
    with system.db.begin() as conn:
        result = run_dunning(conn, system.clock, on, municipality)
    summary = result.as_dict()
    if as_json:
        console.print_json(json.dumps(summary))
        return
    table = Table("figure", "value")
    for key, value in summary.items():
        table.add_row(key, str(value))
    console.print(f"dunning run for {on.isoformat()}", highlight=False)
    console.print(table)


@app.command("invoice")
def dunning_invoice(
    day: Annotated[
        str | None, typer.Option("--date", help="Run date YYYY-MM-DD (default: today).")
    ] = None,
    municipality: Annotated[
        str | None, typer.Option("--municipality", help="Only this kommunekode.")
    ] = None,
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Invoice uninvoiced claims: collected mode when due, and any claim immediate mode missed."""
    from fbs_debitor.debtor.service.invoicing import run_invoicing

    on = _run_date(day)
    system = open_system(database, municipality=municipality)
    on = on or system.clock.today()
    with system.db.begin() as conn:
        result = run_invoicing(conn, system.clock, on, municipality)
    summary = {
        "on": on.isoformat(),
        "invoices": result.invoices,
        "claims": result.claims,
        "municipalities": result.municipalities,
        "skipped": result.skipped,
    }
    if as_json:
        console.print_json(json.dumps(summary))
    else:
        console.print(
            f"{result.invoices} invoice(s) for {result.claims} claim(s) on {on.isoformat()}",
            highlight=False,
        )
