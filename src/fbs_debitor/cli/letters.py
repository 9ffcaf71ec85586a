"""``fbs-debitor letters``: debtor's letter outbox (invoices, reminders)."""

from __future__ import annotations

from typing import Annotated

import typer

from fbs_debitor.cli.options import DatabaseOpt, console, open_system
from fbs_debitor.settings import DEFAULT_DATABASE_URL

app = typer.Typer(no_args_is_help=True, help="Debtor: the letter outbox (invoices, reminders).")


@app.command("deliver")
def letters_deliver(
    out: Annotated[
        str | None,
        typer.Option(
            "--out", help="Folder for <kommunekode>/<id>.pdf (default FBS_DEBITOR_LETTER_DIR)."
        ),
    ] = None,
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    limit: Annotated[int | None, typer.Option(help="Deliver at most this many.")] = None,
) -> None:
    """Render every pending letter as PDF into the folder, addressed by the address look-up
    (FBS_DEBITOR_ADDRESS_LOOKUP), and mark it delivered; a letter without an address waits."""
    from pathlib import Path

    from fbs_debitor.debtor.adapters.address.configured import configured_lookup
    from fbs_debitor.debtor.service.letters import deliver_letters

    system = open_system(database)
    folder = Path(out or system.settings.letter_dir)
    lookup = configured_lookup(system.settings, system.clock)
    n = deliver_letters(system.db, system.clock, folder, lookup=lookup, limit=limit)
    console.print(f"delivered {n} letter(s) to {folder}", highlight=False)
