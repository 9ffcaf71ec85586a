"""Storage: one SQLAlchemy engine per database, a unit of work, and the shared column types.

Every context declares its tables on :data:`metadata` in its own ``store.py``; Alembic migrates
them. SQLite is the embedded default, PostgreSQL (psycopg 3) the production database; the same
Core queries run on both.

On SQLite a unit of work (:meth:`Database.begin`) starts with ``BEGIN IMMEDIATE``: writers queue
up on the database lock instead of failing half-way with "database is locked", and SAVEPOINTs
work (the pysqlite recipe from the SQLAlchemy documentation). A connection for reads
(:meth:`Database.connect`) starts with ``BEGIN DEFERRED``: in WAL mode it reads a snapshot and
never waits for a writer, so one municipality's long import does not stall everybody's reads
(the API key look-up included). Such a connection must not write: SQLite refuses to turn a read
snapshot that a writer has overtaken into a write transaction (``SQLITE_BUSY_SNAPSHOT``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from annotated_types import Ge, Le
from sqlalchemy import (
    BigInteger,
    Connection,
    DateTime,
    Dialect,
    Engine,
    Integer,
    MetaData,
    create_engine,
    event,
)
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

ID_TYPE = BigInteger().with_variant(Integer, "sqlite")
"""The column type of every autoincrement id: BIGINT on PostgreSQL, INTEGER (the rowid) on
SQLite (where only INTEGER PRIMARY KEY autoincrements)."""

MAX_ROW_ID = 2**63 - 1
RowId = Annotated[int, Ge(1), Le(MAX_ROW_ID)]
"""An integer row id as it arrives from outside (path, body): 1 .. the largest BIGINT, so an
out-of-range number is a 422 at the edge, never a database error."""

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)
"""The one MetaData every context's tables live on (Alembic compares against it)."""


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware.

    Refuses naive datetimes on the way in: a naive timestamp is a bug, not a local time.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: timestamps must be timezone-aware")
        converted = value if value.tzinfo is UTC else value.astimezone(UTC)
        if dialect.name == "sqlite":
            return converted.replace(tzinfo=None)
        return converted

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def normalize_url(url: str) -> str:
    """Accept a SQLAlchemy URL, a ``postgresql://`` URL or a plain file path.

    >>> normalize_url("postgresql://postgres@127.0.0.1:5432/test")
    'postgresql+psycopg://postgres@127.0.0.1:5432/test'
    >>> normalize_url("./x.db")
    'sqlite:///./x.db'
    """
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


BEGIN_OPTION = "fbs_sqlite_begin"
"""The execution option that names how a SQLite transaction begins (``IMMEDIATE``, the default,
or ``DEFERRED`` for the read connections of :meth:`Database.connect`)."""
_BEGIN_MODES = frozenset({"IMMEDIATE", "DEFERRED"})


def _setup_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event decide
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
        assert mode in _BEGIN_MODES, mode
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """An engine plus the unit of work. ``with db.begin() as conn:`` is one transaction."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(
                self.url,
                echo=echo,
                connect_args={"check_same_thread": False, "timeout": 30},
                poolclass=NullPool if database in ("", ":memory:") else None,
            )
            _setup_sqlite(self.engine)
        else:
            self.engine = create_engine(
                self.url,
                echo=echo,
                pool_size=10,
                max_overflow=20,
                pool_pre_ping=True,
                connect_args={"prepare_threshold": None},
            )

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == "postgresql"

    @property
    def display_url(self) -> str:
        """The URL with any password hidden."""
        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One unit of work: commits when the block ends, rolls back on an exception."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reads. On SQLite its transactions begin DEFERRED, so it never waits
        for (nor blocks) a writer; write through :meth:`begin` instead (module docstring)."""
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn.execution_options(**{BEGIN_OPTION: "DEFERRED"})
            yield conn

    def create_all(self) -> None:
        """Create every table directly (tests and benchmarks); production uses migrations."""
        metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
