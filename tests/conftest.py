"""Shared fixtures. Integration tests take ``database`` (or ``system``) and so run twice: on a
fresh SQLite file and on a fresh PostgreSQL database made for this test session.

PostgreSQL: ``FBS_DEBITOR_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``).
Under CI (``CI=true``) a PostgreSQL that cannot be reached fails the run; elsewhere those tests skip.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fbs_debitor.bootstrap import System, build_system
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.db import Database, normalize_url
from fbs_debitor.schema import metadata

PG_URL = os.environ.get(
    "FBS_DEBITOR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file with every table; each test gets a copy. (The schema comes from the
    models here; ``test_migrations`` proves the migrations build the same.)"""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    db = Database(str(path))
    db.create_all()
    db.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own for this test session with every table, dropped at the end."""
    admin_url = normalize_url(PG_URL)
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is mandatory in CI and cannot be reached at {PG_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    name = f"fbsd_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    db.create_all()
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(db: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with db.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def empty_postgres(postgres_url: str) -> Iterator[Database]:
    """The session's PostgreSQL database with every table emptied (for tests that start other
    processes on it, so cannot use the per-test rollback)."""
    db = Database(postgres_url)
    _truncate_all(db)
    yield db
    db.dispose()


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    """An empty PostgreSQL database with no tables at all (for the migration tests)."""
    admin = create_engine(normalize_url(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"fbsd_mig_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(normalize_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database: SQLite and PostgreSQL in turn."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "test.db"
        shutil.copy(template, path)
        db = Database(str(path))
    else:
        url: str = request.getfixturevalue("postgres_url")
        db = Database(url)
        _truncate_all(db)
    yield db
    db.dispose()


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[Database]:
    """PostgreSQL only (tests of concurrency that SQLite does not have)."""
    db = Database(postgres_url)
    _truncate_all(db)
    yield db
    db.dispose()


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock.at_date(date(2026, 3, 2))


@pytest.fixture
def system(database: Database, clock: SettableClock) -> System:
    """The wired system on ``database`` with a settable clock."""
    return build_system(db=database, clock=clock)
