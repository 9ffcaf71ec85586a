"""The ``fbs-debitor`` command line (Typer + Rich)."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fbs_debitor.core import bankdays
from fbs_debitor.core.errors import DomainError, ValidationError
from fbs_debitor.core.fik import PaymentId, code_line, validate_payment_id
from fbs_debitor.settings import DEFAULT_DATABASE_URL

app = typer.Typer(no_args_is_help=True, help="fbs-debitor: library fees, debtor system, payments.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
fik_app = typer.Typer(no_args_is_help=True, help="FIK payment IDs (Fælles Indbetalingskort).")
bankdays_app = typer.Typer(no_args_is_help=True, help="Danish bank days.")
outbox_app = typer.Typer(no_args_is_help=True, help="The message outbox: status and dead letters.")
municipality_app = typer.Typer(no_args_is_help=True, help="Municipalities and their set-up.")
key_app = typer.Typer(no_args_is_help=True, help="API keys (one municipality, one role).")
contracts_app = typer.Typer(no_args_is_help=True, help="The published message contracts.")
app.add_typer(db_app, name="db")
app.add_typer(fik_app, name="fik")
app.add_typer(bankdays_app, name="bankdays")
app.add_typer(outbox_app, name="outbox")
app.add_typer(municipality_app, name="municipality")
app.add_typer(key_app, name="key")
app.add_typer(contracts_app, name="contracts")

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

DatabaseOpt = Annotated[
    str,
    typer.Option(
        "--database",
        envvar="FBS_DEBITOR_DATABASE_URL",
        help="SQLAlchemy URL or SQLite file path (postgresql://user@host/db for PostgreSQL).",
    ),
]


def _system(database: str):  # type: ignore[no-untyped-def]
    from fbs_debitor.bootstrap import build_system
    from fbs_debitor.logging_setup import configure_logging

    system = build_system(database)
    configure_logging(system.settings.log_level, json=system.settings.log_json)
    return system


@db_app.command("upgrade")
def db_upgrade(database: DatabaseOpt = DEFAULT_DATABASE_URL) -> None:
    """Migrate the database schema to the newest version."""
    from fbs_debitor.migrate import current, upgrade

    system = _system(database)
    upgrade(system.db)
    console.print(f"[green]database at revision {current(system.db)}[/] ({system.db.display_url})")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    demo: Annotated[bool, typer.Option(help="Start with a demo municipality.")] = False,
    worker: Annotated[bool, typer.Option(help="Run the outbox worker in-process.")] = True,
) -> None:
    """Run the API, the worker and the scheduler in one process."""
    import uvicorn

    from fbs_debitor.migrate import upgrade
    from fbs_debitor.web.app import create_app

    system = _system(database)
    upgrade(system.db)
    if demo:
        from fbs_debitor.demo import seed_demo_with_history

        summary = seed_demo_with_history(system)
        err_console.print(f"[green]demo municipality ready:[/] {summary}")
    application = create_app(system, background=worker)
    err_console.print(f"serving on http://{host}:{port} with {system.db.display_url}")
    uvicorn.run(application, host=host, port=port, log_config=None)


@app.command("worker")
def worker_cmd(
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    once: Annotated[bool, typer.Option(help="Deliver what is pending, then exit.")] = False,
    processes: Annotated[
        int,
        typer.Option(
            help="Worker processes to run and keep running (PostgreSQL only for more than one)."
        ),
    ] = 1,
) -> None:
    """Run an outbox worker (or several, with --processes, on PostgreSQL to scale out)."""
    import signal
    import threading

    system = _system(database)
    stop = threading.Event()
    if processes != 1:
        from fbs_debitor.workers import WorkerPool, check_processes

        try:
            check_processes(system.db, processes)
        except ValidationError as exc:
            err_console.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from exc
        if once:
            err_console.print("[red]--once runs one worker; leave out --processes[/]")
            raise typer.Exit(2)
        pool = WorkerPool(system.db.url, processes)
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        pool.start()
        err_console.print(
            f"{processes} worker processes on {system.db.display_url} "
            f"(pids {', '.join(map(str, pool.pids))}); Ctrl-C stops them"
        )
        pool.supervise(stop)
        return
    w = system.worker()
    if once:
        n = w.drain(timeout_s=600)
        console.print(f"delivered {n} message(s)")
        return
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    err_console.print(f"worker running on {system.db.display_url}; Ctrl-C stops it")
    w.run_forever(stop)


DEMO_DATABASE = "sqlite:///./fbs-debitor-demo.db"


@app.command()
def demo(
    municipality: Annotated[
        str, typer.Option(help="kommunekode of the simulated municipality")
    ] = "101",
    patrons: Annotated[int, typer.Option(help="Number of patrons.")] = 400,
    days: Annotated[int, typer.Option(help="Simulated days, ending today.")] = 365,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same year).")] = 1,
    report: Annotated[
        str, typer.Option(help="'table' or 'json' (one JSON object on stdout).")
    ] = "table",
    database: Annotated[
        str,
        typer.Option(
            "--database", help="Where the result is kept (a fresh SQLite file by default)."
        ),
    ] = DEMO_DATABASE,
) -> None:
    """Simulate a year of a municipality through every flow; exit 0 only when reconciled."""
    from pathlib import Path

    from rich.progress import Progress

    from fbs_debitor.bootstrap import build_system
    from fbs_debitor.core.clock import SettableClock, SystemClock
    from fbs_debitor.logging_setup import configure_logging
    from fbs_debitor.migrate import upgrade
    from fbs_debitor.simulation.engine import Scenario, Simulation

    if database == DEMO_DATABASE:
        for suffix in ("", "-wal", "-shm"):
            Path(f"fbs-debitor-demo.db{suffix}").unlink(missing_ok=True)
    clock = SettableClock(SystemClock().now())
    system = build_system(database, clock=clock)
    configure_logging("WARNING", json=True)
    upgrade(system.db)
    sim = Simulation(
        system, Scenario(municipality=municipality, patrons=patrons, days=days, seed=seed)
    )
    try:
        with Progress(console=err_console, transient=True) as bar:
            task = bar.add_task(f"simulating {days} days of {municipality}", total=days)
            result = sim.run(lambda done, _total: bar.update(task, completed=done))
    except DomainError as exc:
        err_console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from exc
    if report == "json":
        console.print_json(json.dumps(result, default=str))
    else:
        table = Table(
            "figure", "value", title=f"demo: {result['municipality']} ({result['database']})"
        )
        for key, value in result.items():
            if key not in ("sample_patrons", "delays_ms", "behaviours", "differences"):
                table.add_row(key, str(value))
        for leg, d in result["delays_ms"].items():
            table.add_row(f"delay {leg} p50 / p99 ms", f"{d['p50']} / {d['p99']}")
        table.add_row(
            "sample patrons", ", ".join(str(p["patron_id"]) for p in result["sample_patrons"])
        )
        console.print(table)
        console.print(f"serve it: fbs-debitor serve --database {database}")
    raise typer.Exit(0 if result["reconciled"] else 1)


@outbox_app.command("status")
def outbox_status(database: DatabaseOpt = DEFAULT_DATABASE_URL) -> None:
    """Messages by type and state."""
    from sqlalchemy import func, select

    from fbs_debitor.messaging.store import outbox

    system = _system(database)
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


@outbox_app.command("dead")
def outbox_dead(
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    retry: Annotated[bool, typer.Option(help="Put every dead letter back in the queue.")] = False,
) -> None:
    """List dead letters with their last error; ``--retry`` queues them again."""
    from sqlalchemy import select, update

    from fbs_debitor.messaging.outbox import wall_now
    from fbs_debitor.messaging.store import outbox

    system = _system(database)
    with system.db.begin() as conn:
        rows = conn.execute(
            select(
                outbox.c.message_id, outbox.c.message_type, outbox.c.attempts, outbox.c.last_error
            )
            .where(outbox.c.status == "dead")
            .order_by(outbox.c.id)
        ).all()
        if retry and rows:
            conn.execute(
                update(outbox)
                .where(outbox.c.status == "dead")
                .values(status="pending", attempts=0, deferrals=0, available_at=wall_now())
            )
    table = Table("message id", "type", "attempts", "last error")
    for r in rows:
        table.add_row(r.message_id, r.message_type, str(r.attempts), r.last_error or "")
    console.print(table)
    if retry:
        console.print(f"{len(rows)} dead letter(s) queued again")


@municipality_app.command("create")
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

    system = _system(database)
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


@municipality_app.command("list")
def municipality_list(database: DatabaseOpt = DEFAULT_DATABASE_URL) -> None:
    """Every municipality with its set-up."""
    from fbs_debitor.tenants import service as tenants

    system = _system(database)
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


@key_app.command("create")
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

    system = _system(database)
    try:
        with system.db.begin() as conn:
            key = tenants.create_api_key(
                conn, system.clock, municipality, Role(role), label or role
            )
    except (DomainError, ValueError) as exc:
        err_console.print(f"[red]{getattr(exc, 'detail', exc)}[/]")
        raise typer.Exit(2) from exc
    console.print(key)


@contracts_app.command("xsd")
def contracts_xsd(
    out: Annotated[
        str, typer.Option(help="Folder to write <group>-v1.xsd files to.")
    ] = "docs/contracts",
) -> None:
    """Write the XSD of every contract group (generated from the models)."""
    from pathlib import Path

    from fbs_debitor.contracts.catalog import GROUPS
    from fbs_debitor.contracts.xml import xsd

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for group, messages in GROUPS.items():
        path = folder / f"{group}-v1.xsd"
        path.write_bytes(xsd(messages, group))
        console.print(f"wrote {path}")


@fik_app.command("validate")
def fik_validate(payment_id: str) -> None:
    """Check a FIK payment ID (15 digits: +71, 16 digits: +75). Exit 0 if valid, 1 if not."""
    ok, reason = validate_payment_id(payment_id)
    if ok:
        console.print(f"[green]valid[/]: {reason}")
        raise typer.Exit(0)
    console.print(f"[red]invalid[/]: {reason}")
    raise typer.Exit(1)


@fik_app.command("generate")
def fik_generate(
    seq: int,
    creditor: Annotated[str, typer.Option(help="8-digit FIK creditor number (starts with 8).")],
    card_type: Annotated[int, typer.Option("--card-type", help="71 or 75.")] = 71,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Make the payment ID for sequence number SEQ and its code line."""
    try:
        pid = PaymentId.generate(seq, card_type=card_type)
        line = code_line(pid, creditor)
    except ValidationError as exc:
        err_console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from exc
    if as_json:
        console.print_json(json.dumps({"payment_id": pid.value, "code_line": line}))
    else:
        console.print(f"payment id: {pid.value}")
        console.print(f"code line:  {line}", highlight=False)


