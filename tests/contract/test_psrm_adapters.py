"""One contract, three adapters: every test here runs against the stand-in itself, the file
adapter (with the file exchange's PSRM side feeding the stand-in) and the SOAP adapter (with the
stand-in's SOAP face behind an ``httpx.MockTransport``). No database, no port, no waiting: time
is a settable clock.

The expected settlement dates are written out here from the calendar (Danish public holidays,
5 June, 24 and 31 December and the day after Ascension are closed), not computed by the
engine's bank-day helper.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from fbs_debitor.collection.adapters.psrm.exchange import exchange_with
from fbs_debitor.collection.adapters.psrm.files import PsrmFiles
from fbs_debitor.collection.adapters.psrm.interface import Psrm, PsrmUnavailable
from fbs_debitor.collection.adapters.psrm.soap import PsrmSoap
from fbs_debitor.collection.adapters.psrm.standin import PsrmStandIn
from fbs_debitor.collection.adapters.psrm.standin_rules import ClaimState, StandInRules
from fbs_debitor.collection.adapters.psrm.standin_soap import soap_handler
from fbs_debitor.collection.model.psrm import (
    Aktion,
    Fordring,
    FordringAktion,
    Haeftelse,
    IdType,
    Kvittering,
    KvitteringStatus,
    Underretning,
    UnderretningType,
)
from fbs_debitor.core.clock import SettableClock

KOMMUNE = "101"
OTHER = "461"
START = date(2026, 5, 4)  # a Monday
CPR = "0101901234"
UNKNOWN_CPR = "3112851111"

RULES = StandInRules(
    known_claim_types={"GEBYR", "ERSTATNING", "HOERING-TYPE"},
    unknown_debtors={UNKNOWN_CPR},
    hearing_claim_types={"HOERING-TYPE"},
    hearing_days=10,
    settle_share=1.0,
)

# The last bank day of each month, from the calendar (weekends; 31 December closed).
LAST_BANK_DAY = {
    (2026, 5): date(2026, 5, 29),  # 30-31 May are a weekend
    (2026, 6): date(2026, 6, 30),
    (2026, 7): date(2026, 7, 31),
    (2026, 8): date(2026, 8, 31),
    (2026, 9): date(2026, 9, 30),
    (2026, 10): date(2026, 10, 30),  # 31 October is a Saturday
    (2026, 11): date(2026, 11, 30),
    (2026, 12): date(2026, 12, 30),  # 31 December: banks closed
    (2027, 1): date(2027, 1, 29),  # 30-31 January are a weekend
}


def fordring(
    kind: str = "GEBYR",
    srb: date = date(2026, 4, 20),
    principal: int = 10000,
    fees: int = 2500,
    debtor: str = CPR,
) -> Fordring:
    return Fordring(
        fordringstype=kind,
        forfaldsdato=srb - timedelta(days=14),
        sidste_rettidige_betalingsdato=srb,
        periode_fra=srb - timedelta(days=30),
        periode_til=srb - timedelta(days=14),
        hovedstol_ore=principal,
        gebyr_ore=fees,
        rente_ore=0,
        haeftelse=Haeftelse(IdType.CPR, debtor, date(2029, 4, 6)),
        tekst="Bibliotek: gebyr for sen aflevering",
    )


def opret(reference: str, municipality: str = KOMMUNE, **kw: object) -> FordringAktion:
    return FordringAktion(
        aktion_id=str(uuid.uuid4()),
        municipality=municipality,
        reference=reference,
        aktion=Aktion.OPRETFORDRING,
        virkningsdato=START,
        fordring=fordring(**kw),  # type: ignore[arg-type]
    )


def regulate(
    reference: str, aktion: Aktion, amount: int | None, code: str | None
) -> FordringAktion:
    return FordringAktion(
        aktion_id=str(uuid.uuid4()),
        municipality=KOMMUNE,
        reference=reference,
        aktion=aktion,
        virkningsdato=START,
        beloeb_ore=amount,
        aarsagskode=code,
    )


@dataclass
class Harness:
    """One adapter with the stand-in behind it, and what a test needs around it."""

    kind: str
    clock: SettableClock
    standin: PsrmStandIn
    psrm: Psrm
    folder: Path
    _lose_next: bool = field(default=False)

    def sync(self) -> None:
        """The transport's turn (files only): carry submissions to PSRM and its answers back."""
        if self.kind == "files":
            exchange_with(self.standin, self.folder)

    def submit(self, actions: Sequence[FordringAktion]) -> list[str]:
        if self.kind == "files" and self._lose_next:
            # The file went out, and then the caller never learned it: as a timeout would.
            self._lose_next = False
            self.psrm.submit(actions)
            self.sync()
            raise PsrmUnavailable("the answer was lost")
        ids = self.psrm.submit(actions)
        self.sync()
        return ids

    def lose_next_answer(self) -> None:
        """The next submit takes effect, but its caller sees a timeout."""
        if self.kind == "files":
            self._lose_next = True
        else:
            self.standin.fail_next(1)

    def receipts(self, municipality: str = KOMMUNE, cursor: str | None = None) -> list[Kvittering]:
        """Every receipt after ``cursor``, page by page."""
        self.sync()
        out: list[Kvittering] = []
        while True:
            page = self.psrm.receipts(municipality, cursor, limit=500)
            out.extend(page.items)
            cursor = page.cursor
            if not page.more:
                return out

    def notifications(self, municipality: str = KOMMUNE) -> list[Underretning]:
        self.sync()
        out: list[Underretning] = []
        cursor = None
        while True:
            page = self.psrm.notifications(municipality, cursor, limit=500)
            out.extend(page.items)
            cursor = page.cursor
            if not page.more:
                return out

    def move_to(self, day: date) -> None:
        self.clock.set_date(day)


