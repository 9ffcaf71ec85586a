"""The one place that wires the system: database, clock, router with every context's handlers,
worker and scheduler. Tests, the CLI, the server and the benchmarks all build through here."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from fbs_debitor.collection import handlers as collection_handlers
from fbs_debitor.collection.adapters.psrm.interface import Psrm
from fbs_debitor.collection.service.wiring import Wiring
from fbs_debitor.core.clock import Clock, SystemClock
from fbs_debitor.core.db import Database
from fbs_debitor.messaging.router import Router
from fbs_debitor.messaging.worker import Worker, WorkerConfig
from fbs_debitor.settings import Settings

log = logging.getLogger(__name__)

REGISTRARS: list[str] = [
    "fbs_debitor.library.handlers",
    "fbs_debitor.debtor.handlers",
    "fbs_debitor.payments.handlers",
]
"""Modules with ``register(router: Router, clock: Clock) -> None`` that subscribe a context's
handlers; each context's scheduled jobs come from ``jobs(db, clock, settings)`` if it has one."""


@dataclass
class System:
    settings: Settings
    db: Database
    clock: Clock
    router: Router
    psrm: Psrm | None = None
    """The PSRM adapter the collection context talks to (``settings.psrm_adapter``)."""
    collection: Wiring | None = None
    """What the collection context was wired with (its CLI commands use it)."""
    scheduled: list[tuple[str, float, Callable[[], object]]] = field(default_factory=list)
    """Periodic jobs: (name, interval in seconds, job), run by :meth:`start_background`."""
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def worker(self, name: str = "worker") -> Worker:
        s = self.settings
        return Worker(
            self.db,
            self.router,
            WorkerConfig(
                batch_size=s.worker_batch_size,
                max_attempts=s.max_attempts,
                backoff_base_s=s.backoff_base_s,
                backoff_max_s=s.backoff_max_s,
                poll_interval_s=s.worker_poll_interval_s,
            ),
            name=name,
            clock=self.clock,
        )

    def drain(self, timeout_s: float = 60.0) -> int:
        """Deliver every pending message now (tests, demo, CLI commands)."""
        return self.worker().drain(timeout_s)

    def start_background(self, *, worker: bool = True, scheduler: bool = True) -> None:
        """Run the worker and the scheduled jobs in threads of this process (``serve``)."""
        self._stop.clear()
        if worker:
            t = threading.Thread(
                target=self.worker("in-process").run_forever, args=(self._stop,), daemon=True
            )
            t.start()
            self._threads.append(t)
        if scheduler:
            for name, interval, job in self.scheduled:
                t = threading.Thread(
                    target=_every, args=(name, interval, job, self._stop), daemon=True
                )
                t.start()
                self._threads.append(t)

    def stop_background(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout_s)
        self._threads.clear()


def _every(name: str, interval: float, job: Callable[[], object], stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            job()
        except Exception:
            log.exception("scheduled job %s failed", name)


def build_system(
    database_url: str | None = None,
    *,
    clock: Clock | None = None,
    settings: Settings | None = None,
    db: Database | None = None,
    psrm: Psrm | None = None,
) -> System:
    settings = settings or Settings()
    if db is not None:
        database_url = db.url
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    system = System(
        settings=settings,
        db=db or Database(settings.database_url),
        clock=clock or SystemClock(),
        router=Router(),
    )
    for module_name in REGISTRARS:
        module = importlib.import_module(module_name)
        module.register(system.router, system.clock)
        jobs = getattr(module, "jobs", None)
        if jobs is not None:
            system.scheduled.extend(jobs(system.db, system.clock, system.settings))
    _wire_collection(system, psrm)
    return system


def _wire_collection(system: System, psrm: Psrm | None) -> None:
    """The collection context gets its PSRM adapter and reads debtor's facts through the one
    function debtor publishes for it (``debtor.views.collection_facts``)."""
    from fbs_debitor.collection.adapters.psrm.configured import configured_psrm
    from fbs_debitor.debtor import views as debtor_views

    system.psrm = psrm or configured_psrm(system.settings, system.clock)
    wiring = Wiring(
        psrm=system.psrm,
        facts=debtor_views.collection_facts,
        municipalities=debtor_views.collection_municipalities,
    )
    system.collection = wiring
    collection_handlers.register(system.router, system.clock, wiring)
    system.scheduled.extend(
        collection_handlers.jobs(
            system.db,
            system.clock,
            wiring,
            handover_s=system.settings.psrm_handover_interval_s,
            sync_s=system.settings.psrm_sync_interval_s,
        )
    )