@bankdays_app.command("next")
def bankdays_next(day: Annotated[str, typer.Argument(help="A date, YYYY-MM-DD.")]) -> None:
    """The bank day on or after DATE."""
    try:
        d = date.fromisoformat(day)
    except ValueError as exc:
        err_console.print(f"[red]not a date (YYYY-MM-DD): {day}[/]")
        raise typer.Exit(2) from exc
    console.print(bankdays.next_bank_day(d).isoformat())


library_app = typer.Typer(no_args_is_help=True, help="The library (FBS side): old balances.")
app.add_typer(library_app, name="library")


@library_app.command("move-old")
def library_move_old(
    municipality: Annotated[str, typer.Option("--municipality", help="Kommunekode, 3 digits.")],
    day: Annotated[str, typer.Option("--date", help="The move date, YYYY-MM-DD (not future).")],
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Move the municipality's open old fees (before the cutoff) to debtor as of DATE."""
    from fbs_debitor.core.errors import DomainError
    from fbs_debitor.library.service import move_old_balances

    try:
        on = date.fromisoformat(day)
    except ValueError as exc:
        err_console.print(f"[red]not a date (YYYY-MM-DD): {day}[/]")
        raise typer.Exit(2) from exc
    system = _system(database)
    try:
        with system.db.begin() as conn:
            result = move_old_balances(conn, system.clock, municipality, on)
    except DomainError as exc:
        err_console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from exc
    summary = {
        "moved": result.moved,
        "sent": result.sent,
        "held": result.held,
        "total_ore": result.total.ore,
    }
    if as_json:
        console.print_json(json.dumps(summary))
    else:
        console.print(
            f"moved {result.moved} old fee(s) of {municipality} to debtor as of {on.isoformat()} "
            f"({result.total}): {result.sent} sent, {result.held} held until their kind is mapped"
        )


import_app = typer.Typer(
    no_args_is_help=True, help="Payments in: bank files (camt.054 / camt.053)."
)
app.add_typer(import_app, name="import")


@import_app.command("camt")
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
    from fbs_debitor.payments.bank import import_bank_file

    path = Path(file)
    if not path.is_file():
        err_console.print(f"[red]no such file: {file}[/]")
        raise typer.Exit(2)
    system = _system(database)
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


dunning_app = typer.Typer(
    no_args_is_help=True, help="Debtor: invoicing, dunning (reminders, interest), write-offs."
)
letters_app = typer.Typer(
    no_args_is_help=True, help="Debtor: the letter outbox (invoices, reminders)."
)
app.add_typer(dunning_app, name="dunning")
app.add_typer(letters_app, name="letters")


def _run_date(day: str | None) -> date | None:
    """``--date`` as a date (None: today on the system's clock); exits 2 on a bad date."""
    if day is None:
        return None
    try:
        return date.fromisoformat(day)
    except ValueError as exc:
        err_console.print(f"[red]not a date (YYYY-MM-DD): {day}[/]")
        raise typer.Exit(2) from exc


@dunning_app.command("run")
def dunning_run(
    day: Annotated[
        str | None, typer.Option("--date", help="Run date YYYY-MM-DD (default: today).")
    ] = None,
    municipality: Annotated[
        str | None, typer.Option("--municipality", help="Only this kommunekode.")
    ] = None,
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Write-offs by rule, interest and reminders as of DATE. Idempotent: running a date again
    changes nothing."""
    from fbs_debitor.debtor.dunning import run_dunning

    on = _run_date(day)
    system = _system(database)
    on = on or system.clock.today()
    with system.db.begin() as conn:
        result = run_dunning(conn, system.clock, on, municipality)
    summary = result.as_dict()
    if as_json:
        console.print_json(json.dumps(summary))
        return
    table = Table("figure", "value")
    for key, value in summary.items():
        table.add_row(key, str(value))
    console.print(f"dunning run for {on.isoformat()}", highlight=False)
    console.print(table)


@dunning_app.command("invoice")
def dunning_invoice(
    day: Annotated[
        str | None, typer.Option("--date", help="Run date YYYY-MM-DD (default: today).")
    ] = None,
    municipality: Annotated[
        str | None, typer.Option("--municipality", help="Only this kommunekode.")
    ] = None,
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Invoice uninvoiced claims: collected mode when due, and any claim immediate mode missed."""
    from fbs_debitor.debtor.invoicing import run_invoicing

    on = _run_date(day)
    system = _system(database)
    on = on or system.clock.today()
    with system.db.begin() as conn:
        result = run_invoicing(conn, system.clock, on, municipality)
    summary = {
        "on": on.isoformat(),
        "invoices": result.invoices,
        "claims": result.claims,
        "municipalities": result.municipalities,
        "skipped": result.skipped,
    }
    if as_json:
        console.print_json(json.dumps(summary))
    else:
        console.print(
            f"{result.invoices} invoice(s) for {result.claims} claim(s) on {on.isoformat()}",
            highlight=False,
        )


@letters_app.command("deliver")
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
    """Render every pending letter as PDF into the folder and mark it delivered."""
    from pathlib import Path

    from fbs_debitor.debtor.letters_store import deliver_letters

    system = _system(database)
    folder = Path(out or system.settings.letter_dir)
    n = deliver_letters(system.db, system.clock, folder, limit=limit)
    console.print(f"delivered {n} letter(s) to {folder}", highlight=False)


if __name__ == "__main__":
    app()
