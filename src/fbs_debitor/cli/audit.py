"""``fbs-debitor audit``: read a municipality's audit log (who did what, when and why)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from fbs_debitor.cli.options import DatabaseOpt, console, err_console, open_system
from fbs_debitor.core.errors import DomainError
from fbs_debitor.settings import DEFAULT_DATABASE_URL

app = typer.Typer(no_args_is_help=True, help="The audit log of a municipality.")


@app.command("list")
def audit_list(
    municipality: Annotated[str, typer.Option("--municipality", help="kommunekode")],
    limit: Annotated[int, typer.Option(min=1, max=10000, help="Newest entries shown.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
) -> None:
    """The newest entries of the audit log, newest first."""
    from fbs_debitor.tenants.service import audit as tenant_audit

    system = open_system(database, municipality=municipality)
    try:
        with system.db.connect() as conn:
            entries = tenant_audit.list_audit(conn, municipality, limit=limit)
    except DomainError as exc:
        err_console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from exc
    if as_json:
        console.print_json(json.dumps({"entries": entries}, default=str))
        return
    table = Table("at", "actor", "role", "action", "target", "reason", "outcome")
    for e in entries:
        table.add_row(
            str(e["at"])[:19],
            str(e["actor"]),
            str(e["role"]),
            str(e["action"]),
            str(e["target"] or ""),
            str(e["reason"] or ""),
            str(e["outcome"]),
        )
    console.print(table)
