"""The PSRM stand-in's own edges: its state file shared by processes, its rules, its
repeatable choice of what is settled, and the adapter chosen by settings."""

from __future__ import annotations

import json
import multiprocessing
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from fbs_debitor.collection.adapters.psrm.configured import configured_psrm
from fbs_debitor.collection.adapters.psrm.files import PsrmFiles
from fbs_debitor.collection.adapters.psrm.soap import PsrmSoap
from fbs_debitor.collection.adapters.psrm.standin import PsrmStandIn
from fbs_debitor.collection.adapters.psrm.standin_rules import ClaimState, StandInRules
from fbs_debitor.collection.model.psrm import (
    Aktion,
    Fordring,
    FordringAktion,
    Haeftelse,
    IdType,
    KvitteringStatus,
    UnderretningType,
)
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.settings import Settings

TODAY = date(2026, 5, 4)


def create(reference: str, kind: str = "GEBYR", amount: int = 10000) -> FordringAktion:
    return FordringAktion(
        aktion_id=f"create-{reference}",
        municipality="101",
        reference=reference,
        aktion=Aktion.OPRETFORDRING,
        virkningsdato=TODAY,
        fordring=Fordring(
            fordringstype=kind,
            forfaldsdato=date(2026, 3, 1),
            sidste_rettidige_betalingsdato=date(2026, 3, 15),
            periode_fra=date(2026, 2, 1),
            periode_til=date(2026, 3, 1),
            hovedstol_ore=amount,
            gebyr_ore=0,
            rente_ore=0,
            haeftelse=Haeftelse(IdType.CPR, "0101901234", date(2029, 1, 1)),
        ),
    )


def _submit_in_a_process(state: str, reference: str) -> None:
    PsrmStandIn(SettableClock.at_date(TODAY), state_path=Path(state)).submit([create(reference)])


def test_processes_naming_one_state_file_see_one_psrm(tmp_path: Path) -> None:
    state = tmp_path / "psrm" / "state.json"
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_submit_in_a_process, args=(str(state), f"R-{i}")) for i in range(4)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    here = PsrmStandIn(SettableClock.at_date(TODAY), state_path=state)
    here.submit([create("R-0")])  # a repeat from another process: received, nothing new
    receipts = here.receipts("101", None).items
    assert sorted(k.reference for k in receipts) == ["R-0", "R-1", "R-2", "R-3"]
    assert len({k.psrm_fordring_id for k in receipts}) == 4
    assert here.times_received("create-R-0") == 2
    assert json.loads(state.read_text())["version"] == 1
    assert sorted(p.name for p in state.parent.iterdir()) == ["state.json", "state.json.lock"]


def test_a_failed_call_changes_nothing_in_memory() -> None:
    standin = PsrmStandIn(SettableClock.at_date(TODAY))
    standin.submit([create("A")])
    with pytest.raises(KeyError):
        standin.write_off("101", "unknown")
    with pytest.raises(ValueError, match="cannot write off"):
        standin.write_off("101", "A", 10001)
    claim = standin.claim("A", "101")
    assert claim is not None and claim.balance_ore == 10000


def test_without_known_types_any_type_is_accepted_but_never_none() -> None:
    standin = PsrmStandIn(SettableClock.at_date(TODAY))
    standin.submit([create("A", kind="NOGET-ANDET"), create("B", kind=" - ")])
    statuses = [(k.reference, k.status, k.aarsag_kode) for k in standin.receipts("101", None).items]
    assert statuses == [
        ("A", KvitteringStatus.UDFOERT, ""),
        ("B", KvitteringStatus.AFVIST, "FORDRINGSTYPE_MANGLER"),
    ]


def test_a_hearing_can_end_in_rejection() -> None:
    clock = SettableClock.at_date(TODAY)
    rules = StandInRules(hearing_claim_types={"H"}, hearing_days=5, hearing_outcome="AFVIST")
    standin = PsrmStandIn(clock, rules)
    standin.submit([create("A", kind="H")])
    clock.set_date(date(2026, 5, 9))
    receipts = standin.receipts("101", None).items
    assert [(k.status, k.aarsag_kode) for k in receipts] == [
        (KvitteringStatus.HOERING, "HOERING"),
        (KvitteringStatus.AFVIST, "HOERING_AFVIST"),
    ]
    claim = standin.claim("A", "101")
    assert claim is not None and claim.state is ClaimState.AFVIST
    standin.submit([replace(create("A"), aktion_id="again-A")])  # rejected: may come again
    assert standin.receipts("101", "2").items[0].status is KvitteringStatus.UDFOERT


def test_the_settled_share_is_repeatable() -> None:
    def settled(share: float) -> list[str]:
        clock = SettableClock.at_date(TODAY)
        standin = PsrmStandIn(clock, StandInRules(settle_share=share))
        standin.submit([create(f"R-{i:02d}") for i in range(40)])
        clock.set_date(date(2026, 6, 1))
        notes = standin.notifications("101", None).items
        assert all(n.type is UnderretningType.AFREGNING for n in notes)
        return [n.reference for n in notes]

    half = settled(0.5)
    assert half == settled(0.5)  # the same claims in a new stand-in
    assert 5 < len(half) < 35
    assert settled(0.0) == []
    assert len(settled(1.0)) == 40


def test_a_claim_in_instalments_pays_its_rest_last() -> None:
    clock = SettableClock.at_date(TODAY)
    standin = PsrmStandIn(clock, StandInRules(settle_share=1.0, settle_instalments=3))
    standin.submit([create("A", amount=10000)])
    clock.set_date(date(2026, 9, 1))
    notes = standin.notifications("101", None).items
    assert [n.beloeb_ore for n in notes] == [3334, 3334, 3332]
    claim = standin.claim("A", "101")
    assert claim is not None and claim.state is ClaimState.BETALT


@pytest.mark.parametrize(
    ("env", "kind"),
    [
        ({}, PsrmStandIn),
        ({"FBS_DEBITOR_PSRM_ADAPTER": "files"}, PsrmFiles),
        (
            {"FBS_DEBITOR_PSRM_ADAPTER": "soap", "FBS_DEBITOR_PSRM_URL": "https://psrm.test/efi"},
            PsrmSoap,
        ),
    ],
)
def test_the_settings_choose_the_adapter(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], kind: type
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert isinstance(configured_psrm(Settings(), SettableClock.at_date(TODAY)), kind)


def test_the_standin_state_setting_names_its_file(tmp_path: Path) -> None:
    state = tmp_path / "psrm.json"
    psrm = configured_psrm(Settings(psrm_standin_state=str(state)), SettableClock.at_date(TODAY))
    psrm.submit([create("A")])
    assert state.exists()


def test_soap_without_a_url_is_refused() -> None:
    with pytest.raises(ValidationError, match="FBS_DEBITOR_PSRM_URL"):
        Settings(psrm_adapter="soap")
