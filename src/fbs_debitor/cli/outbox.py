"""``fbs-debitor outbox``: the message outbox, its status and dead letters."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from fbs_debitor.cli.options import DatabaseOpt, console, open_system
from fbs_debitor.settings import DEFAULT_DATABASE_URL

app = typer.Typer(no_args_is_help=True, help="The message outbox: status and dead letters.")


@app.command("status")
def outbox_status(database: DatabaseOpt = DEFAULT_DATABASE_URL) -> None:
    """Messages by type and state."""
    from sqlalchemy import func, select

    from fbs_debitor.messaging.store import outbox

    system = open_system(database)
    with system.db.connect() as conn:
        rows = conn.execute(
            select(outbox.c.message_type, outbox.c.status, func.count())
            .group_by(outbox.c.message_type, outbox.c.status)
            .order_by(outbox.c.message_type)
        ).all()
    table = Table("message type", "status", "count")
    for message_type, status, count in rows:
        table.add_row(message_type, status, str(count))
    console.print(table)


@app.command("dead")
def outbox_dead(
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    retry: Annotated[bool, typer.Option(help="Put every dead letter back in the queue.")] = False,
) -> None:
    """List dead letters with their last error; ``--retry`` queues them again."""
    from sqlalchemy import select, true

    from fbs_debitor.messaging.outbox import requeue_dead
    from fbs_debitor.messaging.store import outbox

    system = open_system(database)
    with system.db.begin() as conn:
        rows = conn.execute(
            select(
                outbox.c.message_id, outbox.c.message_type, outbox.c.attempts, outbox.c.last_error
            )
            .where(outbox.c.status == "dead")
            .order_by(outbox.c.id)
        ).all()
        if retry and rows:
            requeue_dead(conn, true())
    table = Table("message id", "type", "attempts", "last error")
    for r in rows:
        table.add_row(r.message_id, r.message_type, str(r.attempts), r.last_error or "")
    console.print(table)
    if retry:
        console.print(f"{len(rows)} dead letter(s) queued again")
