"""``fbs-debitor psrm``: hand-over of unpaid claims to state collection (PSRM), PSRM's receipts
and settlements, and the claims that wait for a person."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from fbs_debitor.cli.options import DatabaseOpt, console, err_console, open_system
from fbs_debitor.settings import DEFAULT_DATABASE_URL

app = typer.Typer(
    no_args_is_help=True,
    help="State collection (PSRM): hand-over, receipts and settlements, returned claims.",
)

MunicipalityOpt = Annotated[
    str | None, typer.Option("--municipality", help="Only this kommunekode.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _run_date(day: str | None) -> date | None:
    if day is None:
        return None
    try:
        return date.fromisoformat(day)
    except ValueError as exc:
        err_console.print(f"[red]not a date (YYYY-MM-DD): {day}[/]")
        raise typer.Exit(2) from exc


def _print(summary: dict[str, object], title: str, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(summary))
        return
    table = Table("figure", "value")
    for key, value in summary.items():
        table.add_row(key, json.dumps(value) if isinstance(value, dict) else str(value))
    console.print(title, highlight=False)
    console.print(table)


@app.command("handover")
def psrm_handover(
    day: Annotated[
        str | None, typer.Option("--date", help="Run date YYYY-MM-DD (default: today).")
    ] = None,
    municipality: MunicipalityOpt = None,
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    as_json: JsonOpt = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only evaluate: hand nothing over.")
    ] = False,
    send: Annotated[
        bool,
        typer.Option(
            "--send/--no-send",
            help="Deliver the queued PSRM actions now (default), or leave them to the worker.",
        ),
    ] = True,
) -> None:
    """Hand every eligible claim over to PSRM as of DATE: each claim once, however often the
    run is repeated. Prints evaluated, eligible, handed_over and not_eligible (a count per
    reason)."""
    from fbs_debitor.collection.service.handover import (
        HandoverResult,
        evaluate_claims,
        run_handover,
    )

    on = _run_date(day)
    system = open_system(database, municipality=municipality)
    wiring = system.collection
    assert wiring is not None
    on = on or system.clock.today()
    with system.db.connect() as conn:
        targets = [municipality] if municipality else wiring.municipalities(conn)
    total = HandoverResult(on=on, municipality=municipality or "*")
    for m in targets:
        with system.db.begin() as conn:
            if dry_run:
                ev = evaluate_claims(conn, m, on, wiring.facts)
                result = HandoverResult(
                    on=on,
                    municipality=m,
                    evaluated=ev.evaluated,
                    eligible=len(ev.eligible),
                    not_eligible=ev.not_eligible,
                    waiting=ev.waiting,
                )
            else:
                result = run_handover(conn, system.clock, on, m, wiring.facts)
        total.evaluated += result.evaluated
        total.eligible += result.eligible
        total.handed_over += result.handed_over
        total.not_eligible.update(result.not_eligible)
        total.waiting.extend(result.waiting)
    if send and not dry_run and total.handed_over:
        system.drain()
    summary = total.as_dict()
    if dry_run:
        summary["dry_run"] = True
    _print(summary, f"hand-over to PSRM for {on.isoformat()}", as_json)


@app.command("sync")
def psrm_sync(
    municipality: MunicipalityOpt = None,
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    as_json: JsonOpt = False,
) -> None:
    """Read PSRM's receipts (done, rejected, hearing) and notifications (settlements, returns,
    write-offs) and apply each once; then deliver what they caused (payments to debtor)."""
    from fbs_debitor.collection.adapters.psrm.interface import PsrmError
    from fbs_debitor.collection.service.exchange import SyncResult, sync

    system = open_system(database, municipality=municipality)
    wiring = system.collection
    assert wiring is not None
    from fbs_debitor.collection.store import claims as store

    system.drain()  # actions still queued go first, so their receipts can come back
    with system.db.connect() as conn:
        targets = [municipality] if municipality else store.municipalities(conn)
    total = SyncResult()
    for m in targets:
        try:
            total.add(sync(system.db, system.clock, wiring.psrm, m))
        except PsrmError as exc:
            err_console.print(f"[red]PSRM did not answer for {m}: {exc}[/]")
            raise typer.Exit(1) from exc
    system.drain()
    _print(total.as_dict(), "PSRM receipts and notifications", as_json)


@app.command("status")
def psrm_status(
    municipality: Annotated[str, typer.Option("--municipality", help="The kommunekode.")],
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    as_json: JsonOpt = False,
) -> None:
    """Claims handed over by state, what PSRM settled, and the claims waiting for a person
    (returned by PSRM, unacknowledged replacement charges)."""
    from fbs_debitor.collection.service.overview import status

    system = open_system(database, municipality=municipality)
    with system.db.connect() as conn:
        summary = status(conn, municipality)
    _print(summary, f"PSRM status for {municipality}", as_json)


@app.command("resubmit")
def psrm_resubmit(
    claim_id: Annotated[str, typer.Argument(help="The library's claim id.")],
    municipality: Annotated[str, typer.Option("--municipality", help="The kommunekode.")],
    reason: Annotated[str, typer.Option("--reason", help="What was fixed (kept on the claim).")],
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
) -> None:
    """Release a claim PSRM returned, after a person fixed it: the next hand-over run submits it
    again if it is still eligible. (To give it up instead, write it off in debtor.)"""
    from fbs_debitor.collection.service.handover import release
    from fbs_debitor.core.errors import DomainError

    system = open_system(database, municipality=municipality)
    if not reason.strip():
        err_console.print("[red]--reason must say what was fixed[/]")
        raise typer.Exit(2)
    try:
        with system.db.begin() as conn:
            release(conn, system.clock, municipality, claim_id, reason=reason.strip())
    except DomainError as exc:
        err_console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from exc
    console.print(f"claim {claim_id} released for the next hand-over run", highlight=False)
