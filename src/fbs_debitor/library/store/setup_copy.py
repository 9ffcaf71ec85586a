"""The library's copy of a municipality's set-up and sortiment mapping.

The tenants context owns the set-up; the library keeps a copy, filled from the set-up messages.
Those may overtake each other, so a copy is replaced only by a newer one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, and_, insert, select, update

from fbs_debitor.library.store.tables import municipalities, sortiment


@dataclass(frozen=True, slots=True)
class MunicipalityCopy:
    municipality: str
    name: str
    agency_id: str
    cutoff_date: date | None


@dataclass(frozen=True, slots=True)
class KindMapping:
    """One claim kind's mapping in the library's copy of the sortiment."""

    debtor_classification: str
    psrm_claim_type: str


def _municipality(row: Row[Any]) -> MunicipalityCopy:
    return MunicipalityCopy(row.municipality, row.name, row.agency_id, row.cutoff_date)


def find_municipality(conn: Connection, municipality: str) -> MunicipalityCopy | None:
    row = conn.execute(
        select(municipalities).where(municipalities.c.municipality == municipality)
    ).first()
    return None if row is None else _municipality(row)


def find_by_agency(conn: Connection, agency_id: str) -> MunicipalityCopy | None:
    row = conn.execute(
        select(municipalities).where(municipalities.c.agency_id == agency_id)
    ).first()
    return None if row is None else _municipality(row)


def _save_if_newer(
    conn: Connection, table: Table, key: dict[str, Any], values: dict[str, Any], stamp: str
) -> bool:
    """Insert or replace a copied row unless the kept one is newer (by ``stamp``); True if saved.
    Copies arrive as messages that may overtake each other; the newest set-up wins."""
    where = and_(*(table.c[k] == v for k, v in key.items()))
    kept = conn.execute(select(table.c[stamp]).where(where)).scalar_one_or_none()
    if kept is None:
        conn.execute(insert(table).values(**key, **values))
    elif kept <= values[stamp]:
        conn.execute(update(table).where(where).values(**values))
    else:
        return False
    return True


def save_municipality(conn: Connection, copy: MunicipalityCopy, configured_at: datetime) -> bool:
    """Keep the copy of a municipality's set-up unless a newer one is kept; True if saved."""
    values = {
        "name": copy.name,
        "agency_id": copy.agency_id,
        "cutoff_date": copy.cutoff_date,
        "configured_at": configured_at,
    }
    key = {"municipality": copy.municipality}
    return _save_if_newer(conn, municipalities, key, values, "configured_at")


def save_mapping(
    conn: Connection, municipality: str, kind: str, mapping: KindMapping, mapped_at: datetime
) -> bool:
    """Keep the copy of one kind's mapping unless a newer one is kept; True if saved."""
    values = {
        "debtor_classification": mapping.debtor_classification,
        "psrm_claim_type": mapping.psrm_claim_type,
        "mapped_at": mapped_at,
    }
    key = {"municipality": municipality, "claim_kind": kind}
    return _save_if_newer(conn, sortiment, key, values, "mapped_at")


def mappings(conn: Connection, municipality: str) -> dict[str, KindMapping]:
    """The municipality's sortiment copy: claim kind -> mapping."""
    rows = conn.execute(select(sortiment).where(sortiment.c.municipality == municipality))
    return {r.claim_kind: KindMapping(r.debtor_classification, r.psrm_claim_type) for r in rows}
