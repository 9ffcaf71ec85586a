"""Legs 1, 2 and 4 wired, on SQLite and PostgreSQL: a library fee becomes a claim in debtor that
is invoiced at once, gets a reminder with a fee, is written off, and the library's fee follows;
the library and debtor's principal reconcile to the øre throughout."""

from __future__ import annotations

from datetime import date

import pytest

from fbs_debitor.bootstrap import System
from fbs_debitor.core.money import Money
from fbs_debitor.debtor import views
from fbs_debitor.debtor.service.dunning import run_dunning
from fbs_debitor.debtor.service.writeoff import write_off_by_hand
from fbs_debitor.library.model import NewFee
from fbs_debitor.library.service import accounts
from fbs_debitor.reconcile import reconcile
from tests.integration.municipality_support import K, set_up_kobenhavn


@pytest.fixture
def live(system: System) -> System:
    system.clock.set_date(date(2026, 3, 2))  # type: ignore[attr-defined]
    set_up_kobenhavn(system, ("BIB", "BIB"), "BIB")
    return system


def reconciled(system: System) -> bool:
    with system.db.connect() as conn:
        result = reconcile(conn, K)
    assert result.differences == []
    return result.reconciled


def test_a_fee_is_invoiced_reminded_written_off_and_closed_in_the_library(live: System) -> None:
    with live.db.begin() as conn:
        patron = accounts.create_patron(conn, live.clock, K, cpr="0101901234").id
        fees = [
            accounts.create_fee(
                conn, live.clock, K, NewFee(patron_id=patron, kind=k, amount=Money(a))
            ).id
            for k, a in (("fee", 12500), ("compensation", 34900))
        ]
    live.drain()
    with live.db.connect() as conn:
        view = views.account_view(conn, K, "0101901234")
    assert sorted(
        c for i in view["invoices"] for c in [x["claim_id"] for x in i["claims"]]
    ) == sorted(str(f) for f in fees)
    assert reconciled(live)

    for day in (date(2026, 3, 30), date(2026, 4, 19)):  # a påmindelse, then 100 kr each
        live.clock.set_date(day)  # type: ignore[attr-defined]
        with live.db.begin() as conn:
            run_dunning(conn, live.clock, day)
    with live.db.connect() as conn:
        assert views.claim_balances(conn, K) == {str(fees[0]): 22500, str(fees[1]): 44900}
    assert reconciled(live)  # debtor's own fees are not the library's

    with live.db.begin() as conn:
        write_off_by_hand(conn, live.clock, K, str(fees[0]), amount=None, reason="Klage", by="ab")
        write_off_by_hand(
            conn, live.clock, K, str(fees[1]), amount=Money(5000), reason="Delvis", by="ab"
        )
    live.drain()
    with live.db.connect() as conn:
        closed, partly = (accounts.get_fee(conn, K, f) for f in fees)
    assert closed.open == Money(0)
    assert partly.open == Money(29900)
    assert reconciled(live)
