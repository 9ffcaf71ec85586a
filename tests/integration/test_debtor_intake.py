"""Leg 1 at the debtor side: registration messages from the library, through the worker, on
SQLite and PostgreSQL. The library context is driven through its contracts only.

Every test ends with the ledger guard: no claim may disagree with its postings.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, update

from fbs_debitor.bootstrap import System
from fbs_debitor.contracts.registration import (
    ClaimCancelled,
    ClaimDebtorChanged,
    ClaimMessage,
    ClaimRegistered,
    ClaimWrittenDown,
    ClaimWrittenUp,
    DebtorRef,
    Material,
    RegistrationAccepted,
    RegistrationRejected,
)
from fbs_debitor.contracts.sending import send
from fbs_debitor.debtor import views
from fbs_debitor.debtor.service import municipalities
from fbs_debitor.debtor.store.tables import accounts, claims, events, postings, rejections
from fbs_debitor.messaging.store import outbox
from fbs_debitor.tenants.service import municipalities as tenants
from tests.factories import claim_registered, debtor_ref

CPR = "0101801234"
CPR_FAILING_MOD11 = "1501729995"
OTHER_CPR = "2110625629"
CVR = "13585628"


@pytest.fixture
def debtor(system: System) -> System:
    """The system with municipality 101 set up; checks the ledger when the test ends."""
    with system.db.begin() as conn:
        tenants.create_municipality(
            conn,
            system.clock,
            kommunekode="101",
            name="København",
            agency_id="710100",
            creditor_number="89123456",
        )
    system.drain()
    return system  # the ledger guard runs after the test (tests/integration/conftest.py)


def registered(
    claim_id: str = "fee-1",
    *,
    debtor: str = CPR,
    id_type: str = "cpr",
    amount_ore: int = 12500,
    kind: str = "fee",
    system: System,
) -> ClaimRegistered:
    return claim_registered(
        claim_id,
        occurred_at=system.clock.now(),
        patron_id="patron-7",
        debtor=debtor_ref(debtor, id_type),
        claim_kind=kind,
        debtor_classification="BIB-GEBYR",
        amount_ore=amount_ore,
        materials=[Material(item_number="3274638823", title="Kaninen der ...")],
        invoice_text="Gebyr for for sen aflevering",
    )


def publish(system: System, message: ClaimMessage, sequence: int) -> str:
    with system.db.begin() as conn:
        return send(conn, message, source="library", sequence=sequence, leg="leg1")


def deliver(system: System, *messages: ClaimMessage) -> list[str]:
    """Publish ``messages`` in order (sequence 1, 2, ... per claim) and drain."""
    sequences: dict[str, int] = {}
    ids = []
    for message in messages:
        sequences[message.claim_id] = sequences.get(message.claim_id, 0) + 1
        ids.append(publish(system, message, sequences[message.claim_id]))
    system.drain()
    return ids


def answers(system: System) -> list[tuple[str, dict[str, Any]]]:
    """Every answer debtor sent, in order: (message type, payload)."""
    with system.db.connect() as conn:
        rows = conn.execute(
            select(outbox.c.message_type, outbox.c.payload)
            .where(outbox.c.source == "debtor")
            .order_by(outbox.c.id)
        )
        return [(t, json.loads(p)) for t, p in rows]


def answer_to(system: System, message_id: str) -> tuple[str, dict[str, Any]]:
    for message_type, payload in answers(system):
        if message_id in (payload.get("accepted_message_id"), payload.get("rejected_message_id")):
            return message_type, payload
    raise AssertionError(f"no answer to {message_id}")


def claim(system: System, claim_id: str = "fee-1") -> dict[str, Any]:
    with system.db.connect() as conn:
        return views.get_claim(conn, "101", claim_id)


def snapshot(system: System) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the debtor tables except rejections, for 'nothing changed' checks."""
    with system.db.connect() as conn:
        return {
            t.name: sorted(tuple(r) for r in conn.execute(select(t)))
            for t in (accounts, claims, postings, events)
        }


