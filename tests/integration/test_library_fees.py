"""Library fees: old or new by the cutoff, what is sent to debtor, holding of unmapped kinds,
regulation with its messages and sequence numbers, bad input, the patron block, bulk creation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from fbs_debitor.bootstrap import System
from fbs_debitor.core.errors import ConflictError, NotFoundError, ValidationError
from fbs_debitor.core.money import Money
from fbs_debitor.library.model import DebtorState, EventKind, FeeStatus, NewFee
from fbs_debitor.library.service import accounts
from fbs_debitor.library.store import tables
from tests.integration.library_support import (
    CPR,
    CUTOFF,
    K,
    assert_histories_add_up,
    fee,
    library_only,
    map_kind,
    new_fee,
    new_patron,
    sent,
    set_up,
)


@pytest.fixture
def lib(system: System) -> System:
    set_up(lib := library_only(system))
    return lib


def test_fee_before_the_cutoff_is_old_and_stays_in_the_library(lib: System) -> None:
    p = new_patron(lib)
    day_before = new_fee(lib, p.id, creation_date=CUTOFF - timedelta(days=1))
    on_cutoff = new_fee(lib, p.id, creation_date=CUTOFF)
    today = new_fee(lib, p.id)
    assert day_before.old and day_before.debtor_state is DebtorState.NOT_SENT
    assert day_before.payable_by_client
    assert not on_cutoff.old and on_cutoff.debtor_state is DebtorState.SENT
    assert not today.old and today.creation_date == date(2026, 3, 2)
    assert [s.payload["claim_id"] for s in sent(lib)] == [str(on_cutoff.id), str(today.id)]


def test_without_a_cutoff_every_fee_is_old(system: System) -> None:
    lib = library_only(system)
    set_up(lib, cutoff=None)
    p = new_patron(lib)
    assert new_fee(lib, p.id).old
    assert sent(lib) == []


def test_a_new_fee_is_registered_with_debtor_at_once(lib: System) -> None:
    p = new_patron(lib, cpr=CPR)
    f = new_fee(lib, p.id, "12,50", kind="compensation", acknowledged=True)
    [msg] = sent(lib)
    assert msg.type == "registration.ClaimRegistered.v1"
    assert (msg.sequence, msg.leg) == (1, "leg1")
    assert msg.ordering_key == f"claim:{K}:{f.id}"
    assert msg.message_id == f.registration_message_id
    p_ = msg.payload
    assert p_["claim_id"] == str(f.id)
    assert p_["patron_id"] == str(p.id)
    assert p_["debtor"] == {"id_type": "cpr", "id": CPR}
    assert p_["claim_kind"] == "compensation"
    assert p_["debtor_classification"] == "BIB-COMPENSATION"
    assert p_["psrm_claim_type"] == "PSRM-compensation"
    assert p_["amount_ore"] == 1250
    assert p_["created_on"] == "2026-03-02"
    assert p_["acknowledged"] is True
    assert p_["invoice_text"] == "Erstatning for materiale"
    assert p_["materials"] == [
        {
            "item_number": "5237124059",
            "record_id": "48724566",
            "title": None,
            "material_group": "standard",
        }
    ]
    assert [e.kind for e in _history(lib, f.id)] == [EventKind.CREATED, EventKind.SENT]


def test_an_unmapped_kind_is_held_then_sent_with_its_current_amount_when_mapped(
    lib: System,
) -> None:
    p = new_patron(lib)
    held = new_fee(lib, p.id, "30,00", kind="card_replacement")
    other = new_fee(lib, p.id, "10,00", kind="interlibrary_loan")
    assert held.debtor_state is DebtorState.HELD
    assert held.debtor_reason == (
        "claim kind card_replacement is not mapped in the sortiment of municipality 101; "
        "it is sent as soon as it is mapped"
    )
    with lib.db.begin() as conn:  # regulation while held changes the library only
        accounts.write_down(conn, lib.clock, K, held.id, Money(500), "half price")
    assert sent(lib) == []
    map_kind(lib, "card_replacement")
    lib.drain()
    [msg] = sent(lib)
    assert msg.payload["claim_id"] == str(held.id)
    assert msg.payload["amount_ore"] == 2500
    assert msg.payload["debtor_classification"] == "BIB-CARD_REPLACEMENT"
    assert (msg.sequence, msg.leg) == (1, "leg1")
    assert fee(lib, held.id).debtor_state is DebtorState.SENT
    assert fee(lib, held.id).debtor_reason is None
    assert fee(lib, other.id).debtor_state is DebtorState.HELD
    kinds = [e.kind for e in _history(lib, held.id)]
    assert kinds == [EventKind.CREATED, EventKind.HELD, EventKind.WRITTEN_DOWN, EventKind.SENT]
    map_kind(lib, "card_replacement")  # mapped again: nothing is sent twice
    lib.drain()
    assert len(sent(lib)) == 1


def test_a_held_fee_that_is_cancelled_is_never_sent(lib: System) -> None:
    p = new_patron(lib)
    held = new_fee(lib, p.id, kind="card_replacement")
    with lib.db.begin() as conn:
        accounts.cancel_fee(conn, lib.clock, K, held.id, "card found")
    assert fee(lib, held.id).debtor_state is DebtorState.NOT_SENT
    map_kind(lib, "card_replacement")
    lib.drain()
    assert sent(lib) == []


def test_each_regulation_sends_its_message_with_the_next_sequence(lib: System) -> None:
    p = new_patron(lib)
    f = new_fee(lib, p.id, "100,00")
    with lib.db.begin() as conn:
        accounts.write_down(conn, lib.clock, K, f.id, Money.parse("20,00"), "goodwill")
    with lib.db.begin() as conn:
        accounts.write_up(conn, lib.clock, K, f.id, Money.parse("5,50"), "late return")
    with lib.db.begin() as conn:
        after = accounts.cancel_fee(conn, lib.clock, K, f.id, "material came back")
    messages = sent(lib, claim_id=f.id)
    assert [(m.type.split(".")[1], m.sequence) for m in messages] == [
        ("ClaimRegistered", 1),
        ("ClaimWrittenDown", 2),
        ("ClaimWrittenUp", 3),
        ("ClaimCancelled", 4),
    ]
    assert messages[1].payload["amount_ore"] == 2000
    assert messages[1].payload["reason"] == "goodwill"
    assert messages[2].payload["amount_ore"] == 550
    assert messages[3].payload["reason"] == "material came back"
    assert {m.ordering_key for m in messages} == {f"claim:{K}:{f.id}"}
    assert all(m.leg is None for m in messages[1:])
    assert after.status is FeeStatus.CANCELLED and after.open == Money(0)
    assert after.last_sequence == 4
    events = _history(lib, f.id)
    assert [(e.kind, e.amount.ore, e.sequence) for e in events] == [
        (EventKind.CREATED, 10000, None),
        (EventKind.SENT, 0, 1),
        (EventKind.WRITTEN_DOWN, -2000, 2),
        (EventKind.WRITTEN_UP, 550, 3),
        (EventKind.CANCELLED, -8550, 4),
    ]
    assert_histories_add_up(lib)


def test_write_down_below_zero_is_refused_and_to_zero_closes_the_fee(lib: System) -> None:
    p = new_patron(lib)
    f = new_fee(lib, p.id, "50,00")
    with pytest.raises(ValidationError, match="below 0,00 kr") as info, lib.db.begin() as conn:
        accounts.write_down(conn, lib.clock, K, f.id, Money.parse("50,01"))
    assert info.value.code == "write-down-below-zero"
    assert fee(lib, f.id).open == Money(5000)
    with lib.db.begin() as conn:
        closed = accounts.write_down(conn, lib.clock, K, f.id, Money.parse("50,00"))
    assert closed.status is FeeStatus.CLOSED and closed.open.is_zero()
    assert sent(lib, "ClaimWrittenDown")[0].payload["amount_ore"] == 5000
    with pytest.raises(ConflictError) as conflict, lib.db.begin() as conn:
        accounts.write_up(conn, lib.clock, K, f.id, Money(100))
    assert conflict.value.code == "fee-not-open"
    other = new_fee(lib, p.id)
    for bad in (Money(0), Money(-100)):
        with pytest.raises(ValidationError), lib.db.begin() as conn:
            accounts.write_up(conn, lib.clock, K, other.id, bad)
    assert_histories_add_up(lib)


def test_regulating_an_old_fee_sends_nothing(lib: System) -> None:
    p = new_patron(lib)
    f = new_fee(lib, p.id, creation_date=date(2025, 6, 1))
    with lib.db.begin() as conn:
        accounts.write_down(conn, lib.clock, K, f.id, Money(1000))
        accounts.write_up(conn, lib.clock, K, f.id, Money(300))
        accounts.cancel_fee(conn, lib.clock, K, f.id)
    assert sent(lib) == []
    assert_histories_add_up(lib)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"amount": Money(0)}, "invalid-amount"),
        ({"amount": Money(-100)}, "invalid-amount"),
        ({"kind": "parking"}, "unknown-claim-kind"),
        ({"creation_date": date(2026, 3, 3)}, "invalid-creation-date"),
        ({"due_date": date(2026, 3, 1)}, "invalid-due-date"),
        ({"reason_message": "x" * 201}, "invalid-fee"),
    ],
)
def test_bad_fees_are_refused(lib: System, change: dict[str, object], code: str) -> None:
    p = new_patron(lib)
    row = NewFee(**{"patron_id": p.id, "kind": "fee", "amount": Money(100), **change})  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as info, lib.db.begin() as conn:
        accounts.create_fee(conn, lib.clock, K, row)
    assert info.value.code == code
    assert sent(lib) == []


def test_bad_patrons_are_refused(lib: System) -> None:
    cases = [
        ({"cpr": "3213901234"}, "invalid-cpr"),
        ({"cpr": "12345"}, "invalid-cpr"),
        ({"cvr": "13585629"}, "invalid-cvr"),
        ({}, "invalid-patron"),
        ({"guardian_cpr": CPR, "cvr": "13585628"}, "invalid-patron"),
        ({"cpr": CPR, "guardian_cpr": CPR}, "invalid-patron"),
    ]
    for identity, code in cases:
        with pytest.raises(ValidationError) as info, lib.db.begin() as conn:
            accounts.create_patron(conn, lib.clock, K, **identity)
        assert info.value.code == code, identity


def test_other_municipalities_fees_and_patrons_are_not_found(lib: System) -> None:
    set_up(lib, kommunekode="461", agency_id="746100")
    p = new_patron(lib)
    f = new_fee(lib, p.id)
    with lib.db.connect() as conn:
        with pytest.raises(NotFoundError):
            accounts.get_fee(conn, "461", f.id)
        with pytest.raises(NotFoundError):
            accounts.patron_account(conn, "461", p.id)
    with pytest.raises(NotFoundError), lib.db.begin() as conn:
        accounts.create_fee(conn, lib.clock, "461", NewFee(p.id, "fee", Money(100)))
    with pytest.raises(NotFoundError) as unknown, lib.db.begin() as conn:
        accounts.create_patron(conn, lib.clock, "999", cpr=CPR)
    assert unknown.value.code == "unknown-municipality"


def test_a_patron_is_blocked_from_200_kroner_open(lib: System) -> None:
    p = new_patron(lib)
    a = new_fee(lib, p.id, "120,00")
    new_fee(lib, p.id, "79,99", creation_date=date(2025, 1, 5))
    with lib.db.connect() as conn:
        account = accounts.patron_account(conn, K, p.id)
    assert account.open_total == Money(19999) and not account.blocked
    new_fee(lib, p.id, "0,01")
    with lib.db.connect() as conn:
        assert accounts.patron_account(conn, K, p.id).blocked
    with lib.db.begin() as conn:
        accounts.write_down(conn, lib.clock, K, a.id, Money(1))
        assert not accounts.patron_account(conn, K, p.id).blocked


def test_bulk_creation_sends_one_registration_per_new_fee(lib: System) -> None:
    patrons = [new_patron(lib).id for _ in range(3)]
    rows = [
        NewFee(
            patrons[i % 3],
            ("fee", "compensation", "card_replacement")[i % 3],
            Money(1000 + i),
            creation_date=date(2025, 12, 31) if i % 5 == 0 else None,
        )
        for i in range(60)
    ]
    with lib.db.begin() as conn:
        ids = accounts.create_fees_bulk(conn, lib.clock, K, rows)
    assert ids == sorted(ids) and len(set(ids)) == 60
    registrations = sent(lib, "ClaimRegistered")
    expected = [
        (str(i), r.amount.ore)
        for i, r in zip(ids, rows, strict=True)
        if r.creation_date is None and r.kind != "card_replacement"
    ]
    assert [(m.payload["claim_id"], m.payload["amount_ore"]) for m in registrations] == expected
    with lib.db.connect() as conn:
        states: dict[str, int] = dict(
            conn.execute(
                select(tables.fees.c.debtor_state, func.count()).group_by(
                    tables.fees.c.debtor_state
                )
            ).all()
        )
    assert states == {"sent": len(expected), "held": 16, "not_sent": 12}
    assert_histories_add_up(lib)


def test_bulk_creation_is_all_or_nothing(lib: System) -> None:
    p = new_patron(lib)
    rows = [NewFee(p.id, "fee", Money(100)), NewFee(p.id, "fee", Money(0))]
    with pytest.raises(ValidationError), lib.db.begin() as conn:
        accounts.create_fees_bulk(conn, lib.clock, K, rows)
    with pytest.raises(NotFoundError) as info, lib.db.begin() as conn:
        accounts.create_fees_bulk(conn, lib.clock, K, [NewFee(p.id + 99, "fee", Money(100))])
    assert info.value.extra["row"] == 0
    with lib.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tables.fees)).scalar_one() == 0
    assert sent(lib) == []


def _history(lib: System, fee_id: int) -> list:  # type: ignore[type-arg]
    with lib.db.connect() as conn:
        return accounts.fee_history(conn, K, fee_id)
