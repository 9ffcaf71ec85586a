"""After the hand-over: PSRM's receipts and settlements land on the right claims, changes in the
library and local payments follow the claim to PSRM, nothing is handed over or sent twice, and
library, debtor and collection agree to the øre after every test (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fbs_debitor.collection.adapters.psrm.standin_rules import StandInRules
from fbs_debitor.collection.service.handover import release, run_handover
from fbs_debitor.collection.store.tables import actions, claims
from fbs_debitor.contracts.payment import PaymentReceived
from fbs_debitor.contracts.sending import send
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.db import Database
from fbs_debitor.core.money import Money
from fbs_debitor.debtor import views
from fbs_debitor.debtor.service.agreements import account_for
from fbs_debitor.debtor.service.credit import available_credit
from fbs_debitor.debtor.store.tables import claims as debtor_claims
from fbs_debitor.debtor.store.tables import invoices
from fbs_debitor.library.service import accounts
from fbs_debitor.messaging.store import outbox
from tests.integration.collection_support import SRB, Chain, K, chain_system

HAND_OVER_DAY = SRB + timedelta(days=120)  # 14 July 2026
OTHER_CPR = "2110625629"


def ready(chain: Chain, n: int = 1, cpr: str | None = None) -> list[str]:
    """``n`` fees of 125 kr, reminded twice; the clock on the hand-over day."""
    patron = chain.patron(cpr) if cpr else chain.patron()
    made = [chain.fee(patron) for _ in range(n)]
    chain.day(SRB + timedelta(days=14))
    chain.day(SRB + timedelta(days=34))
    chain.clock.set_date(HAND_OVER_DAY)
    return made


def count(db: Database, table: object, *where: object) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())  # type: ignore[arg-type]


@pytest.fixture
def chain(database: Database, clock: SettableClock, tmp_path: Path) -> Chain:
    return Chain(chain_system(database, clock), tmp_path)


def rules_chain(
    database: Database, clock: SettableClock, tmp_path: Path, rules: StandInRules
) -> Chain:
    return Chain(chain_system(database, clock, rules), tmp_path)


def test_a_repeated_run_and_a_late_receipt_hand_over_once(chain: Chain) -> None:
    (claim,) = ready(chain)
    assert chain.handover(HAND_OVER_DAY).claim_ids == [claim]
    # no receipt read yet (it is late): the next days' runs do not send it again
    for n in (0, 1, 2):
        again = chain.handover(HAND_OVER_DAY + timedelta(days=n))
        assert again.handed_over == 0
        assert dict(again.not_eligible) == {}  # handed-over claims are no longer open in debtor
    assert chain.collection_rows() == 1
    assert [a.aktion.value for a in chain.psrm.actions_received()] == ["OPRETFORDRING"]
    result = chain.sync()
    assert (result.done, result.rejected) == (1, 0)
    assert chain.held(claim).psrm_claim_id
    assert chain.held(claim).state.value == "done"
    assert chain.sync().receipts == 0  # read again: nothing new
    chain.agreed()


def test_psrm_not_answering_is_retried_and_sends_once(
    database: Database, clock: SettableClock, tmp_path: Path
) -> None:
    # the first submits time out after PSRM took the action (only the answer is lost): the
    # worker's batch, then the message alone; it waits for its backoff and goes again
    chain = rules_chain(database, clock, tmp_path, StandInRules(fail_calls=2))
    (claim,) = ready(chain)
    chain.handover(HAND_OVER_DAY)
    assert chain.actions(claim)[0][3] == "queued"
    chain.clock.advance(timedelta(minutes=30))  # past any backoff
    chain.system.drain()
    with database.connect() as conn:
        attempts = conn.execute(
            select(outbox.c.attempts, outbox.c.status).where(
                outbox.c.message_type == "collection.PsrmActionQueued.v1"
            )
        ).one()
    assert attempts.attempts >= 1 and attempts.status == "sent"  # retried after the timeout
    assert chain.actions(claim)[0][3] == "sent"
    (action,) = chain.psrm.actions_received()  # one action in PSRM ...
    assert chain.psrm.times_received(action.aktion_id) == 3  # ... that arrived three times
    chain.sync()
    assert chain.held(claim).state.value == "done"
    assert chain.psrm.claim(claim, K) is not None
    chain.agreed()


def test_a_rejection_returns_the_claim_and_a_person_resubmits_it(
    database: Database, clock: SettableClock, tmp_path: Path
) -> None:
    chain = rules_chain(
        database, clock, tmp_path, StandInRules(unknown_debtors=frozenset({OTHER_CPR}))
    )
    (claim,) = ready(chain, cpr=OTHER_CPR)
    chain.handover(HAND_OVER_DAY)
    assert chain.sync().rejected == 1
    held = chain.held(claim)
    assert held.state.value == "returned" and held.return_code
    assert chain.status(claim) == "open"  # the municipality's again
    with chain.system.db.connect() as conn:
        fee = accounts.get_fee(conn, K, int(claim))
    assert "Gældsstyrelsen" not in fee.reason_message
    assert chain.reasons(HAND_OVER_DAY + timedelta(days=1)) == {"returned-by-psrm": 1}
    chain.agreed()
    with chain.system.db.begin() as conn:
        release(conn, chain.clock, K, claim, reason="CPR rettet")
    assert chain.handover(HAND_OVER_DAY + timedelta(days=2)).claim_ids == [claim]
    creates = [a for a in chain.actions(claim) if a[0] == "OPRETFORDRING"]
    assert len(creates) == 2
    chain.agreed()


def test_a_hearing_waits_then_is_done(
    database: Database, clock: SettableClock, tmp_path: Path
) -> None:
    chain = rules_chain(
        database,
        clock,
        tmp_path,
        StandInRules(hearing_claim_types=frozenset({"BIBLIOTEK"}), hearing_days=10),
    )
    (claim,) = ready(chain)
    chain.handover(HAND_OVER_DAY)
    assert chain.sync().hearings == 1
    assert chain.held(claim).state.value == "hearing"
    chain.agreed()
    chain.clock.set_date(HAND_OVER_DAY + timedelta(days=11))
    assert chain.sync().done == 1
    assert chain.held(claim).state.value == "done"
    chain.agreed()


def test_the_monthly_settlement_pays_the_right_claim_in_debtor_and_the_library(
    database: Database, clock: SettableClock, tmp_path: Path
) -> None:
    chain = rules_chain(database, clock, tmp_path, StandInRules(settle_share=1.0))
    paid, other = ready(chain, 2)
    chain.handover(HAND_OVER_DAY)
    chain.sync()
    # July ends on Friday 31 July, a bank day: the settlement is paid then, seen in August
    chain.clock.set_date(date(2026, 7, 31))
    assert chain.sync().settlements == 0
    chain.clock.set_date(date(2026, 8, 3))
    result = chain.sync()
    assert result.settlements == 2
    assert result.settled_ore == 2 * 22500
    for claim in (paid, other):
        assert chain.status(claim) == "paid"
        assert chain.library_open(claim) == 0
    with chain.system.db.connect() as conn:
        assert views.collection_balances(conn, K)[paid] == (0, 22500)
    chain.agreed()
    assert chain.sync().settlements == 0  # read again: paid once


def test_regulation_in_the_library_follows_the_claim_to_psrm(chain: Chain) -> None:
    down, cancelled = ready(chain, 2)
    chain.handover(HAND_OVER_DAY)
    chain.sync()
    chain.clock.set_date(HAND_OVER_DAY + timedelta(days=3))
    with chain.system.db.begin() as conn:
        accounts.write_down(conn, chain.clock, K, int(down), Money(5000), "forkert takst")
    chain.system.drain()
    with chain.system.db.begin() as conn:
        accounts.cancel_fee(conn, chain.clock, K, int(cancelled), "materialet er fundet")
    chain.system.drain()
    assert [a[:3] for a in chain.actions(down)][1:] == [("NEDSKRIV", "FEJL", -5000)]
    assert [a[:3] for a in chain.actions(cancelled)][1:] == [("TILBAGEKALD", "FEJL", -22500)]
    assert chain.held(cancelled).state.value == "recalled"
    assert chain.library_open(down) == 7500
    chain.sync()
    assert chain.psrm.claim(down, K).balance_ore == 22500 - 5000  # type: ignore[union-attr]
    chain.agreed()


def test_a_local_payment_after_hand_over_is_reported_with_indb(chain: Chain) -> None:
    (claim,) = ready(chain)
    chain.handover(HAND_OVER_DAY)
    chain.sync()
    with chain.system.db.connect() as conn:
        payment_id = conn.execute(
            select(invoices.c.payment_id)
            .select_from(invoices.join(debtor_claims, debtor_claims.c.invoice_id == invoices.c.id))
            .where(debtor_claims.c.claim_id == claim)
        ).scalar_one()
    paid_on = HAND_OVER_DAY + timedelta(days=5)
    chain.clock.set_date(paid_on + timedelta(days=1))
    with chain.system.db.begin() as conn:
        send(
            conn,
            PaymentReceived(
                municipality=K,
                occurred_at=chain.clock.now(),
                payment_ref="bank:LATE-1",
                channel="bank",
                booked_on=paid_on,
                amount_ore=10000,
                payment_id=payment_id,
            ),
            source="payments",
        )
    chain.system.drain()
    report = chain.actions(claim)[1]
    assert report[:3] == ("NEDSKRIV", "INDB", -10000)
    chain.agreed()


def test_a_recall_after_psrm_collected_never_loses_the_money(
    database: Database, clock: SettableClock, tmp_path: Path
) -> None:
    chain = rules_chain(database, clock, tmp_path, StandInRules(settle_share=1.0))
    (claim,) = ready(chain)
    chain.handover(HAND_OVER_DAY)
    chain.sync()
    chain.clock.set_date(date(2026, 8, 3))
    chain.psrm.notifications(K, None)  # PSRM settles July (collected before the recall) ...
    with chain.system.db.begin() as conn:  # ... and the library cancels the fee before we read it
        accounts.cancel_fee(conn, chain.clock, K, int(claim), "fejlagtigt oprettet")
    chain.system.drain()
    assert chain.actions(claim)[-1][:2] == ("TILBAGEKALD", "FEJL")
    result = chain.sync()
    assert result.settled_ore == 22500
    with chain.system.db.connect() as conn:
        credit = available_credit(conn, K, account_for(conn, K, "0101801234"))
    assert credit == 22500  # kept for the debtor: refundable, never lost
    chain.agreed()


def test_two_racing_runs_on_postgresql_hand_each_claim_over_once(
    postgres_database: Database, clock: SettableClock, tmp_path: Path
) -> None:
    chain = Chain(chain_system(postgres_database, clock), tmp_path)
    made = ready(chain, 12)
    wiring = chain.system.collection
    assert wiring is not None
    results: list[int] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        with postgres_database.begin() as conn:
            results.append(
                run_handover(conn, chain.clock, HAND_OVER_DAY, K, wiring.facts).handed_over
            )

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results)[-1] + sorted(results)[0] == 12
    assert count(postgres_database, claims) == 12
    assert count(postgres_database, actions) == 12
    assert (
        count(
            postgres_database,
            outbox,
            outbox.c.message_type == "collection.ClaimHandedOver.v1",
        )
        == 12
    )
    chain.system.drain()
    assert len(chain.psrm.actions_received()) == 12
    assert sorted(chain.status(c) for c in made) == ["handed_over"] * 12
    chain.agreed()


def test_serve_runs_the_hand_over_and_the_exchange_on_its_schedule(chain: Chain) -> None:
    (claim,) = ready(chain)
    jobs = {name: (interval, job) for name, interval, job in chain.system.scheduled}
    assert jobs["psrm-handover"][0] == 3600.0 and jobs["psrm-sync"][0] == 300.0
    results = jobs["psrm-handover"][1]()  # today: the hand-over day
    assert [r.claim_ids for r in results] == [[claim]]  # type: ignore[attr-defined]
    assert jobs["psrm-handover"][1]()[0].handed_over == 0  # type: ignore[index]
    chain.system.drain()
    synced = jobs["psrm-sync"][1]()
    assert synced.done == 1  # type: ignore[attr-defined]
    assert chain.held(claim).state.value == "done"
    chain.agreed()
