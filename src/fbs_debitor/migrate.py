"""Alembic migrations, run from code (``fbs-debitor db upgrade`` and the start of ``serve``).

The migration scripts ship inside the package (``fbs_debitor/migrations``: ``env.py``,
``script.py.mako``, ``versions/``), so an installed ``fbs-debitor`` finds them wherever it runs; the
repository's ``alembic.ini`` (for ``alembic revision``) points at the same directory.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from fbs_debitor.core.db import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    cfg.attributes["engine"] = db.engine
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database schema to ``revision`` (default: the newest)."""
    command.upgrade(alembic_config(db), revision)


def current(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
