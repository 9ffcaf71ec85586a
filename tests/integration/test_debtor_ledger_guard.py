"""The ledger guard finds every kind of disagreement between claims and their postings."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, insert, select, update

from fbs_debitor.bootstrap import System
from fbs_debitor.debtor import guard
from fbs_debitor.debtor.service import intake
from fbs_debitor.debtor.store.tables import accounts, claims, postings
from tests.factories import claim_registered

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)


def _register(system: System, claim_id: str, municipality: str = "101") -> int:
    message = claim_registered(claim_id, municipality=municipality, amount_ore=1000)
    with system.db.begin() as conn:
        outcome = intake.apply_registration(
            conn, system.clock, message, message_id=f"m-{claim_id}", enqueued_at=None
        )
        assert outcome.accepted
        return int(
            conn.execute(select(claims.c.id).where(claims.c.claim_id == claim_id)).scalar_one()
        )


def _post(system: System, claim_pk: int, kind: str, amount_ore: int, **extra: object) -> int:
    with system.db.begin() as conn:
        result = conn.execute(
            insert(postings).values(
                municipality=extra.pop("municipality", "101"),
                claim_pk=claim_pk,
                kind=kind,
                amount_ore=amount_ore,
                booked_at=T0,
                effective_on=date(2026, 3, 2),
                note="",
                **{
                    "fee_part_ore": amount_ore if kind in ("reminder_fee", "interest") else 0,
                    **extra,
                },
            )
        )
        assert result.inserted_primary_key is not None
        return int(result.inserted_primary_key[0])


def _problems(system: System, municipality: str | None = None) -> list[str]:
    with system.db.connect() as conn:
        return guard.check_ledger(conn, municipality)


def test_a_sound_ledger_has_no_problems(system: System) -> None:
    pk = _register(system, "ok")
    charge = _post(system, pk, "write_up", 500)
    _post(system, pk, "reversal", -500, reverses=charge)
    assert _problems(system) == []


@pytest.mark.ledger_corrupted
def test_claim_without_charge(system: System) -> None:
    pk = _register(system, "a")
    with system.db.begin() as conn:
        conn.execute(delete(postings).where(postings.c.claim_pk == pk))
    assert _problems(system) == ["101/a: claim without its charge posting"]
    assert _problems(system, "461") == []


@pytest.mark.ledger_corrupted
def test_cancelled_with_balance_and_negative_balance(system: System) -> None:
    cancelled = _register(system, "c")
    with system.db.begin() as conn:
        conn.execute(update(claims).where(claims.c.id == cancelled).values(status="cancelled"))
    negative = _register(system, "n")
    _post(system, negative, "write_down", -1500)
    problems = _problems(system)
    assert "101/c: cancelled claim with balance 10.00" in problems
    assert "101/n: open claim with negative balance -5.00" in problems


@pytest.mark.ledger_corrupted
def test_sign_and_reversal_rules(system: System) -> None:
    pk = _register(system, "s")
    _post(system, pk, "write_down", 100)  # a write-down must be negative
    up = _post(system, pk, "write_up", 100)
    _post(system, pk, "reversal", 100, reverses=up)  # must be the opposite sign
    _post(system, pk, "reversal", -5)  # names nothing
    _post(system, pk, "coverage", -5, reverses=up)  # only a reversal reverses
    problems = _problems(system)
    assert len(problems) == 4
    assert all("breaks the sign, fee part or reversal rule" in p for p in problems)


@pytest.mark.ledger_corrupted
def test_rows_of_another_municipality(system: System) -> None:
    pk = _register(system, "m")
    _post(system, pk, "write_up", 100, municipality="461")
    with system.db.begin() as conn:
        conn.execute(update(accounts).values(municipality="461"))
    problems = _problems(system)
    assert any("posting" in p for p in problems)
    assert "101/m: claim on another municipality's account" in problems
