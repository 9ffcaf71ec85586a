"""``fbs-debitor db``: the database schema (Alembic migrations)."""

from __future__ import annotations

import typer

from fbs_debitor.cli.options import DatabaseOpt, console, open_system
from fbs_debitor.settings import DEFAULT_DATABASE_URL

app = typer.Typer(no_args_is_help=True, help="Database schema.")


@app.command("upgrade")
def db_upgrade(database: DatabaseOpt = DEFAULT_DATABASE_URL) -> None:
    """Migrate the database schema to the newest version."""
    from fbs_debitor.migrate import current, upgrade

    system = open_system(database)
    upgrade(system.db)
    console.print(f"[green]database at revision {current(system.db)}[/] ({system.db.display_url})")
