"""Municipalities and their set-up: creation, cut-off date, sortiment mapping (one transaction
each; the other contexts are told through the outbox)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, insert, select, update

from fbs_debitor.contracts.registration import ClaimKind
from fbs_debitor.contracts.sending import send
from fbs_debitor.contracts.tenants import MunicipalityConfigured, SortimentMapped
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.errors import (
    ConflictError,
    NotFoundError,
    ValidationError,
)
from fbs_debitor.core.fik import validate_creditor_number
from fbs_debitor.tenants.model import (
    DebtorVendor,
    Municipality,
    check_agency_id,
    check_kommunekode,
)
from fbs_debitor.tenants.store.tables import (
    municipalities,
    sortiment,
)

SOURCE = "tenants"


def _to_model(row: object) -> Municipality:
    r = row._mapping  # type: ignore[attr-defined]
    return Municipality(
        kommunekode=r["kommunekode"],
        name=r["name"],
        agency_id=r["agency_id"],
        creditor_number=r["creditor_number"],
        debtor_vendor=DebtorVendor(r["debtor_vendor"]),
        cutoff_date=r["cutoff_date"],
    )


def create_municipality(
    conn: Connection,
    clock: Clock,
    *,
    kommunekode: str,
    name: str,
    agency_id: str,
    creditor_number: str,
    debtor_vendor: DebtorVendor = DebtorVendor.BUILT_IN,
    cutoff_date: date | None = None,
) -> Municipality:
    check_kommunekode(kommunekode)
    check_agency_id(agency_id)
    validate_creditor_number(creditor_number)
    if conn.execute(
        select(municipalities.c.kommunekode).where(municipalities.c.kommunekode == kommunekode)
    ).first():
        raise ConflictError(f"municipality {kommunekode} exists already", code="exists")
    conn.execute(
        insert(municipalities).values(
            kommunekode=kommunekode,
            name=name,
            agency_id=agency_id,
            creditor_number=creditor_number,
            debtor_vendor=debtor_vendor.value,
            cutoff_date=cutoff_date,
            created_at=clock.now(),
        )
    )
    municipality = get_municipality(conn, kommunekode)
    _announce(conn, clock, municipality)
    return municipality


def _announce(conn: Connection, clock: Clock, m: Municipality) -> None:
    """Tell the other contexts the municipality's set-up (they keep a copy)."""
    send(
        conn,
        MunicipalityConfigured(
            municipality=m.kommunekode,
            occurred_at=clock.now(),
            name=m.name,
            agency_id=m.agency_id,
            creditor_number=m.creditor_number,
            debtor_vendor=m.debtor_vendor.value,
            cutoff_date=m.cutoff_date,
        ),
        source=SOURCE,
    )


def get_municipality(conn: Connection, kommunekode: str) -> Municipality:
    row = conn.execute(
        select(municipalities).where(municipalities.c.kommunekode == kommunekode)
    ).first()
    if row is None:
        raise NotFoundError(f"no municipality {kommunekode}", code="unknown-municipality")
    return _to_model(row)


def find_municipality(conn: Connection, kommunekode: str) -> Municipality | None:
    row = conn.execute(
        select(municipalities).where(municipalities.c.kommunekode == kommunekode)
    ).first()
    return None if row is None else _to_model(row)


def by_agency(conn: Connection, agency_id: str) -> Municipality:
    row = conn.execute(
        select(municipalities).where(municipalities.c.agency_id == agency_id)
    ).first()
    if row is None:
        raise NotFoundError(f"no library agency {agency_id}", code="unknown-agency")
    return _to_model(row)


def list_municipalities(conn: Connection) -> list[Municipality]:
    return [
        _to_model(r)
        for r in conn.execute(select(municipalities).order_by(municipalities.c.kommunekode))
    ]


def set_cutoff_date(
    conn: Connection, clock: Clock, kommunekode: str, cutoff: date | None
) -> Municipality:
    """Set the go-live date; fees created before it stay old (in the library only)."""
    get_municipality(conn, kommunekode)
    conn.execute(
        update(municipalities)
        .where(municipalities.c.kommunekode == kommunekode)
        .values(cutoff_date=cutoff)
    )
    municipality = get_municipality(conn, kommunekode)
    _announce(conn, clock, municipality)
    return municipality


def map_claim_kind(
    conn: Connection,
    clock: Clock,
    kommunekode: str,
    claim_kind: str,
    *,
    debtor_classification: str,
    psrm_claim_type: str,
) -> dict[str, str]:
    """Map one library claim kind to the municipality's debtor classification and PSRM type.

    Claims of a kind that was unmapped are held in the library and go to debtor once this
    mapping reaches it.
    """
    get_municipality(conn, kommunekode)
    try:
        kind = ClaimKind(claim_kind)
    except ValueError as exc:
        raise ValidationError(
            f"unknown claim kind {claim_kind!r}; the sortiment has "
            + ", ".join(k.value for k in ClaimKind),
            code="unknown-claim-kind",
        ) from exc
    for label, value in (
        ("debtor classification", debtor_classification),
        ("PSRM claim type", psrm_claim_type),
    ):
        if not value.strip() or len(value) > 40:
            raise ValidationError(f"{label} must be 1 to 40 characters", code="invalid-mapping")
    where = (sortiment.c.municipality == kommunekode) & (sortiment.c.claim_kind == kind.value)
    values = {
        "debtor_classification": debtor_classification.strip(),
        "psrm_claim_type": psrm_claim_type.strip(),
        "updated_at": clock.now(),
    }
    if conn.execute(select(sortiment.c.claim_kind).where(where)).first():
        conn.execute(update(sortiment).where(where).values(**values))
    else:
        conn.execute(
            insert(sortiment).values(municipality=kommunekode, claim_kind=kind.value, **values)
        )
    send(
        conn,
        SortimentMapped(
            municipality=kommunekode,
            occurred_at=clock.now(),
            claim_kind=kind.value,
            debtor_classification=values["debtor_classification"],  # type: ignore[arg-type]
            psrm_claim_type=values["psrm_claim_type"],  # type: ignore[arg-type]
        ),
        source=SOURCE,
    )
    return {
        "claim_kind": kind.value,
        "debtor_classification": str(values["debtor_classification"]),
        "psrm_claim_type": str(values["psrm_claim_type"]),
    }


def list_sortiment(conn: Connection, kommunekode: str) -> list[dict[str, str | None]]:
    """Every claim kind of the sortiment with its mapping (None where unmapped)."""
    mapped = {
        r.claim_kind: r
        for r in conn.execute(select(sortiment).where(sortiment.c.municipality == kommunekode))
    }
    out: list[dict[str, str | None]] = []
    for kind in ClaimKind:
        row = mapped.get(kind.value)
        out.append(
            {
                "claim_kind": kind.value,
                "description": kind.danish,
                "legal_basis": kind.legal_basis.value,
                "debtor_classification": row.debtor_classification if row else None,
                "psrm_claim_type": row.psrm_claim_type if row else None,
            }
        )
    return out
