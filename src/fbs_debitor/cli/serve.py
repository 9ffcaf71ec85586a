"""Running the system: ``serve`` (API, worker and scheduler), ``worker`` (extra workers) and ``demo``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from fbs_debitor.cli.options import DatabaseOpt, console, err_console, open_system
from fbs_debitor.core.errors import DomainError, ValidationError
from fbs_debitor.settings import DEFAULT_DATABASE_URL, Settings


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn holds against slow and greedy clients (docs/configuration.md): h11 with a
    bound on a request's head, idle keep-alive connections closed, a cap on connections served
    at once (503 beyond), a bounded graceful shutdown. A slow *body* is cut off by the edge
    (``web/edge.py``, 408)."""
    return {
        "http": "h11",
        "h11_max_incomplete_event_size": settings.http_max_header_bytes,
        "timeout_keep_alive": max(1, round(settings.http_keep_alive_seconds)),
        "limit_concurrency": settings.http_limit_concurrency or None,
        "timeout_graceful_shutdown": 30,
    }


if TYPE_CHECKING:
    from fbs_debitor.bootstrap import System
    from fbs_debitor.web.auth.devidp import DevelopmentProvider


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
    from fbs_debitor.web.auth.sessions import SessionConfigError, check_settings

    system = open_system(database)
    try:
        check_settings(system.settings)  # production needs a session secret
    except SessionConfigError as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    upgrade(system.db)
    if "public_base_url" not in system.settings.model_fields_set and host not in ("0.0.0.0", "::"):  # noqa: S104
        # redirect URIs follow --host and --port unless FBS_DEBITOR_PUBLIC_BASE_URL says
        system.settings = system.settings.model_copy(
            update={"public_base_url": f"http://{host}:{port}"}
        )
    if demo:
        from fbs_debitor.demo import NotADemoDatabase, seed_demo_login, seed_demo_with_history

        provider = _development_provider(system)  # first: production refuses it at once
        try:
            summary = seed_demo_with_history(system)
        except NotADemoDatabase as exc:
            err_console.print(f"[red]--demo refused:[/] {exc.detail}")
            raise typer.Exit(2) from exc
        err_console.print(f"[green]demo municipality ready:[/] {summary}")
        if provider is not None:
            err_console.print(f"[green]demo login:[/] {seed_demo_login(system, provider.issuer)}")
    application = create_app(system, background=worker)
    err_console.print(f"serving on http://{host}:{port} with {system.db.display_url}")
    uvicorn.run(
        application, host=host, port=port, log_config=None, **uvicorn_options(system.settings)
    )


def _development_provider(system: System) -> DevelopmentProvider | None:
    """Start the development identity provider for the demo's people. Refused in production
    (the server does not start); None where it cannot run (not installed, port taken)."""
    from fbs_debitor.web.auth import devidp

    try:
        return devidp.start(system.settings)
    except devidp.DevelopmentProviderRefused as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    except (RuntimeError, OSError) as exc:
        err_console.print(f"[yellow]no login for people in this demo: {exc}[/]")
        return None


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

    system = open_system(database)
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
    from fbs_debitor.simulation.engine import Scenario, Simulation, demo_psrm

    if database == DEMO_DATABASE:
        for suffix in ("", "-wal", "-shm"):
            Path(f"fbs-debitor-demo.db{suffix}").unlink(missing_ok=True)
    clock = SettableClock(SystemClock().now())
    system = build_system(database, clock=clock, psrm=demo_psrm(clock))
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
    if database == DEMO_DATABASE:  # a database of its own: `serve --demo` may use it
        from fbs_debitor.tenants.service import keys as tenant_keys

        with system.db.begin() as conn:
            tenant_keys.mark_demo(conn, municipality)
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