def rejection_count(system: System) -> int:
    with system.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(rejections)).scalar_one())


def test_registration_creates_account_claim_and_charge(debtor: System) -> None:
    (mid,) = deliver(debtor, registered(system=debtor))
    view = claim(debtor)
    assert view["status"] == "open"
    assert view["balance_ore"] == 12500
    assert view["debtor"] == "010180-XXXX"
    assert view["claim_kind"] == "fee" and view["legal_basis"] == "public"
    assert view["materials"][0]["item_number"] == "3274638823"
    assert view["last_applied_sequence"] == 1
    assert isinstance(view["leg1_ms"], int) and view["leg1_ms"] >= 0
    assert [(p["kind"], p["amount_ore"]) for p in view["postings"]] == [("charge", 12500)]
    assert view["postings"][0]["message_id"] == mid
    assert view["postings"][0]["effective_on"] == date(2026, 3, 1)
    message_type, payload = answer_to(debtor, mid)
    assert message_type == RegistrationAccepted.MESSAGE_TYPE
    assert payload["debtor_balance_ore"] == 12500
    assert payload["accepted_type"] == ClaimRegistered.MESSAGE_TYPE
    with debtor.db.connect() as conn:
        assert views.claim_balances(conn, "101") == {"fee-1": 12500}
        assert municipalities.get_config(conn, "101") is not None


def test_second_claim_of_the_same_debtor_reuses_the_account(debtor: System) -> None:
    deliver(debtor, registered("fee-1", system=debtor), registered("fee-2", system=debtor))
    deliver(debtor, registered("fee-3", debtor=CVR, id_type="cvr", system=debtor))
    with debtor.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(accounts)).scalar_one() == 2
        view = views.account_view(conn, "101", CPR)
    assert [c["claim_id"] for c in view["claims"]] == ["fee-1", "fee-2"]
    assert view["balance_ore"] == 25000


def test_regulations_post_to_the_ore(debtor: System) -> None:
    reg = registered(amount_ore=12550, system=debtor)
    now = debtor.clock.now()
    down = ClaimWrittenDown(
        municipality="101", occurred_at=now, claim_id="fee-1", amount_ore=2501, reason="rabat"
    )
    up = ClaimWrittenUp(municipality="101", occurred_at=now, claim_id="fee-1", amount_ore=1)
    ids = deliver(debtor, reg, down, up)
    view = claim(debtor)
    assert [(p["kind"], p["amount_ore"]) for p in view["postings"]] == [
        ("charge", 12550),
        ("write_down", -2501),
        ("write_up", 1),
    ]
    assert view["postings"][1]["note"] == "rabat"
    assert view["balance_ore"] == 10050
    assert view["last_applied_sequence"] == 3
    assert [answer_to(debtor, i)[1]["debtor_balance_ore"] for i in ids] == [12550, 10049, 10050]

    cancel = ClaimCancelled(municipality="101", occurred_at=now, claim_id="fee-1", reason="fundet")
    (cancel_id,) = [publish(debtor, cancel, 4)]
    debtor.drain()
    view = claim(debtor)
    assert view["status"] == "cancelled"
    assert view["balance_ore"] == 0
    assert view["postings"][-1]["kind"] == "cancellation"
    assert view["postings"][-1]["amount_ore"] == -10050
    assert [e["kind"] for e in view["events"]] == ["registered", "cancelled"]
    assert answer_to(debtor, cancel_id)[1]["debtor_balance_ore"] == 0


def test_write_down_to_exactly_zero_is_allowed(debtor: System) -> None:
    now = debtor.clock.now()
    deliver(
        debtor,
        registered(amount_ore=5000, system=debtor),
        ClaimWrittenDown(municipality="101", occurred_at=now, claim_id="fee-1", amount_ore=5000),
    )
    assert claim(debtor)["balance_ore"] == 0
    # a claim whose amount went to zero ends like a cancelled one (decision 0016), rather than
    # staying open with nothing owed
    assert claim(debtor)["status"] == "cancelled"


