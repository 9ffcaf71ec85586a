"""``fbs-debitor key``: API keys (one municipality, one role): create, list, revoke, rotate."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from fbs_debitor.cli.options import DatabaseOpt, console, err_console, open_system
from fbs_debitor.core.errors import DomainError
from fbs_debitor.settings import DEFAULT_DATABASE_URL

app = typer.Typer(no_args_is_help=True, help="API keys (one municipality, one role).")

MunicipalityOpt = Annotated[str, typer.Option("--municipality", help="kommunekode")]
ByOpt = Annotated[str, typer.Option("--by", help="Who does this (recorded with the key).")]


def _fail(exc: Exception) -> typer.Exit:
    err_console.print(f"[red]{getattr(exc, 'detail', exc)}[/]")
    return typer.Exit(2)


@app.command("create")
def key_create(
    municipality: MunicipalityOpt,
    role: Annotated[
        str, typer.Option(help="library, integration, debtor-staff, cash-register, ops, admin")
    ],
    label: Annotated[str, typer.Option(help="Who or what uses the key.")] = "",
    expires_in_days: Annotated[
        int, typer.Option(min=1, max=3650, help="Days until the key stops working.")
    ] = 365,
    by: ByOpt = "cli",
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
) -> None:
    """Make an API key for one municipality and one role (printed once)."""
    from fbs_debitor.tenants.model import Role
    from fbs_debitor.tenants.service import keys as tenant_keys

    system = open_system(database, municipality=municipality)
    try:
        with system.db.begin() as conn:
            key = tenant_keys.create_api_key(
                conn,
                system.clock,
                municipality,
                Role(role),
                label or role,
                expires_at=system.clock.now() + timedelta(days=expires_in_days),
                created_by=f"cli:{by}",
            )
    except (DomainError, ValueError) as exc:
        raise _fail(exc) from exc
    console.print(key)


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


@app.command("list")
def key_list(
    municipality: MunicipalityOpt,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
) -> None:
    """The municipality's keys (never their secrets): id, role, label, state, expiry, last use."""
    from fbs_debitor.tenants.service import keys as tenant_keys

    system = open_system(database, municipality=municipality)
    try:
        with system.db.connect() as conn:
            keys = tenant_keys.list_api_keys(conn, municipality)
    except DomainError as exc:
        raise _fail(exc) from exc
    now = system.clock.now()
    if as_json:
        console.print_json(json.dumps({"keys": [k.as_dict(now) for k in keys]}, default=str))
        return
    table = Table("key id", "role", "label", "state", "expires", "last used", "created by")
    for k in keys:
        table.add_row(
            k.key_id,
            k.role.value,
            k.label,
            k.state(now) + (" (demo)" if k.demo else ""),
            _when(k.expires_at),
            _when(k.last_used_at),
            k.created_by or "-",
        )
    console.print(table)


@app.command("revoke")
def key_revoke(
    key_id: Annotated[str, typer.Argument(help="The key id (from `key list`).")],
    municipality: MunicipalityOpt,
    reason: Annotated[str, typer.Option(help="Why the key is revoked.")],
    by: ByOpt = "cli",
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
) -> None:
    """Revoke a key at once: it answers 401 from now on."""
    from fbs_debitor.tenants.service import keys as tenant_keys

    system = open_system(database, municipality=municipality)
    try:
        with system.db.begin() as conn:
            record = tenant_keys.revoke_api_key(
                conn, system.clock, municipality, key_id, by=f"cli:{by}", reason=reason
            )
    except DomainError as exc:
        raise _fail(exc) from exc
    console.print(f"key {record.key_id} ({record.role.value}, {record.label}) revoked")


@app.command("rotate")
def key_rotate(
    key_id: Annotated[str, typer.Argument(help="The key id (from `key list`).")],
    municipality: MunicipalityOpt,
    grace_hours: Annotated[
        int, typer.Option(min=0, max=720, help="How long the old key keeps working.")
    ] = 24,
    by: ByOpt = "cli",
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
) -> None:
    """A successor key with the same role and label (printed once); the old one ends after the
    grace period, so its users can switch."""
    from fbs_debitor.tenants.service import keys as tenant_keys

    system = open_system(database, municipality=municipality)
    try:
        with system.db.begin() as conn:
            key, record = tenant_keys.rotate_api_key(
                conn,
                system.clock,
                municipality,
                key_id,
                by=f"cli:{by}",
                grace=timedelta(hours=grace_hours),
            )
    except DomainError as exc:
        raise _fail(exc) from exc
    err_console.print(f"new key {record.key_id} replaces {key_id} (ends in {grace_hours} h):")
    console.print(key)
