"""Configuration, read from the environment with the prefix ``FBS_DEBITOR_`` (see docs/configuration.md)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./fbs-debitor.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FBS_DEBITOR_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL or a plain file path (taken as SQLite). ``postgresql://`` uses psycopg 3."""

    worker_poll_interval_s: float = 0.02
    """How long an idle worker sleeps before it looks at the outbox again."""

    worker_batch_size: int = 500
    """Outbox rows one worker claims and applies in one transaction."""

    max_attempts: int = 8
    """Deliveries of one message before it is dead-lettered."""

    backoff_base_s: float = 0.5
    """First retry delay; doubled on every further attempt, capped at ``backoff_max_s``."""

    backoff_max_s: float = 300.0

    letter_dir: str = "letters"
    """Where the letter delivery job writes letters as PDF (``<kommunekode>/<letter id>.pdf``)."""

    log_level: str = "INFO"
    log_json: bool = True
