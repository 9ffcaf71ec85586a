"""A claim goes to PSRM on the first day every condition holds, and not a day before: one test
per condition, through the whole chain (library fee, debtor invoice and reminders, letters, the
hand-over run), on SQLite and PostgreSQL, with the clock moving day by day.

The calendar (default rules: pay within 14 days, a free reminder 14 days after the deadline, one
with 100 kr that announces hand-over 34 days after it, hand-over 120 days after it): the fee is
made on Monday 2 March 2026, its invoice's last timely payment date is 16 March; the reminders go
out on 30 March and 19 April (each asks for payment within 10 days); hand-over from 14 July.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from fbs_debitor.bootstrap import System
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.db import Database
from fbs_debitor.core.money import Money
from fbs_debitor.debtor.service.agreements import mark_deceased, set_payment_agreement
from fbs_debitor.library.service import accounts
from tests.integration.collection_support import CPR, SRB, Chain, K, chain_system, days

REMINDER_1 = SRB + timedelta(days=14)  # 30 March
REMINDER_2 = SRB + timedelta(days=34)  # 19 April, announces hand-over
HAND_OVER_DAY = SRB + timedelta(days=120)  # 14 July
SHORT = {"collection_days_after_deadline": 35}
"""Hand-over allowed from the day after the last reminder: the reminder's own deadline binds."""


@pytest.fixture
def system(database: Database, clock: SettableClock) -> System:
    return chain_system(database, clock)


def reminded(chain: Chain, *, letters: bool = True) -> None:
    chain.day(REMINDER_1)
    chain.day(REMINDER_2, letters=letters)


def test_the_municipalitys_days_after_the_deadline(system: System, tmp_path: Path) -> None:
    chain = Chain(system, tmp_path)
    claim = chain.fee(chain.patron())
    reminded(chain)
    assert chain.reasons(HAND_OVER_DAY - timedelta(days=1)) == {"hand-over-day-not-reached": 1}
    assert chain.first_hand_over(claim, days(date(2026, 7, 10), date(2026, 7, 16))) == date(
        2026, 7, 14
    )
    assert chain.status(claim) == "handed_over"
    assert chain.actions(claim)[0][:3] == ("OPRETFORDRING", None, 12500 + 10000)
    chain.agreed()


def test_the_last_reminders_deadline(system: System, tmp_path: Path) -> None:
    chain = Chain(system, tmp_path, rules=SHORT)
    claim = chain.fee(chain.patron())
    reminded(chain)
    # the second reminder (19 April) asks for payment within 10 days: by Wednesday 29 April
    deadline = REMINDER_2 + timedelta(days=10)
    assert chain.reasons(deadline) == {"reminders-not-complete": 1}
    first = chain.first_hand_over(claim, days(SRB + timedelta(days=35), date(2026, 5, 3)))
    assert first == deadline + timedelta(days=1)
    chain.agreed()


def test_every_step_of_the_procedure_before_hand_over(system: System, tmp_path: Path) -> None:
    chain = Chain(system, tmp_path, rules=SHORT)
    claim = chain.fee(chain.patron())
    chain.day(REMINDER_1)  # the second reminder never goes out
    assert chain.first_hand_over(claim, days(date(2026, 4, 20), date(2026, 5, 5))) is None
    assert chain.reasons(date(2026, 5, 5)) == {"reminders-not-complete": 1}


def test_the_debtor_told_in_writing(system: System, tmp_path: Path) -> None:
    chain = Chain(system, tmp_path, rules=SHORT)
    claim = chain.fee(chain.patron())
    reminded(chain, letters=False)  # the announcing letter waits (no address, say)
    for on in days(date(2026, 4, 30), date(2026, 5, 4)):
        assert chain.handover(on).claim_ids == []
    assert chain.reasons(date(2026, 5, 4)) == {"not-announced": 1}
    chain.clock.set_date(date(2026, 5, 5))
    assert chain.deliver() >= 1
    assert chain.first_hand_over(claim, days(date(2026, 5, 5), date(2026, 5, 8))) == date(
        2026, 5, 6
    )
    chain.agreed()


