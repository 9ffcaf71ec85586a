"""The stand-in's state as JSON: actions, receipts and notifications to plain dicts and back
(dates as ISO text, amounts as integer øre), and the numbered cursor read of a list of them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from fbs_debitor.collection.adapters.psrm.interface import PsrmError
from fbs_debitor.collection.model.psrm import (
    Aktion,
    Fordring,
    FordringAktion,
    Haeftelse,
    IdType,
    Kvittering,
    KvitteringStatus,
    Page,
    Underretning,
    UnderretningType,
)

T = TypeVar("T")


def _d(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def aktion_to_json(a: FordringAktion) -> dict[str, Any]:
    f = a.fordring
    return {
        "aktion_id": a.aktion_id,
        "municipality": a.municipality,
        "reference": a.reference,
        "aktion": a.aktion.value,
        "virkningsdato": a.virkningsdato.isoformat(),
        "beloeb_ore": a.beloeb_ore,
        "aarsagskode": a.aarsagskode,
        "fordring": None
        if f is None
        else {
            "fordringstype": f.fordringstype,
            "forfaldsdato": f.forfaldsdato.isoformat(),
            "srb": f.sidste_rettidige_betalingsdato.isoformat(),
            "periode_fra": f.periode_fra.isoformat(),
            "periode_til": f.periode_til.isoformat(),
            "hovedstol_ore": f.hovedstol_ore,
            "gebyr_ore": f.gebyr_ore,
            "rente_ore": f.rente_ore,
            "id_type": f.haeftelse.id_type.value,
            "id": f.haeftelse.id,
            "foraeldelsesdato": f.haeftelse.foraeldelsesdato.isoformat(),
            "tekst": f.tekst,
        },
    }


def aktion_from_json(d: dict[str, Any]) -> FordringAktion:
    f = d["fordring"]
    return FordringAktion(
        aktion_id=d["aktion_id"],
        municipality=d["municipality"],
        reference=d["reference"],
        aktion=Aktion(d["aktion"]),
        virkningsdato=date.fromisoformat(d["virkningsdato"]),
        beloeb_ore=d["beloeb_ore"],
        aarsagskode=d["aarsagskode"],
        fordring=None
        if f is None
        else Fordring(
            fordringstype=f["fordringstype"],
            forfaldsdato=date.fromisoformat(f["forfaldsdato"]),
            sidste_rettidige_betalingsdato=date.fromisoformat(f["srb"]),
            periode_fra=date.fromisoformat(f["periode_fra"]),
            periode_til=date.fromisoformat(f["periode_til"]),
            hovedstol_ore=f["hovedstol_ore"],
            gebyr_ore=f["gebyr_ore"],
            rente_ore=f["rente_ore"],
            haeftelse=Haeftelse(
                id_type=IdType(f["id_type"]),
                id=f["id"],
                foraeldelsesdato=date.fromisoformat(f["foraeldelsesdato"]),
            ),
            tekst=f["tekst"],
        ),
    )


def kvittering_to_json(k: Kvittering, seq: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "kvittering_id": k.kvittering_id,
        "aktion_id": k.aktion_id,
        "municipality": k.municipality,
        "reference": k.reference,
        "status": k.status.value,
        "tidspunkt": k.tidspunkt.isoformat(),
        "psrm_fordring_id": k.psrm_fordring_id,
        "aarsag_kode": k.aarsag_kode,
        "aarsag_tekst": k.aarsag_tekst,
    }


def kvittering_from_json(d: dict[str, Any]) -> Kvittering:
    return Kvittering(
        kvittering_id=d["kvittering_id"],
        aktion_id=d["aktion_id"],
        municipality=d["municipality"],
        reference=d["reference"],
        status=KvitteringStatus(d["status"]),
        tidspunkt=datetime.fromisoformat(d["tidspunkt"]),
        psrm_fordring_id=d["psrm_fordring_id"],
        aarsag_kode=d["aarsag_kode"],
        aarsag_tekst=d["aarsag_tekst"],
    )


def underretning_to_json(u: Underretning, seq: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "underretning_id": u.underretning_id,
        "type": u.type.value,
        "municipality": u.municipality,
        "reference": u.reference,
        "psrm_fordring_id": u.psrm_fordring_id,
        "beloeb_ore": u.beloeb_ore,
        "betalingsdato": u.betalingsdato.isoformat(),
        "afregningsdato": None if u.afregningsdato is None else u.afregningsdato.isoformat(),
        "tekst": u.tekst,
    }


def underretning_from_json(d: dict[str, Any]) -> Underretning:
    return Underretning(
        underretning_id=d["underretning_id"],
        type=UnderretningType(d["type"]),
        municipality=d["municipality"],
        reference=d["reference"],
        psrm_fordring_id=d["psrm_fordring_id"],
        beloeb_ore=d["beloeb_ore"],
        betalingsdato=date.fromisoformat(d["betalingsdato"]),
        afregningsdato=_d(d["afregningsdato"]),
        tekst=d["tekst"],
    )


def page(
    rows: list[dict[str, Any]],
    municipality: str,
    cursor: str | None,
    limit: int,
    load: Callable[[dict[str, Any]], T],
) -> Page[T]:
    """The municipality's rows numbered after ``cursor`` (the number of the last row read; None:
    from the start), at most ``limit``, oldest first. The returned cursor is the number of the
    last row returned (the given cursor when there is none)."""
    if limit < 1:
        raise PsrmError(f"limit must be at least 1, not {limit}")
    try:
        after = 0 if cursor in (None, "") else int(str(cursor))
    except ValueError as exc:
        raise PsrmError(f"not a cursor of this PSRM: {cursor!r}") from exc
    mine = [r for r in rows if r["municipality"] == municipality and r["seq"] > after]
    taken = mine[:limit]
    next_cursor = str(taken[-1]["seq"]) if taken else cursor
    return Page(items=tuple(load(r) for r in taken), cursor=next_cursor, more=len(mine) > limit)
