"""Alembic environment: migrates the database of the engine handed over by fbs_debitor.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from fbs_debitor.core.db import normalize_url
from fbs_debitor.schema import metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    engine = create_engine(normalize_url(config.get_main_option("sqlalchemy.url") or ""))

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
