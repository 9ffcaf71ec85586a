"""What collection sends PSRM, pure: the claim of a hand-over, the action a change in debtor
becomes, and the states of a claim handed over.

A change in debtor to a claim PSRM holds (``contracts.collection.Change``) becomes one action:

=================  ============  ===========  ==============================================
change             action        årsagskode   why
=================  ============  ===========  ==============================================
written_down       NEDSKRIV      FEJL         the library found the claim too high
covered            NEDSKRIV      INDB         the citizen paid the municipality, not PSRM
written_up         OPSKRIV       -            the library raised the claim
coverage_reversed  OPSKRIV       -            a local payment reported to PSRM bounced
cancelled          TILBAGEKALD   FEJL         the claim should not exist (the library
                                              cancelled it)
written_off        TILBAGEKALD   ANDN         the municipality gave the claim up
=================  ============  ===========  ==============================================

A recall never moves money: what PSRM collected before it still comes in its settlement and
covers the claim (or becomes the debtor's credit in debtor if nothing is left to cover).
"""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from typing import Any

from fbs_debitor.collection.model.psrm import (
    Aktion,
    Fordring,
    FordringAktion,
    Haeftelse,
    IdType,
    NedskrivAarsag,
    TilbagekaldAarsag,
)
from fbs_debitor.contracts.collection import Change, CollectionFacts


class State(StrEnum):
    """Where a claim handed over stands (``collection_claim.state``)."""

    SUBMITTED = "submitted"
    """OPRETFORDRING queued or sent; no decision from PSRM yet."""
    DONE = "done"
    """PSRM took it (UDFOERT): it has PSRM's claim id."""
    HEARING = "hearing"
    """A person at Gældsstyrelsen decides (HOERING); a later receipt settles it."""
    RETURNED = "returned"
    """PSRM rejected it (AFVIST) or sent it back (TILBAGESEND): the municipality's again, on the
    list for a person."""
    RELEASED = "released"
    """A person fixed a returned claim and released it for the next hand-over run."""
    RECALLED = "recalled"
    """Recalled by us (TILBAGEKALD): settlements of what PSRM collected before may still come."""


WITH_PSRM = frozenset({State.SUBMITTED, State.DONE, State.HEARING})
"""States in which PSRM holds (or is about to hold) the claim: changes go to PSRM."""

_CHANGES: dict[Change, tuple[Aktion, str | None, int]] = {
    Change.WRITTEN_DOWN: (Aktion.NEDSKRIV, NedskrivAarsag.FEJL.value, -1),
    Change.COVERED: (Aktion.NEDSKRIV, NedskrivAarsag.INDB.value, -1),
    Change.WRITTEN_UP: (Aktion.OPSKRIV, None, 1),
    Change.COVERAGE_REVERSED: (Aktion.OPSKRIV, None, 1),
    Change.CANCELLED: (Aktion.TILBAGEKALD, TilbagekaldAarsag.FEJL.value, 0),
    Change.WRITTEN_OFF: (Aktion.TILBAGEKALD, TilbagekaldAarsag.ANDN.value, 0),
}


def action_for(change: Change) -> tuple[Aktion, str | None, int]:
    """The PSRM action, its årsagskode (None: the action has none) and the sign of its effect on
    what PSRM holds (+1 up, -1 down, 0: a recall, which takes all that is left)."""
    return _CHANGES[change]


def fordring_of(facts: CollectionFacts) -> Fordring:
    """The claim OPRETFORDRING hands over. Only eligible facts have an SRB and due date."""
    srb = facts.last_timely_payment_date
    due = facts.due_date
    if srb is None or due is None:
        raise ValueError(f"claim {facts.claim_id} is not invoiced: nothing to hand over")
    return Fordring(
        fordringstype=facts.psrm_claim_type.strip(),
        forfaldsdato=due,
        sidste_rettidige_betalingsdato=srb,
        periode_fra=min(facts.created_on, due),
        periode_til=due,
        hovedstol_ore=facts.principal_ore,
        gebyr_ore=facts.fees_ore,
        rente_ore=facts.interest_ore,
        haeftelse=Haeftelse(
            id_type=IdType(facts.debtor_id_type),
            id=facts.debtor_id,
            foraeldelsesdato=facts.limitation_date or _three_years(due),
        ),
        tekst=facts.text[:200],
    )


def _three_years(due: date) -> date:
    try:
        return due.replace(year=due.year + 3)
    except ValueError:  # 29 February
        return due.replace(year=due.year + 3, day=28)


# -- the stored form of an action (``collection_action.body``) ----------------------------------


def to_body(action: FordringAktion) -> str:
    """The action as JSON text (dates ISO; the debtor's number in full: PSRM needs it)."""
    data: dict[str, Any] = {
        "aktion_id": action.aktion_id,
        "municipality": action.municipality,
        "reference": action.reference,
        "aktion": action.aktion.value,
        "virkningsdato": action.virkningsdato.isoformat(),
        "beloeb_ore": action.beloeb_ore,
        "aarsagskode": action.aarsagskode,
    }
    f = action.fordring
    if f is not None:
        data["fordring"] = {
            "fordringstype": f.fordringstype,
            "forfaldsdato": f.forfaldsdato.isoformat(),
            "sidste_rettidige_betalingsdato": f.sidste_rettidige_betalingsdato.isoformat(),
            "periode_fra": f.periode_fra.isoformat(),
            "periode_til": f.periode_til.isoformat(),
            "hovedstol_ore": f.hovedstol_ore,
            "gebyr_ore": f.gebyr_ore,
            "rente_ore": f.rente_ore,
            "haeftelse": {
                "id_type": f.haeftelse.id_type.value,
                "id": f.haeftelse.id,
                "foraeldelsesdato": f.haeftelse.foraeldelsesdato.isoformat(),
            },
            "tekst": f.tekst,
        }
    return json.dumps(data, separators=(",", ":"))


def from_body(text: str) -> FordringAktion:
    """The action stored by :func:`to_body`."""
    data = json.loads(text)
    fordring = None
    if (f := data.get("fordring")) is not None:
        h = f["haeftelse"]
        fordring = Fordring(
            fordringstype=f["fordringstype"],
            forfaldsdato=date.fromisoformat(f["forfaldsdato"]),
            sidste_rettidige_betalingsdato=date.fromisoformat(f["sidste_rettidige_betalingsdato"]),
            periode_fra=date.fromisoformat(f["periode_fra"]),
            periode_til=date.fromisoformat(f["periode_til"]),
            hovedstol_ore=int(f["hovedstol_ore"]),
            gebyr_ore=int(f["gebyr_ore"]),
            rente_ore=int(f["rente_ore"]),
            haeftelse=Haeftelse(
                id_type=IdType(h["id_type"]),
                id=h["id"],
                foraeldelsesdato=date.fromisoformat(h["foraeldelsesdato"]),
            ),
            tekst=f.get("tekst", ""),
        )
    return FordringAktion(
        aktion_id=data["aktion_id"],
        municipality=data["municipality"],
        reference=data["reference"],
        aktion=Aktion(data["aktion"]),
        virkningsdato=date.fromisoformat(data["virkningsdato"]),
        fordring=fordring,
        beloeb_ore=data.get("beloeb_ore"),
        aarsagskode=data.get("aarsagskode"),
    )
