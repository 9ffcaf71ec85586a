"""``fbs-debitor import``: payments in from bank files (camt.054 / camt.053)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from fbs_debitor.cli.options import DatabaseOpt, console, err_console, open_system
from fbs_debitor.core.errors import DomainError
from fbs_debitor.settings import DEFAULT_DATABASE_URL

app = typer.Typer(no_args_is_help=True, help="Payments in: bank files (camt.054 / camt.053).")


@app.command("camt")
def import_camt(
    file: Annotated[str, typer.Argument(help="A camt.054 or camt.053 XML file.")],
    municipality: Annotated[str, typer.Option("--municipality", help="Kommunekode, 3 digits.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and match only; change nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
) -> None:
    """Import a bank file: validate it against its XSD (refused whole if invalid, exit 2), match
    each payment's FIK payment ID to the payable invoices and send the payments to debtor.
    Importing the same file again is harmless: its entries are reported as duplicates."""
    from pathlib import Path

    from fbs_debitor.core.money import Money
    from fbs_debitor.payments.service.bank import import_bank_file

    path = Path(file)
    if not path.is_file():
        err_console.print(f"[red]no such file: {file}[/]")
        raise typer.Exit(2)
    system = open_system(database, municipality=municipality)
    try:
        summary = import_bank_file(system.db, system.clock, municipality, path, dry_run=dry_run)
    except DomainError as exc:
        if as_json:
            console.print_json(
                json.dumps({"refused": True, "code": exc.code, "detail": exc.detail})
            )
        else:
            err_console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from exc
    result = summary.to_json()
    if as_json:
        console.print_json(json.dumps(result))
        return
    table = Table("state", "payments")
    for state in ("matched", "partly_matched", "unmatched", "duplicate", "reversed", "error"):
        table.add_row(state, str(result[state]))
    table.add_row("not booked (entries)", str(result["not_booked"]))
    console.print(
        f"{'dry run, nothing changed: ' if dry_run else ''}{result['file']} "
        f"({result['document']}): {result['entries']} entries, {result['payments']} payments, "
        f"{Money(result['total_ore'])} to debtor",
        highlight=False,
    )
    console.print(table)
    for error in result["errors"]:
        console.print(f"[yellow]{error['entry_reference']}[/]: {error['reason']}", highlight=False)


@app.command("job", hidden=True)
def import_job(
    job_id: Annotated[int, typer.Argument(help="The bank upload job to run.")],
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
) -> None:
    """Run one bank upload job (``serve`` starts this for every uploaded bank file): import the
    spooled file and record the outcome on the job. A job that is finished or running elsewhere
    is left alone."""
    from fbs_debitor.payments.service.uploads import run_job

    system = open_system(database)
    ran = run_job(system.db, system.clock, job_id)
    if not ran:
        err_console.print(f"bank upload job {job_id} is finished or taken; nothing done")