def refused(system: System, message: ClaimMessage, sequence: int) -> dict[str, Any]:
    """Deliver one message that must be refused; assert nothing changed; return the answer."""
    before = snapshot(system)
    rejected_before = rejection_count(system)
    mid = publish(system, message, sequence)
    system.drain()
    assert snapshot(system) == before
    assert rejection_count(system) == rejected_before + 1
    message_type, payload = answer_to(system, mid)
    assert message_type == RegistrationRejected.MESSAGE_TYPE
    assert payload["rejected_type"] == message.MESSAGE_TYPE
    assert payload["reason"]
    return payload


def test_write_down_below_zero_is_refused_and_changes_nothing(debtor: System) -> None:
    deliver(debtor, registered(amount_ore=5000, system=debtor))
    now = debtor.clock.now()
    down = ClaimWrittenDown(municipality="101", occurred_at=now, claim_id="fee-1", amount_ore=5001)
    answer = refused(debtor, down, 2)
    assert answer["code"] == "write-down-below-zero"
    assert "below zero" in answer["reason"]
    assert claim(debtor)["balance_ore"] == 5000
    with debtor.db.connect() as conn:
        (rejection,) = views.list_rejections(conn, "101", "fee-1")
    assert rejection["code"] == "write-down-below-zero"


@pytest.mark.parametrize(
    ("message_factory", "code"),
    [
        (
            lambda s: ClaimWrittenDown(
                municipality="101", occurred_at=s.clock.now(), claim_id="nope", amount_ore=100
            ),
            "unknown-claim",
        ),
        (
            lambda s: ClaimCancelled(
                municipality="101", occurred_at=s.clock.now(), claim_id="nope"
            ),
            "unknown-claim",
        ),
        (lambda s: registered("fee-9", kind="parking", system=s), "unknown-claim-kind"),
        (lambda s: registered("fee-9", debtor="3213451234", system=s), "invalid-cpr"),
        (lambda s: registered("fee-9", debtor="13585629", id_type="cvr", system=s), "invalid-cvr"),
        (lambda s: registered("fee-9", amount_ore=-100, system=s), "amount-not-positive"),
        (lambda s: registered("fee-9", amount_ore=0, system=s), "amount-not-positive"),
        (lambda s: registered("fee-1", system=s), "claim-exists"),
        (
            lambda s: ClaimWrittenUp(
                municipality="101", occurred_at=s.clock.now(), claim_id="fee-1", amount_ore=-5
            ),
            "amount-not-positive",
        ),
    ],
)
def test_invalid_messages_are_refused(debtor: System, message_factory: Any, code: str) -> None:
    deliver(debtor, registered("fee-1", system=debtor))
    message = message_factory(debtor)
    sequence = 2 if message.claim_id == "fee-1" else 1
    assert refused(debtor, message, sequence)["code"] == code


def test_cpr_failing_modulus_11_is_accepted(debtor: System) -> None:
    (mid,) = deliver(debtor, registered(debtor=CPR_FAILING_MOD11, system=debtor))
    assert answer_to(debtor, mid)[0] == RegistrationAccepted.MESSAGE_TYPE
    assert claim(debtor)["debtor"] == "150172-XXXX"


def test_a_corrected_registration_after_a_refused_one_is_accepted(debtor: System) -> None:
    bad = registered(debtor="3213451234", system=debtor)
    assert refused(debtor, bad, 1)["code"] == "invalid-cpr"
    mid = publish(debtor, registered(system=debtor), 2)
    debtor.drain()
    assert answer_to(debtor, mid)[0] == RegistrationAccepted.MESSAGE_TYPE
    assert claim(debtor)["last_applied_sequence"] == 2


