"""``fbs-debitor key``: API keys (one municipality, one role)."""

from __future__ import annotations

from typing import Annotated

import typer

from fbs_debitor.cli.options import DatabaseOpt, console, err_console, open_system
from fbs_debitor.core.errors import DomainError
from fbs_debitor.settings import DEFAULT_DATABASE_URL

app = typer.Typer(no_args_is_help=True, help="API keys (one municipality, one role).")


@app.command("create")
def key_create(
    municipality: Annotated[str, typer.Option(help="kommunekode")],
    role: Annotated[
        str, typer.Option(help="library, integration, debtor-staff, cash-register, ops, admin")
    ],
    label: Annotated[str, typer.Option(help="Who or what uses the key.")] = "",
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
) -> None:
    """Make an API key for one municipality and one role (printed once)."""
    from fbs_debitor.tenants import service as tenants
    from fbs_debitor.tenants.model import Role

    system = open_system(database, municipality=municipality)
    try:
        with system.db.begin() as conn:
            key = tenants.create_api_key(
                conn, system.clock, municipality, Role(role), label or role
            )
    except (DomainError, ValueError) as exc:
        err_console.print(f"[red]{getattr(exc, 'detail', exc)}[/]")
        raise typer.Exit(2) from exc
    console.print(key)