Factory = Callable[[StandInRules], Harness]


@pytest.fixture(params=["standin", "files", "soap"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Factory:
    def build(rules: StandInRules = RULES) -> Harness:
        clock = SettableClock.at_date(START)
        standin = PsrmStandIn(clock, rules)
        psrm: Psrm
        if request.param == "standin":
            psrm = standin
        elif request.param == "files":
            psrm = PsrmFiles(tmp_path / "psrm", clock)
        else:
            client = httpx.Client(transport=httpx.MockTransport(soap_handler(standin)))
            psrm = PsrmSoap("http://psrm.test/efi", client=client, timeout_s=5)
        return Harness(request.param, clock, standin, psrm, tmp_path / "psrm")

    return build


@pytest.fixture
def h(make: Factory) -> Harness:
    return make(RULES)


def test_a_claim_is_created_and_psrm_gives_its_id(h: Harness) -> None:
    action = opret("L-1")
    assert h.submit([action]) == [action.aktion_id]
    [receipt] = h.receipts()
    assert receipt.status is KvitteringStatus.UDFOERT
    assert receipt.aktion_id == action.aktion_id
    assert receipt.reference == "L-1" and receipt.municipality == KOMMUNE
    assert receipt.psrm_fordring_id
    assert receipt.aarsag_kode == ""
    claim = h.standin.claim("L-1", KOMMUNE)
    assert claim is not None and claim.state is ClaimState.AKTIV
    assert claim.balance_ore == 12500
    assert claim.psrm_fordring_id == receipt.psrm_fordring_id


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"kind": ""}, "FORDRINGSTYPE_MANGLER"),
        ({"kind": "-"}, "FORDRINGSTYPE_MANGLER"),
        ({"kind": "UKENDT"}, "FORDRINGSTYPE_UKENDT"),
        ({"srb": START}, "SRB_IKKE_OVERSKREDET"),  # the SRB is today: not passed yet
        ({"srb": START + timedelta(days=1)}, "SRB_IKKE_OVERSKREDET"),
        ({"debtor": UNKNOWN_CPR}, "SKYLDNER_UKENDT"),
    ],
)
def test_psrm_rejects_a_claim_it_cannot_take(
    h: Harness, kwargs: dict[str, object], code: str
) -> None:
    action = opret("L-2", **kwargs)
    h.submit([action])
    [receipt] = h.receipts()
    assert receipt.status is KvitteringStatus.AFVIST
    assert receipt.aktion_id == action.aktion_id
    assert receipt.aarsag_kode == code
    assert receipt.aarsag_tekst  # a Danish sentence
    assert receipt.psrm_fordring_id is None
    assert UNKNOWN_CPR not in receipt.aarsag_tekst  # a CPR is masked in PSRM's reason
    assert h.standin.claim("L-2", KOMMUNE) is None


def test_the_srb_passed_yesterday_is_accepted(h: Harness) -> None:
    h.submit([opret("L-3", srb=START - timedelta(days=1))])
    assert [r.status for r in h.receipts()] == [KvitteringStatus.UDFOERT]


def test_a_reference_already_in_collection_is_rejected(h: Harness) -> None:
    first, second = opret("L-4"), opret("L-4", principal=5000)
    h.submit([first])
    h.submit([second])
    receipts = h.receipts()
    assert [(r.aktion_id, r.status) for r in receipts] == [
        (first.aktion_id, KvitteringStatus.UDFOERT),
        (second.aktion_id, KvitteringStatus.AFVIST),
    ]
    assert receipts[1].aarsag_kode == "FORDRING_FINDES"
    claim = h.standin.claim("L-4", KOMMUNE)
    assert claim is not None and claim.balance_ore == 12500