def test_anything_on_a_cancelled_claim_is_refused(debtor: System) -> None:
    now = debtor.clock.now()
    deliver(
        debtor,
        registered(system=debtor),
        ClaimCancelled(municipality="101", occurred_at=now, claim_id="fee-1"),
    )
    up = ClaimWrittenUp(municipality="101", occurred_at=now, claim_id="fee-1", amount_ore=100)
    assert refused(debtor, up, 3)["code"] == "claim-cancelled"
    again = ClaimCancelled(municipality="101", occurred_at=now, claim_id="fee-1")
    assert refused(debtor, again, 4)["code"] == "claim-cancelled"
    move = ClaimDebtorChanged(
        municipality="101",
        occurred_at=now,
        claim_id="fee-1",
        debtor=DebtorRef(id_type="cpr", id=OTHER_CPR),
    )
    assert refused(debtor, move, 5)["code"] == "claim-cancelled"


def test_debtor_change_moves_the_claim(debtor: System) -> None:
    now = debtor.clock.now()
    deliver(debtor, registered("fee-1", system=debtor), registered("fee-2", system=debtor))
    move = ClaimDebtorChanged(
        municipality="101",
        occurred_at=now,
        claim_id="fee-1",
        debtor=DebtorRef(id_type="cpr", id=OTHER_CPR),
        reason="værge",
    )
    (mid,) = [publish(debtor, move, 2)]
    debtor.drain()
    assert answer_to(debtor, mid)[1]["debtor_balance_ore"] == 12500
    view = claim(debtor)
    assert view["debtor"] == "211062-XXXX"
    changed = view["events"][-1]
    assert changed["kind"] == "debtor_changed"
    assert changed["detail"] == {
        "old_debtor": "010180-XXXX",
        "new_debtor": "211062-XXXX",
        "reason": "værge",
    }
    with debtor.db.connect() as conn:
        assert [c["claim_id"] for c in views.account_view(conn, "101", CPR)["claims"]] == ["fee-2"]
        assert [c["claim_id"] for c in views.account_view(conn, "101", OTHER_CPR)["claims"]] == [
            "fee-1"
        ]
    # to a debtor whose number is invalid: refused
    bad = ClaimDebtorChanged(
        municipality="101",
        occurred_at=now,
        claim_id="fee-1",
        debtor=DebtorRef(id_type="cpr", id="3213451234"),
    )
    assert refused(debtor, bad, 3)["code"] == "invalid-cpr"


def test_a_redelivered_message_changes_nothing(debtor: System) -> None:
    now = debtor.clock.now()
    deliver(
        debtor,
        registered(system=debtor),
        ClaimWrittenDown(municipality="101", occurred_at=now, claim_id="fee-1", amount_ore=100),
        registered("fee-2", debtor="3213451234", system=debtor),
    )
    before = snapshot(debtor)
    answers_before = answers(debtor)
    rejected_before = rejection_count(debtor)
    with debtor.db.begin() as conn:
        conn.execute(
            update(outbox)
            .where(outbox.c.source == "library")
            .values(status="pending", sent_at=None)
        )
    debtor.drain()
    assert snapshot(debtor) == before
    assert answers(debtor) == answers_before
    assert rejection_count(debtor) == rejected_before


def test_reordered_messages_end_in_the_same_state(debtor: System) -> None:
    now = debtor.clock.now()

    def story(claim_id: str) -> list[ClaimMessage]:
        return [
            registered(claim_id, system=debtor),
            ClaimWrittenDown(municipality="101", occurred_at=now, claim_id=claim_id, amount_ore=99),
            ClaimWrittenUp(municipality="101", occurred_at=now, claim_id=claim_id, amount_ore=7),
        ]

    deliver(debtor, *story("in-order"))
    reversed_story = story("reversed")
    for sequence in (3, 2, 1):
        publish(debtor, reversed_story[sequence - 1], sequence)
    debtor.drain()

    def shape(view: dict[str, Any]) -> tuple[Any, ...]:
        return (
            view["status"],
            view["balance_ore"],
            view["last_applied_sequence"],
            [(p["kind"], p["amount_ore"]) for p in view["postings"]],
        )

    assert shape(claim(debtor, "reversed")) == shape(claim(debtor, "in-order"))
    assert claim(debtor, "reversed")["balance_ore"] == 12500 - 99 + 7


