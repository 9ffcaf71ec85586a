"""Debtor's copy of each municipality's set-up (name, creditor number, debtor vendor), kept from
the ``tenants.MunicipalityConfigured`` contract."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from fbs_debitor.contracts.tenants import MunicipalityConfigured
from fbs_debitor.core.clock import Clock
from fbs_debitor.debtor.store.tables import configs


def configure_municipality(conn: Connection, clock: Clock, message: MunicipalityConfigured) -> None:
    """Keep debtor's copy of the municipality's set-up (insert or replace)."""
    values = {
        "name": message.name,
        "creditor_number": message.creditor_number,
        "debtor_vendor": message.debtor_vendor,
        "updated_at": clock.now(),
    }
    where = configs.c.municipality == message.municipality
    if conn.execute(select(configs.c.municipality).where(where)).first() is None:
        conn.execute(configs.insert().values(municipality=message.municipality, **values))
    else:
        conn.execute(update(configs).where(where).values(**values))


def get_config(conn: Connection, municipality: str) -> dict[str, Any] | None:
    """Debtor's copy of the municipality's set-up, or None if it never arrived."""
    row = conn.execute(select(configs).where(configs.c.municipality == municipality)).first()
    return None if row is None else dict(row._mapping)