def test_a_hearing_type_is_heard_first_and_done_after_the_hearing_days(h: Harness) -> None:
    action = opret("L-5", kind="HOERING-TYPE")
    h.submit([action])
    [hearing] = h.receipts()
    assert hearing.status is KvitteringStatus.HOERING
    assert hearing.psrm_fordring_id is None and hearing.aarsag_tekst
    h.move_to(START + timedelta(days=9))
    assert len(h.receipts()) == 1  # still in hearing
    h.move_to(START + timedelta(days=10))
    receipts = h.receipts()
    assert [r.status for r in receipts] == [KvitteringStatus.HOERING, KvitteringStatus.UDFOERT]
    assert receipts[1].aktion_id == action.aktion_id
    assert receipts[1].psrm_fordring_id
    assert len(h.receipts()) == 2  # resolved once


def test_the_same_action_twice_is_one_action(h: Harness) -> None:
    action = opret("L-6")
    assert h.submit([action, action]) == [action.aktion_id, action.aktion_id]
    h.submit([action])
    assert len(h.receipts()) == 1
    assert [a.aktion_id for a in h.standin.actions_received()] == [action.aktion_id]
    assert h.standin.times_received(action.aktion_id) == 3
    claim = h.standin.claim("L-6", KOMMUNE)
    assert claim is not None and claim.balance_ore == 12500


def test_write_down_and_up_change_what_psrm_settles(h: Harness) -> None:
    h.submit([opret("L-7")])  # 12500
    h.submit([regulate("L-7", Aktion.NEDSKRIV, 2500, "INDB")])
    h.submit([regulate("L-7", Aktion.OPSKRIV, 1000, None)])
    h.submit([regulate("L-7", Aktion.NEDSKRIV, 11001, "FEJL")])  # beyond the 11000 left
    h.submit([regulate("L-8", Aktion.NEDSKRIV, 100, "INDB")])  # no such claim
    h.submit([regulate("L-7", Aktion.NEDSKRIV, 100, "HENS")])  # a recall's code
    receipts = h.receipts()
    assert [(r.status, r.aarsag_kode) for r in receipts] == [
        (KvitteringStatus.UDFOERT, ""),
        (KvitteringStatus.UDFOERT, ""),
        (KvitteringStatus.UDFOERT, ""),
        (KvitteringStatus.AFVIST, "NEDSKRIVNING_OVERSTIGER_SALDO"),
        (KvitteringStatus.AFVIST, "FORDRING_UKENDT"),
        (KvitteringStatus.AFVIST, "AARSAGSKODE_UGYLDIG"),
    ]
    h.move_to(date(2026, 6, 1))
    [settlement] = h.notifications()
    assert settlement.type is UnderretningType.AFREGNING
    assert settlement.reference == "L-7"
    assert settlement.beloeb_ore == 12500 - 2500 + 1000
    assert settlement.psrm_fordring_id == receipts[0].psrm_fordring_id


def test_a_recalled_claim_is_closed(h: Harness) -> None:
    first = opret("L-9")
    h.submit([first])
    h.submit([regulate("L-9", Aktion.TILBAGEKALD, None, "FEJL")])
    h.submit([regulate("L-9", Aktion.NEDSKRIV, 100, "INDB")])
    receipts = h.receipts()
    assert [r.status for r in receipts] == [
        KvitteringStatus.UDFOERT,
        KvitteringStatus.UDFOERT,
        KvitteringStatus.AFVIST,
    ]
    assert receipts[2].aarsag_kode == "FORDRING_UKENDT"
    claim = h.standin.claim("L-9", KOMMUNE)
    assert claim is not None and claim.state is ClaimState.TILBAGEKALDT
    h.move_to(date(2026, 6, 1))
    assert h.notifications() == []  # nothing settled of a recalled claim
    again = opret("L-9")  # handed over anew, a new claim in PSRM
    h.submit([again])
    renewed = h.receipts()[-1]
    assert renewed.status is KvitteringStatus.UDFOERT
    assert renewed.psrm_fordring_id != receipts[0].psrm_fordring_id


def test_recall_of_an_unknown_claim_is_rejected(h: Harness) -> None:
    h.submit([regulate("L-10", Aktion.TILBAGEKALD, None, "FEJL")])
    [receipt] = h.receipts()
    assert (receipt.status, receipt.aarsag_kode) == (KvitteringStatus.AFVIST, "FORDRING_UKENDT")


def test_the_month_is_settled_only_after_it_ended_on_its_last_bank_day(h: Harness) -> None:
    h.submit([opret("L-11")])
    h.move_to(date(2026, 5, 31))
    assert h.notifications() == []
    h.move_to(date(2026, 6, 1))
    [settlement] = h.notifications()
    assert settlement.type is UnderretningType.AFREGNING
    assert settlement.beloeb_ore == 12500
    assert settlement.afregningsdato == date(2026, 5, 29)
    assert START <= settlement.betalingsdato <= date(2026, 5, 31)
    h.move_to(date(2026, 8, 3))
    assert len(h.notifications()) == 1  # a settled claim pays nothing twice
    claim = h.standin.claim("L-11", KOMMUNE)
    assert claim is not None and claim.state is ClaimState.BETALT and claim.balance_ore == 0