def test_an_unreadable_payload_is_refused_not_retried(debtor: System) -> None:
    from fbs_debitor.messaging.outbox import publish as raw_publish

    with debtor.db.begin() as conn:
        mid = raw_publish(
            conn,
            message_type=ClaimWrittenDown.MESSAGE_TYPE,
            source="library",
            municipality="101",
            payload={"municipality": "101", "claim_id": "fee-1", "amount_ore": "lots"},
            occurred_at=debtor.clock.now(),
            ordering_key="claim:101:fee-1",
            sequence=1,
        )
    debtor.drain()
    message_type, payload = answer_to(debtor, mid)
    assert message_type == RegistrationRejected.MESSAGE_TYPE
    assert payload["code"] == "invalid-message"
    assert "amount_ore" in payload["reason"]
    with debtor.db.connect() as conn:
        status = conn.execute(
            select(outbox.c.status).where(outbox.c.message_id == mid)
        ).scalar_one()
    assert status == "sent"


def test_municipality_configured_is_kept_and_updated(debtor: System) -> None:
    with debtor.db.begin() as conn:
        tenants.set_cutoff_date(conn, debtor.clock, "101", date(2026, 1, 1))
    debtor.drain()
    with debtor.db.connect() as conn:
        config = municipalities.get_config(conn, "101")
    assert config is not None
    assert config["creditor_number"] == "89123456"
    assert config["debtor_vendor"] == "built-in"
    assert config["name"] == "København"


def test_account_view_masks_the_cpr(debtor: System) -> None:
    deliver(debtor, registered(system=debtor))
    with debtor.db.connect() as conn:
        view = views.account_view(conn, "101", "010180-1234")
    assert view["debtor"] == "010180-XXXX"
    assert view["id_type"] == "cpr"
    assert CPR not in json.dumps(view, default=str)
    assert view["claims"][0]["postings"][0]["kind"] == "charge"


def test_views_are_per_municipality(debtor: System) -> None:
    from fbs_debitor.core.errors import NotFoundError

    deliver(debtor, registered(system=debtor))
    with debtor.db.connect() as conn:
        with pytest.raises(NotFoundError):
            views.get_claim(conn, "461", "fee-1")
        with pytest.raises(NotFoundError):
            views.account_view(conn, "461", CPR)
        assert views.claim_balances(conn, "461") == {}


def test_debtor_change_to_the_same_debtor_moves_nothing(debtor: System) -> None:
    now = debtor.clock.now()
    same = ClaimDebtorChanged(
        municipality="101",
        occurred_at=now,
        claim_id="fee-1",
        debtor=DebtorRef(id_type="cpr", id=CPR),
    )
    ids = deliver(debtor, registered(system=debtor), same)
    assert answer_to(debtor, ids[1])[0] == RegistrationAccepted.MESSAGE_TYPE
    view = claim(debtor)
    assert [e["kind"] for e in view["events"]] == ["registered"]
    assert view["last_applied_sequence"] == 2


def test_cprs_in_the_librarys_reasons_are_masked(debtor: System) -> None:
    now = debtor.clock.now()
    deliver(
        debtor,
        registered(system=debtor),
        ClaimWrittenDown(
            municipality="101",
            occurred_at=now,
            claim_id="fee-1",
            amount_ore=100,
            reason=f"aftalt med {OTHER_CPR}",
        ),
    )
    assert claim(debtor)["postings"][-1]["note"] == "aftalt med 211062-XXXX"
