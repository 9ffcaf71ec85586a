"""The ``fbs-debitor`` command line (Typer + Rich): the root command and its groups, one module
per group."""

from __future__ import annotations

import typer

from fbs_debitor.cli import (
    audit,
    bankdays,
    contracts,
    db,
    dunning,
    fik,
    imports,
    keys,
    letters,
    library,
    municipality,
    outbox,
    patron,
    psrm,
    serve,
)

app = typer.Typer(no_args_is_help=True, help="fbs-debitor: library fees, debtor system, payments.")
app.command()(serve.serve)
app.command("worker")(serve.worker_cmd)
app.command()(serve.demo)
app.add_typer(db.app, name="db")
app.add_typer(fik.app, name="fik")
app.add_typer(bankdays.app, name="bankdays")
app.add_typer(outbox.app, name="outbox")
app.add_typer(municipality.app, name="municipality")
app.add_typer(keys.app, name="key")
app.add_typer(audit.app, name="audit")
app.add_typer(contracts.app, name="contracts")
app.add_typer(library.app, name="library")
app.add_typer(imports.app, name="import")
app.add_typer(dunning.app, name="dunning")
app.add_typer(letters.app, name="letters")
app.add_typer(patron.app, name="patron")
app.add_typer(psrm.app, name="psrm")
