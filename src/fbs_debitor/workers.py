"""Several outbox workers from one command: ``fbs-debitor worker --processes N``.

Each worker is its own process running ``fbs-debitor worker`` (Python runs one thread of Python
at a time, so workers scale with processes, not threads). On PostgreSQL they share the outbox
through ``FOR UPDATE SKIP LOCKED`` and the per-claim sequences keep each claim's messages in
order (decision 0002); the throughput grows with the CPUs the machine has (decision 0009).

On SQLite one process writes at a time: a second worker would only wait for the lock, so more
than one process is refused (:func:`check_processes`).

The pool is a small supervisor: a worker that exits without being asked (killed, out of
memory) is started again after ``restart_after_s``; ``stop`` ends them all with SIGTERM, which
each worker takes as "finish the batch in hand, then exit". Nothing is lost when a worker dies
mid-batch: its transaction rolls back and another worker delivers the rows (decision 0002).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time

from fbs_debitor.core.db import Database
from fbs_debitor.core.errors import ValidationError

log = logging.getLogger(__name__)

MAX_PROCESSES = 64


def check_processes(db: Database, processes: int) -> None:
    """Refuse a pool size the database cannot use."""
    if not 1 <= processes <= MAX_PROCESSES:
        raise ValidationError(f"--processes must be between 1 and {MAX_PROCESSES}")
    if processes > 1 and not db.is_postgresql:
        raise ValidationError(
            "SQLite lets one process write at a time, so a second worker process only waits "
            "for the lock; run one worker, or use PostgreSQL to scale out"
        )


def worker_command(database_url: str) -> list[str]:
    """The command line of one worker process (the same ``fbs-debitor worker`` ops run)."""
    return [sys.executable, "-m", "fbs_debitor.cli", "worker", "--database", database_url]


class WorkerPool:
    """``processes`` worker processes on one database, kept running until :meth:`stop`."""

    def __init__(self, database_url: str, processes: int, *, restart_after_s: float = 1.0) -> None:
        self.command = worker_command(database_url)
        self.processes = processes
        self.restart_after_s = restart_after_s
        self.restarts = 0
        self._procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        self._procs = [self._spawn() for _ in range(self.processes)]

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs]

    def supervise(self, stop: threading.Event, poll_s: float = 0.5) -> None:
        """Restart workers that exit on their own, until ``stop`` is set; then stop them all."""
        try:
            while not stop.wait(poll_s):
                for i, proc in enumerate(self._procs):
                    code = proc.poll()
                    if code is None:
                        continue
                    log.warning("worker process %s exited with %s; restarting", proc.pid, code)
                    time.sleep(self.restart_after_s)
                    self._procs[i] = self._spawn()
                    self.restarts += 1
        finally:
            self.stop()

    def stop(self, timeout_s: float = 30.0) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + timeout_s
        for proc in self._procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.command)  # noqa: S603 - our own CLI, no shell
