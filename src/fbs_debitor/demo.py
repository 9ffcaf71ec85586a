"""The demo municipality that ``serve --demo`` starts with."""

from __future__ import annotations

from datetime import date

from pydantic import SecretStr
from sqlalchemy import Connection

from fbs_debitor.bootstrap import System, build_system
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.errors import ConflictError
from fbs_debitor.tenants.model import DebtorVendor, Role
from fbs_debitor.tenants.service import keys as tenant_keys
from fbs_debitor.tenants.service import municipalities as tenants
from fbs_debitor.tenants.service import people as tenant_people

DEMO_KOMMUNEKODE = "101"
DEMO_AGENCY = "710100"
DEMO_CREDITOR = "89123456"


def demo_key(role: Role) -> str:
    """Well-known keys of the demo municipality: valid only in a municipality made as a demo,
    never under ``FBS_DEBITOR_ENV=production``."""
    return tenant_keys.demo_key_text(DEMO_KOMMUNEKODE, role)


class NotADemoDatabase(ConflictError):
    code = "not-a-demo-database"


def refuse_real_database(conn: Connection) -> None:
    """Refuse to seed a demo into a database that holds a real municipality."""
    real = [
        m.kommunekode
        for m in tenants.list_municipalities(conn)
        if not tenant_keys.is_demo(conn, m.kommunekode)
    ]
    if real:
        raise NotADemoDatabase(
            f"this database holds real municipalities ({', '.join(real)}); the demo and its "
            "well-known keys go only into a database of their own (e.g. "
            "--database sqlite:///./fbs-debitor-demo.db)"
        )


def seed_demo(system: System) -> str:
    """Create the demo municipality (marked as a demo) and its API keys if they are missing;
    idempotent. Refused on a database that holds a real municipality, and in production."""
    if system.settings.env == "production":
        raise NotADemoDatabase("no demo in production (FBS_DEBITOR_ENV=production)")
    with system.db.begin() as conn:
        refuse_real_database(conn)
        if tenants.find_municipality(conn, DEMO_KOMMUNEKODE) is None:
            cutoff = system.clock.today().replace(month=1, day=1)
            tenants.create_municipality(
                conn,
                system.clock,
                kommunekode=DEMO_KOMMUNEKODE,
                name="København (demo)",
                agency_id=DEMO_AGENCY,
                creditor_number=DEMO_CREDITOR,
                debtor_vendor=DebtorVendor.BUILT_IN,
                cutoff_date=cutoff if cutoff <= system.clock.today() else date(2026, 1, 1),
            )
            tenant_keys.mark_demo(conn, DEMO_KOMMUNEKODE)
        have = {k.key_id for k in tenant_keys.list_api_keys(conn, DEMO_KOMMUNEKODE)}
        for role in Role:
            if tenant_keys.key_id_of(demo_key(role)) not in have:
                tenant_keys.create_api_key(
                    conn, system.clock, DEMO_KOMMUNEKODE, role, f"demo {role.value}", demo_key(role)
                )
    return (
        f"kommune {DEMO_KOMMUNEKODE}, agency {DEMO_AGENCY}; "
        f"API keys demo-{DEMO_KOMMUNEKODE}-<role> for roles {', '.join(r.value for r in Role)}"
    )


def seed_demo_with_history(system: System, *, patrons: int = 150, days: int = 120) -> str:
    """The demo municipality with a few months of simulated history (fees, invoices, reminders,
    payments), so that every page has data; then :func:`seed_demo` for the API keys. Idempotent:
    an existing demo municipality is left as it is."""
    from fbs_debitor.simulation.engine import Scenario, Simulation, demo_psrm

    if system.settings.env == "production":
        raise NotADemoDatabase("no demo in production (FBS_DEBITOR_ENV=production)")
    with system.db.connect() as conn:
        refuse_real_database(conn)
        exists = tenants.find_municipality(conn, DEMO_KOMMUNEKODE) is not None
    if not exists:
        clock = SettableClock(system.clock.now())
        sim_system = build_system(db=system.db, clock=clock, psrm=demo_psrm(clock))
        Simulation(
            sim_system, Scenario(municipality=DEMO_KOMMUNEKODE, patrons=patrons, days=days)
        ).run()
        with system.db.begin() as conn:
            tenant_keys.mark_demo(conn, DEMO_KOMMUNEKODE)
    return seed_demo(system)


def seed_demo_login(system: System, issuer: str) -> str:
    """People log in to the demo through the development identity provider at ``issuer``:
    the demo municipality's staff provider and its groups, and (unless a real broker is set)
    the citizens' broker. Idempotent. Refused in production (the provider is never started
    there, and the staff provider is marked development)."""
    from fbs_debitor.web.auth import devidp

    with system.db.begin() as conn:
        tenant_people.set_staff_identity_provider(
            conn,
            system.clock,
            DEMO_KOMMUNEKODE,
            issuer=issuer,
            client_id=devidp.DEMO_CLIENT_ID,
            client_secret=devidp.DEMO_CLIENT_SECRET,
            groups_claim="groups",
            scopes="openid profile",
            development=True,
            production=system.settings.env == "production",
        )
        for group, role in devidp.DEMO_GROUPS.items():
            tenant_people.map_group(conn, system.clock, DEMO_KOMMUNEKODE, group, role)
    if not system.settings.citizen_issuer:
        system.settings = system.settings.model_copy(
            update={
                "citizen_issuer": issuer,
                "citizen_client_id": devidp.DEMO_CLIENT_ID + "-borger",
                "citizen_client_secret": SecretStr(devidp.DEMO_CLIENT_SECRET),
            }
        )
    return (
        f"people log in at {system.settings.public_base_url.rstrip('/')}/login through the "
        f"development identity provider {issuer}: staff "
        + ", ".join(devidp.DEMO_STAFF)
        + "; citizen borger"
    )
