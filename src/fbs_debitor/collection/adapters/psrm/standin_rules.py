"""The stand-in's rules and words: how it decides (:class:`StandInRules`), the states of a claim
it holds, its reason codes with their Danish sentences, and its calendar of months."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal

REASONS: dict[str, str] = {
    "FORDRINGSTYPE_MANGLER": "Fordringstypen mangler.",
    "FORDRINGSTYPE_UKENDT": "Fordringstypen {type} er ukendt for fordringshaveren.",
    "SRB_IKKE_OVERSKREDET": "Sidste rettidige betalingsdato {srb} er ikke overskredet.",
    "SKYLDNER_UKENDT": "Skyldneren {debtor} er ukendt i PSRM.",
    "FORDRING_FINDES": "Fordringen {reference} er allerede under inddrivelse.",
    "FORDRING_MANGLER": "Aktionen OPRETFORDRING mangler fordringen.",
    "FORDRING_UKENDT": "Fordringen {reference} er ikke under inddrivelse.",
    "BELOEB_UGYLDIGT": "Beløbet skal være større end 0.",
    "AARSAGSKODE_UGYLDIG": "Årsagskoden {kode} kan ikke bruges til {aktion}.",
    "NEDSKRIVNING_OVERSTIGER_SALDO": "Nedskrivningen på {amount} øre overstiger saldoen på {balance} øre.",
    "HOERING": "Fordringen er sendt i høring hos Gældsstyrelsen.",
    "HOERING_AFVIST": "Gældsstyrelsen har afvist fordringen efter høring.",
}
"""The stand-in's AFVIST and HOERING codes and their Danish sentences."""


class ClaimState(StrEnum):
    """A claim's state in the stand-in. Only HOERING and AKTIV are active (take actions, settle)."""

    HOERING = "HOERING"
    AKTIV = "AKTIV"
    BETALT = "BETALT"
    NEDSKREVET = "NEDSKREVET"
    TILBAGEKALDT = "TILBAGEKALDT"
    TILBAGESENDT = "TILBAGESENDT"
    AFSKREVET = "AFSKREVET"
    AFVIST = "AFVIST"


@dataclass(frozen=True)
class StandInRules:
    """How the stand-in decides. Sets may be given as any iterable of strings.

    known_claim_types:   the claim types PSRM knows (empty: any non-empty type).
    unknown_debtors:     CPR/CVR numbers PSRM does not know (OPRETFORDRING -> AFVIST).
    hearing_claim_types: types that go to hearing (HOERING) first.
    hearing_days:        calendar days after the submission that a hearing resolves.
    hearing_outcome:     what a hearing resolves to.
    settle_share:        the share (0..1) of the open claims settled each month.
    settle_instalments:  a picked claim pays ceil(balance at its first settlement / this) a
                         month (1: all at once).
    fail_calls:          the next this many calls raise PsrmUnavailable (as a timeout would).
    fail_after_effect:   True: the failing call takes effect first and only its answer is lost
                         (the hard case: a retry must not create twice); False: nothing arrives.
    """

    known_claim_types: frozenset[str] = field(default_factory=frozenset)
    unknown_debtors: frozenset[str] = field(default_factory=frozenset)
    hearing_claim_types: frozenset[str] = field(default_factory=frozenset)
    hearing_days: int = 14
    hearing_outcome: Literal["UDFOERT", "AFVIST"] = "UDFOERT"
    settle_share: float = 0.5
    settle_instalments: int = 1
    fail_calls: int = 0
    fail_after_effect: bool = True

    def __post_init__(self) -> None:
        for name in ("known_claim_types", "unknown_debtors", "hearing_claim_types"):
            object.__setattr__(self, name, frozenset(getattr(self, name) or ()))
        if not 0.0 <= self.settle_share <= 1.0:
            raise ValueError("settle_share is a share between 0 and 1")
        if self.settle_instalments < 1 or self.hearing_days < 0 or self.fail_calls < 0:
            raise ValueError("settle_instalments >= 1, hearing_days >= 0, fail_calls >= 0")


@dataclass(frozen=True, slots=True)
class PsrmClaim:
    """A claim as the stand-in holds it (for tests and the demo to inspect)."""

    psrm_fordring_id: str
    municipality: str
    reference: str
    state: ClaimState
    fordringstype: str
    balance_ore: int
    settled_ore: int
    created_on: date


def month_of(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def next_month(m: str) -> str:
    year, month = int(m[:4]), int(m[5:7])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def month_first(m: str) -> date:
    return date(int(m[:4]), int(m[5:7]), 1)


def month_last(m: str) -> date:
    return month_first(next_month(m)) - timedelta(days=1)


def stable_hash(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256(":".join(parts).encode()).digest()[:8], "big")
