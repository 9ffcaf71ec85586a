"""Bank files uploaded over HTTP: spooled to disk, imported by a background job.

A municipality's upload must not hold up anybody else's requests, nor the uploader's own
connection for the minutes a large file takes. So ``POST /bank-files`` only writes the body to
a file under :func:`spool_dir` (in blocks, memory bounded), checks its head (XML, a supported
camt message, no DOCTYPE: refused at once, 422) and records a job (``payments_bank_upload``,
state ``queued``); it answers 202 with the job's address. The job then runs
:func:`~fbs_debitor.payments.service.bank.import_bank_file` on the spooled file, with the same
result as the synchronous import (the summary, or the refusal's code and sentence), and removes
the file.

Who runs a job: the process that received it starts it right after answering
(:func:`start_job`), by default in a child process (``fbs-debitor import job ID``, which calls
:func:`run_job`), so that parsing and judging the file takes no CPU time from the requests the
serving process answers (Python runs one thread at a time); ``FBS_DEBITOR_UPLOAD_JOBS=thread``
runs it in a thread instead. And the scheduled :func:`run_waiting` of every process serving the
API takes up the jobs of its own node (the file is on its disk) that are still queued, or
importing with a heartbeat older than :data:`STALE_AFTER` (the runner died: the import is
re-runnable, so it resumes where it stopped, decision 0005). A job is claimed by a conditional
UPDATE, so two runners never run the same job.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fbs_debitor.core.clock import Clock
from fbs_debitor.core.db import Database
from fbs_debitor.core.errors import DomainError, NotFoundError
from fbs_debitor.payments.adapters import camt
from fbs_debitor.payments.service.bank import ImportSummary, check_kommunekode, import_bank_file
from fbs_debitor.payments.store import uploads as store
from fbs_debitor.settings import Settings

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=10)
"""An importing job whose heartbeat (one per chunk of payments) is older than this is taken to
have lost its runner and is run again."""


def node_name() -> str:
    """This machine, as recorded on a job: the spooled file is on its disk."""
    return socket.gethostname()[:255] or "localhost"


def spool_dir(settings: Settings) -> Path:
    """Where uploaded bank files wait for their job: ``FBS_DEBITOR_UPLOAD_DIR``, or a folder in
    the system's temporary directory."""
    folder = (
        Path(settings.upload_dir)
        if settings.upload_dir
        else Path(tempfile.gettempdir()) / "fbs-debitor-uploads"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def new_spool_path(settings: Settings) -> Path:
    return spool_dir(settings) / f"{uuid.uuid4().hex}.xml"


def check_head(path: Path) -> str:
    """The cheap checks made before the upload is accepted (its head only: XML, a supported camt
    message, no DOCTYPE); ValidationError refuses the file. The full schema check is the job's."""
    return camt.document_type(path)


def queue_job(
    db: Database,
    clock: Clock,
    municipality: str,
    path: Path,
    *,
    filename: str,
    dry_run: bool,
) -> int:
    """Record the job of a spooled upload (state ``queued``); its id."""
    check_kommunekode(municipality)
    now = clock.now()
    with db.begin() as conn:
        return store.insert_job(
            conn,
            {
                "municipality": municipality,
                "state": "queued",
                "filename": filename[:255],
                "dry_run": dry_run,
                "size_bytes": path.stat().st_size,
                "spool_path": str(path),
                "node": node_name(),
                "payments": 0,
                "created_at": now,
                "updated_at": now,
            },
        )


def run_job(db: Database, clock: Clock, job_id: int) -> bool:
    """Claim the job and import its file; False when somebody else has it (or it is finished).
    Never raises for the file's faults: they are the job's outcome (state ``failed``)."""
    now = clock.now()
    with db.begin() as conn:
        if not store.claim(conn, job_id, now, now - STALE_AFTER):
            return False
        row = store.job_by_id(conn, job_id)
    assert row is not None
    path = Path(row.spool_path)

    def progress(summary: ImportSummary) -> None:
        if not row.dry_run:  # a dry run holds its one transaction (the write lock on SQLite)
            with db.begin() as conn:
                store.heartbeat(conn, job_id, summary.payments, clock.now())

    try:
        if not path.is_file():
            raise NotFoundError(
                "the uploaded file is gone (the server was moved or its upload folder "
                "emptied); upload the file again: importing it twice is harmless",
                code="upload-gone",
            )
        summary = import_bank_file(
            db,
            clock,
            row.municipality,
            path,
            filename=row.filename,
            dry_run=bool(row.dry_run),
            progress=progress,
        )
    except DomainError as exc:
        _finish(db, clock, job_id, error_code=exc.code, error_detail=exc.detail)
    except Exception:
        log.exception("bank upload job %s failed", job_id)
        _finish(
            db,
            clock,
            job_id,
            error_code="internal-error",
            error_detail="the import failed; the error is logged. Upload the file again: "
            "an import is re-runnable and books nothing twice",
        )
    else:
        _finish(
            db,
            clock,
            job_id,
            summary=json.dumps(summary.to_json()),
            payments=summary.payments,
        )
    path.unlink(missing_ok=True)
    return True


def _finish(db: Database, clock: Clock, job_id: int, **outcome: Any) -> None:
    with db.begin() as conn:
        store.finish(conn, job_id, clock.now(), **outcome)


def job_command(job_id: int) -> list[str]:
    """The command line of a job's child process (the database comes in its environment, so
    that a password never shows in the process list)."""
    return [sys.executable, "-m", "fbs_debitor.cli", "import", "job", str(job_id)]


def run_job_in_process(db: Database, job_id: int) -> None:
    """Run the job in a child process and wait for it. A child that dies leaves the job to
    :func:`run_waiting`."""
    env = {**os.environ, "FBS_DEBITOR_DATABASE_URL": db.url}
    result = subprocess.run(job_command(job_id), env=env, check=False)  # noqa: S603 - our CLI
    if result.returncode != 0:
        log.error("bank upload job %s: its process exited with %s", job_id, result.returncode)


def start_job(db: Database, clock: Clock, settings: Settings, job_id: int) -> None:
    """Run the job as ``settings.upload_jobs`` says (module docstring); returns when it ended."""
    if settings.upload_jobs == "process":
        run_job_in_process(db, job_id)
    else:
        run_job(db, clock, job_id)


def run_waiting(db: Database, clock: Clock, settings: Settings) -> int:
    """Run this node's jobs that nobody runs (scheduled; see the module docstring); how many
    were found."""
    now = clock.now()
    with db.connect() as conn:
        ids = store.waiting(conn, node_name(), now - STALE_AFTER)
    for job_id in ids:
        start_job(db, clock, settings, job_id)
    return len(ids)


def job_view(db: Database, municipality: str, job_id: int) -> dict[str, Any]:
    """A job as ``GET /bank-files/{job_id}`` shows it; NotFoundError for another
    municipality's job or none."""
    with db.connect() as conn:
        row = store.job(conn, municipality, job_id)
    if row is None:
        raise NotFoundError(f"no bank upload {job_id} in {municipality}", code="upload-not-found")
    return {
        "job_id": int(row.id),
        "municipality": row.municipality,
        "state": row.state,
        "filename": row.filename,
        "dry_run": bool(row.dry_run),
        "size_bytes": int(row.size_bytes),
        "payments_read": int(row.payments),
        "created_at": _iso(row.created_at),
        "started_at": _iso(row.started_at),
        "finished_at": _iso(row.finished_at),
        "result": json.loads(row.summary) if row.summary else None,
        "error": ({"code": row.error_code, "detail": row.error_detail} if row.error_code else None),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
