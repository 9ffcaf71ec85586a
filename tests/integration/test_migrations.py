"""The migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from fbs_debitor.core.db import Database
from fbs_debitor.migrate import alembic_config, current, upgrade
from fbs_debitor.schema import metadata


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = Database(str(tmp_path / "migrated.db"))
    else:
        db = Database(request.getfixturevalue("fresh_postgres_url"))
    yield db
    db.dispose()


def test_migrations_build_the_schema_of_the_models(empty_database: Database) -> None:
    upgrade(empty_database)
    head = ScriptDirectory.from_config(alembic_config(empty_database)).get_current_head()
    assert current(empty_database) == head
    with empty_database.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    upgrade(empty_database)  # running it again is harmless
    assert current(empty_database) == head
