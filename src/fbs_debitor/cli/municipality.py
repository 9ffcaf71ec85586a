"""``fbs-debitor municipality``: municipalities and their set-up."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from fbs_debitor.cli.options import DatabaseOpt, console, err_console, open_system
from fbs_debitor.core.errors import DomainError
from fbs_debitor.settings import DEFAULT_DATABASE_URL

app = typer.Typer(no_args_is_help=True, help="Municipalities and their set-up.")


@app.command("create")
def municipality_create(
    kommunekode: Annotated[str, typer.Argument(help="3-digit kommunekode, e.g. 461")],
    name: Annotated[str, typer.Option(help="The municipality's name.")],
    agency: Annotated[str, typer.Option(help="The library's 6-digit agency id, e.g. 746100.")],
    creditor: Annotated[str, typer.Option(help="FIK creditor number (8 digits, starts with 8).")],
    cutoff: Annotated[str | None, typer.Option(help="Go-live date YYYY-MM-DD.")] = None,
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
) -> None:
    """Create a municipality and an admin API key for it (printed once)."""
    from fbs_debitor.tenants.model import Role
    from fbs_debitor.tenants.service import keys as tenant_keys
    from fbs_debitor.tenants.service import municipalities as tenants

    system = open_system(database)
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
            key = tenant_keys.create_api_key(
                conn, system.clock, kommunekode, Role.ADMIN, "first admin"
            )
    except (DomainError, ValueError) as exc:
        err_console.print(f"[red]{getattr(exc, 'detail', exc)}[/]")
        raise typer.Exit(2) from exc
    console.print(f"municipality {kommunekode} created; admin API key (shown once): {key}")


@app.command("list")
def municipality_list(database: DatabaseOpt = DEFAULT_DATABASE_URL) -> None:
    """Every municipality with its set-up."""
    from fbs_debitor.tenants.service import municipalities as tenants

    system = open_system(database)
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


# -- Staff login: the municipality's identity provider and its group -> role map ----------------

idp_app = typer.Typer(
    no_args_is_help=True, help="Where the municipality's staff log in (OpenID Connect)."
)
app.add_typer(idp_app, name="idp")


@idp_app.command("set")
def idp_set(
    kommunekode: Annotated[str, typer.Argument(help="3-digit kommunekode, e.g. 461")],
    issuer: Annotated[str, typer.Option(help="The provider's issuer URL (https).")],
    client_id: Annotated[str, typer.Option(help="This service's client id at the provider.")],
    client_secret: Annotated[
        str,
        typer.Option(
            envvar="FBS_DEBITOR_IDP_CLIENT_SECRET",
            help="The client secret (or set FBS_DEBITOR_IDP_CLIENT_SECRET, which keeps it out "
            "of the shell history).",
        ),
    ],
    groups_claim: Annotated[
        str, typer.Option(help="The ID token claim listing the person's groups.")
    ] = "groups",
    scopes: Annotated[str, typer.Option(help="Scopes asked for (space-separated).")] = (
        "openid profile"
    ),
    development: Annotated[
        bool, typer.Option(help="A development provider (refused in production).")
    ] = False,
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
) -> None:
    """Set where the municipality's staff log in; the redirect URI to register there is
    <public base URL>/auth/callback."""
    from fbs_debitor.tenants.service import people as tenant_people

    system = open_system(database, municipality=kommunekode)
    try:
        with system.db.begin() as conn:
            idp = tenant_people.set_staff_identity_provider(
                conn,
                system.clock,
                kommunekode,
                issuer=issuer,
                client_id=client_id,
                client_secret=client_secret,
                groups_claim=groups_claim,
                scopes=scopes,
                development=development,
                production=system.settings.env == "production",
            )
    except DomainError as exc:
        err_console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from exc
    base = system.settings.public_base_url.rstrip("/")
    console.print(
        f"staff of {kommunekode} log in at {idp.issuer} (client {idp.client_id}); "
        f"register the redirect URI {base}/auth/callback there"
    )


@idp_app.command("show")
def idp_show(
    kommunekode: Annotated[str, typer.Argument(help="3-digit kommunekode")],
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
) -> None:
    """The staff identity provider and the group -> role map (never the client secret)."""
    from fbs_debitor.tenants.service import people as tenant_people

    system = open_system(database, municipality=kommunekode)
    with system.db.connect() as conn:
        idp = tenant_people.find_staff_identity_provider(conn, kommunekode)
        mapping = tenant_people.list_group_roles(conn, kommunekode)
    if idp is None:
        console.print(f"{kommunekode}: no staff identity provider set")
    else:
        console.print(
            f"{kommunekode}: issuer {idp.issuer}, client {idp.client_id}, groups claim "
            f"{idp.groups_claim}, scopes {idp.scopes}"
            + (" (development)" if idp.development else "")
        )
    table = Table("group", "role")
    for group, role in mapping.items():
        table.add_row(group, role.value)
    console.print(table)


@app.command("map-group")
def map_group(
    kommunekode: Annotated[str, typer.Argument(help="3-digit kommunekode")],
    group: Annotated[str, typer.Argument(help="A group in the identity provider's groups claim.")],
    role: Annotated[
        str,
        typer.Argument(help="library, integration, debtor-staff, cash-register, ops or admin"),
    ],
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
) -> None:
    """Members of GROUP log in to the municipality with ROLE."""
    from fbs_debitor.tenants.service import people as tenant_people

    system = open_system(database, municipality=kommunekode)
    try:
        with system.db.begin() as conn:
            name, mapped = tenant_people.map_group(conn, system.clock, kommunekode, group, role)
    except DomainError as exc:
        err_console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from exc
    console.print(f"{kommunekode}: group {name} -> role {mapped.value}")


@app.command("unmap-group")
def unmap_group(
    kommunekode: Annotated[str, typer.Argument(help="3-digit kommunekode")],
    group: Annotated[str, typer.Argument(help="The group to stop giving a role.")],
    database: DatabaseOpt = DEFAULT_DATABASE_URL,
) -> None:
    """GROUP no longer gives a role (sessions already open keep theirs until they expire)."""
    from fbs_debitor.tenants.service import people as tenant_people

    system = open_system(database, municipality=kommunekode)
    with system.db.begin() as conn:
        removed = tenant_people.unmap_group(conn, kommunekode, group)
    if not removed:
        err_console.print(f"[red]{kommunekode}: group {group} gives no role[/]")
        raise typer.Exit(2)
    console.print(f"{kommunekode}: group {group} gives no role any more")