def test_each_month_settles_on_its_last_bank_day(make: Factory) -> None:
    h = make(StandInRules(settle_share=1.0, settle_instalments=10))
    h.submit([opret("L-12", principal=10000, fees=0)])  # 1000 øre a month
    h.move_to(date(2027, 2, 1))
    settlements = h.notifications()
    months = [(s.betalingsdato.year, s.betalingsdato.month) for s in settlements]
    assert months == list(LAST_BANK_DAY)
    assert [s.afregningsdato for s in settlements] == list(LAST_BANK_DAY.values())
    assert [s.beloeb_ore for s in settlements] == [1000] * 9
    assert len({s.underretning_id for s in settlements}) == 9
    claim = h.standin.claim("L-12", KOMMUNE)
    assert claim is not None and claim.balance_ore == 1000 and claim.settled_ore == 9000


def test_returns_and_write_offs_are_notified(h: Harness) -> None:
    h.submit([opret("L-13"), opret("L-14")])
    h.standin.send_back(KOMMUNE, "L-13", "Skyldneren er død.")
    h.standin.write_off(KOMMUNE, "L-14", 2500)
    notes = h.notifications()
    assert [(n.type, n.reference, n.beloeb_ore) for n in notes] == [
        (UnderretningType.TILBAGESEND, "L-13", 12500),
        (UnderretningType.AFSKRIVNING, "L-14", 2500),
    ]
    assert notes[0].tekst == "Skyldneren er død."
    assert notes[0].betalingsdato == START and notes[0].afregningsdato is None
    h.move_to(date(2026, 6, 1))
    settled = h.notifications()[2:]
    assert [(n.reference, n.beloeb_ore) for n in settled] == [("L-14", 10000)]


def test_cursors_page_without_loss_or_repeats(h: Harness) -> None:
    first = [opret(f"P-{i}") for i in range(7)]
    h.submit(first)
    h.submit([opret("O-1", municipality=OTHER)])
    h.sync()
    seen: list[str] = []
    cursor = None
    shapes = []
    while True:
        page = h.psrm.receipts(KOMMUNE, cursor, limit=3)
        seen.extend(r.aktion_id for r in page.items)
        shapes.append((len(page.items), page.more))
        cursor = page.cursor
        if not page.more:
            break
    assert shapes == [(3, True), (3, True), (1, False)]
    assert seen == [a.aktion_id for a in first]
    empty = h.psrm.receipts(KOMMUNE, cursor, limit=3)
    assert (empty.items, empty.more) == ((), False)
    later = [opret("P-7"), opret("P-8")]
    h.submit(later)
    assert [r.aktion_id for r in h.receipts(KOMMUNE, cursor)] == [a.aktion_id for a in later]
    assert [r.reference for r in h.receipts(OTHER)] == ["O-1"]

    h.move_to(date(2026, 6, 1))
    h.sync()
    refs: list[str] = []
    ncursor = None
    while True:
        npage = h.psrm.notifications(KOMMUNE, ncursor, limit=4)
        refs.extend(n.reference for n in npage.items)
        ncursor = npage.cursor
        if not npage.more:
            break
    assert sorted(refs) == sorted(f"P-{i}" for i in range(9))
    assert len(refs) == 9


def test_a_lost_answer_is_retried_with_the_same_ids_and_nothing_is_created_twice(
    h: Harness,
) -> None:
    action, other = opret("L-15"), opret("L-16")
    h.lose_next_answer()
    with pytest.raises(PsrmUnavailable):
        h.submit([action, other])
    assert h.submit([action, other]) == [action.aktion_id, other.aktion_id]
    receipts = h.receipts()
    assert sorted(r.aktion_id for r in receipts) == sorted([action.aktion_id, other.aktion_id])
    assert all(r.status is KvitteringStatus.UDFOERT for r in receipts)
    assert h.standin.times_received(action.aktion_id) == 2
    assert len(h.standin.actions_received()) == 2


def test_a_call_that_never_arrived_is_retried(make: Factory) -> None:
    h = make(StandInRules(settle_share=1.0, fail_calls=1, fail_after_effect=False))
    action = opret("L-17")
    if h.kind == "files":
        pytest.skip("a file written is a file received; the lost answer above covers files")
    with pytest.raises(PsrmUnavailable):
        h.submit([action])
    assert h.standin.times_received(action.aktion_id) == 0
    h.submit([action])
    assert [r.status for r in h.receipts()] == [KvitteringStatus.UDFOERT]
