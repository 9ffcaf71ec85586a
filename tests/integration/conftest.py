"""Fixtures of the integration tests (shared ones live here, not in test or support modules),
and the ledger guard that runs after every integration test that used a database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from fbs_debitor.bootstrap import System
from fbs_debitor.core.db import Database
from fbs_debitor.debtor import guard
from fbs_debitor.tenants.model import Role
from fbs_debitor.tenants.service import keys as tenant_keys
from fbs_debitor.tenants.service import municipalities as tenants
from fbs_debitor.web.app import create_app
from tests.integration.debtor_billing_support import (
    CREDITOR,
    LIBRARY_KEY,
    STAFF_KEY,
    Desk,
    K,
)
from tests.integration.debtor_collection_support import Collection
from tests.integration.municipality_support import set_up_kobenhavn

DATABASE_FIXTURES = ("database", "postgres_database", "empty_postgres")
"""The fixtures that give a test a database with the whole schema (the guard reads those)."""


@pytest.fixture(autouse=True)
def ledger_stays_sound(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every integration test that used a database, the ledger guard (with its
    invoicing and dunning checks) must find nothing. A test that corrupts the ledger on
    purpose opts out with ``@pytest.mark.ledger_corrupted``.

    The database is requested here, before the test, so that it is torn down after this
    check (not before)."""
    used = [name for name in DATABASE_FIXTURES if name in request.fixturenames]
    if not used or request.node.get_closest_marker("ledger_corrupted"):
        yield
        return
    db: Database = request.getfixturevalue(used[0])
    yield
    with db.connect() as conn:
        problems = guard.check_ledger(conn)
    assert problems == [], problems


@pytest.fixture
def desk(system: System) -> Desk:
    """Municipality 101 set up (creditor 89123456), the clock on Monday 2 March 2026."""
    system.clock.set_date(date(2026, 3, 2))  # type: ignore[attr-defined]
    with system.db.begin() as conn:
        tenants.create_municipality(
            conn,
            system.clock,
            kommunekode=K,
            name="København",
            agency_id="710100",
            creditor_number=CREDITOR,
        )
    system.drain()
    return Desk(system)


@pytest.fixture
def staff(desk: Desk) -> TestClient:
    """An HTTP client of the whole app; ``STAFF_KEY`` is a debtor-staff key of 101 and
    ``LIBRARY_KEY`` a library key (not admitted to the debtor's staff routes)."""
    system = desk.system
    with system.db.begin() as conn:
        tenant_keys.create_api_key(conn, system.clock, K, Role.DEBTOR_STAFF, "staff", STAFF_KEY)
        tenant_keys.create_api_key(conn, system.clock, K, Role.LIBRARY, "library", LIBRARY_KEY)
    return TestClient(create_app(system), raise_server_exceptions=False)


@pytest.fixture
def live(system: System) -> System:
    """The whole system with København (101) set up, its set-up delivered."""
    set_up_kobenhavn(system)
    return system


@pytest.fixture
def collection(live: System) -> Collection:
    """København set up (library and debtor), the clock on Monday 2 March 2026; the hands of
    the debtor-side collection tests."""
    return Collection(live)
