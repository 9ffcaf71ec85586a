"""``fbs-debitor municipality``: municipalities and their set-up."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from fbs_debitor.cli.options import DatabaseOpt, console, err_console, open_system
from fbs_debitor.core.errors import DomainError
from fbs_debitor.settings import DEFAULT_DATABASE_URL

app = typer.Typer(no_args_is_help=True, help="Municipalities and their set-up.")


@app.command("create")
def municipality_create(
    kommunekode: Annotated[str, typer.Argument(help="3-digit kommunekode, e.g. 461")],
    name: Annotated[str, typer.Option(help="The municipality's name.")],
    agency: Annotated[str, typer.Option(help="The library's 6-digit agency id, e.g. 746100.")],
    creditor: Annotated[str, typer.Option(help="FIK creditor number (8 digits, starts with 8).")],
    cutoff: Annotated[str | None, typer.Option(help="Go-live date YYYY-MM-DD.")] = None,
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
) -> None:
    """Create a municipality and an admin API key for it (printed once)."""
    from fbs_debitor.tenants import service as tenants
    from fbs_debitor.tenants.model import Role

    system = open_system(database)
    try:
        cutoff_date = date.fromisoformat(cutoff) if cutoff else None
        with system.db.begin() as conn:
            tenants.create_municipality(
                conn,
                system.clock,
                kommunekode=kommunekode,
                name=name,
                agency_id=agency,
                creditor_number=creditor,
                cutoff_date=cutoff_date,
            )
            key = tenants.create_api_key(conn, system.clock, kommunekode, Role.ADMIN, "first admin")
    except (DomainError, ValueError) as exc:
        err_console.print(f"[red]{getattr(exc, 'detail', exc)}[/]")
        raise typer.Exit(2) from exc
    console.print(f"municipality {kommunekode} created; admin API key (shown once): {key}")


@app.command("list")
def municipality_list(database: DatabaseOpt = DEFAULT_DATABASE_URL) -> None:
    """Every municipality with its set-up."""
    from fbs_debitor.tenants import service as tenants

    system = open_system(database)
    with system.db.connect() as conn:
        rows = tenants.list_municipalities(conn)
    table = Table("kommunekode", "name", "agency", "creditor", "vendor", "cutoff")
    for m in rows:
        table.add_row(
            m.kommunekode,
            m.name,
            m.agency_id,
            m.creditor_number,
            m.debtor_vendor.value,
            m.cutoff_date.isoformat() if m.cutoff_date else "-",
        )
    console.print(table)