def test_the_municipalitys_minimum(system: System, tmp_path: Path) -> None:
    chain = Chain(system, tmp_path, rules={"collection_min_ore": 30000})
    claim = chain.fee(chain.patron())  # 125 kr + the 100 kr reminder fee = 225 kr
    reminded(chain)
    assert chain.first_hand_over(claim, days(HAND_OVER_DAY, date(2026, 7, 19))) is None
    assert chain.reasons(date(2026, 7, 19)) == {"below-minimum": 1}
    chain.clock.set_date(date(2026, 7, 20))
    with system.db.begin() as conn:
        accounts.write_up(conn, chain.clock, K, int(claim), Money(7500), "forkert beløb")
    system.drain()  # 300 kr now
    assert chain.first_hand_over(claim, [date(2026, 7, 20)]) == date(2026, 7, 20)
    chain.agreed()


def test_an_unmapped_claim_type(system: System, tmp_path: Path) -> None:
    chain = Chain(system, tmp_path, claim_types={"fee": "-"})
    claim = chain.fee(chain.patron())
    reminded(chain)
    assert chain.first_hand_over(claim, days(HAND_OVER_DAY, date(2026, 7, 16))) is None
    assert chain.reasons(date(2026, 7, 16)) == {"claim-type-unmapped": 1}


def test_a_replacement_charge_only_when_acknowledged(system: System, tmp_path: Path) -> None:
    chain = Chain(system, tmp_path)
    patron = chain.patron()
    signed = chain.fee(patron, 40000, kind="compensation", acknowledged=True)
    unsigned = chain.fee(patron, 30000, kind="compensation")
    reminded(chain)
    result = chain.handover(HAND_OVER_DAY)
    assert result.claim_ids == [signed]
    assert dict(result.not_eligible) == {"unacknowledged": 1}
    assert [(c, r.value) for c, r in result.waiting] == [(unsigned, "unacknowledged")]
    assert chain.status(unsigned) == "open"
    chain.agreed()


def test_a_payment_agreement(system: System, tmp_path: Path) -> None:
    chain = Chain(system, tmp_path)
    claim = chain.fee(chain.patron())
    reminded(chain)
    with system.db.begin() as conn:
        set_payment_agreement(conn, chain.clock, K, CPR, until=date(2026, 7, 20), note="afdrag")
    first = chain.first_hand_over(claim, days(HAND_OVER_DAY, date(2026, 7, 23)))
    assert first == date(2026, 7, 21)
    chain.agreed()


def test_a_time_barred_claim(system: System, tmp_path: Path) -> None:
    # the library's due date three years back: time-barred from 20 July 2026 (forældelsesloven
    # § 3, counted from the claim's own due date); the municipality writes nothing off itself
    chain = Chain(system, tmp_path, rules={"write_off_limitation": False}, cutoff=date(2023, 1, 1))
    claim = chain.fee(chain.patron(), created_on=date(2023, 7, 6), due_date=date(2023, 7, 20))
    reminded(chain)
    assert chain.reasons(date(2026, 7, 19)) == {}
    assert chain.handover(date(2026, 7, 20)).claim_ids == []
    assert chain.reasons(date(2026, 7, 20)) == {"time-barred": 1}
    assert chain.status(claim) == "open"


def test_a_deceased_debtor(system: System, tmp_path: Path) -> None:
    chain = Chain(system, tmp_path)
    claim = chain.fee(chain.patron())
    reminded(chain)
    chain.clock.set_date(HAND_OVER_DAY)
    with system.db.begin() as conn:
        mark_deceased(conn, chain.clock, K, CPR, on=date(2026, 7, 1))
    assert chain.reasons(HAND_OVER_DAY) == {"debtor-deceased": 1}
    assert chain.handover(HAND_OVER_DAY).claim_ids == []
    assert chain.status(claim) == "open"


def test_a_minor_without_a_guardian_is_never_evaluated(system: System, tmp_path: Path) -> None:
    chain = Chain(system, tmp_path)
    claim = chain.fee(chain.patron("0101154321"))  # born 2015: the claim waits for a guardian
    reminded(chain)
    result = chain.handover(HAND_OVER_DAY)
    assert (result.evaluated, result.claim_ids) == (0, [])
    assert chain.status(claim) == "held"
