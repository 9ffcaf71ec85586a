"""``fbs-debitor patron``: a library patron's side, for development and the demo."""

from __future__ import annotations

from typing import Annotated

import typer

from fbs_debitor.cli.options import DatabaseOpt, console, err_console, open_system
from fbs_debitor.core.errors import DomainError
from fbs_debitor.settings import DEFAULT_DATABASE_URL

app = typer.Typer(no_args_is_help=True, help="A library patron's side (development and demo).")


@app.command("token")
def patron_token(
    municipality: Annotated[str, typer.Option("--municipality", help="Kommunekode, 3 digits.")],
    patron: Annotated[int, typer.Option("--patron", help="The patron's id.", min=1)],
    minutes: Annotated[
        int | None,
        typer.Option(
            "--minutes",
            help="Lifetime, 1 to 60 (default FBS_DEBITOR_PATRON_TOKEN_MINUTES, 15).",
            min=1,
            max=60,
        ),
    ] = None,
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
) -> None:
    """Print a short-lived patron token for the FBS fee API at /external/agencyid/patron/patronid
    (development only: signed with FBS_DEBITOR_PATRON_TOKEN_SECRET, which the server needs too;
    refused with FBS_DEBITOR_ENV=production)."""
    from fbs_debitor.library.service.patron_access import issue_development_token

    system = open_system(database, municipality=municipality)
    try:
        with system.db.connect() as conn:
            token = issue_development_token(
                conn, system.settings, system.clock, municipality, patron, minutes
            )
    except DomainError as exc:
        err_console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from exc
    console.print(token, highlight=False)
