"""The background worker: claims due orders from the database and fulfils them."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid

from orderhub.fulfilment.database_outage import DatabaseOutage
from orderhub.fulfilment.liveness import Heartbeat
from orderhub.metrics import LOOP_PROGRESS
from orderhub.services.fulfilment import FulfilmentService
from orderhub.services.ports import DatabaseUnavailable

log = logging.getLogger("orderhub.worker")

# How often an idle worker asks the database whether something changed: cheap (shared memory on
# SQLite), and it bounds how long an order placed by another process waits for its worker.
CHANGE_CHECK_SECONDS = 0.002
MAX_BATCH = 512


class Worker:
    """Runs in its own thread, inside ``orderhub serve`` or alone in ``orderhub worker``.

    In-process, ``wake()`` is called after each accepted order so completion does not wait for the
    poll; the poll still finds work that another process accepted or that a dead worker left behind.
    """

    def __init__(self, fulfilment: FulfilmentService, *, poll_interval: float = 0.5, batch_size: int = 32) -> None:
        self._fulfilment = fulfilment
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        # Grows while every batch comes back full (a backlog) and shrinks back once it is worked off:
        # small batches keep the writer's transactions short, big ones let fulfilment catch up.
        self._limit = batch_size
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._watch_database = False
        self.heartbeat = Heartbeat("worker loop")
        self._outage = DatabaseOutage("worker", log)

    def wake(self) -> None:
        self._wake.set()

    def start(self, *, watch_database: bool = False) -> None:
        """``watch_database``: also notice orders other processes commit, within milliseconds. A worker
        inside the API process is woken by its own orders and leaves that to its poll: the watching
        costs the busy API a share of its interpreter lock."""
        self._watch_database = watch_database
        self.heartbeat.beat()
        LOOP_PROGRESS.watch("worker", self.heartbeat.silence)
        self._thread = threading.Thread(target=self.run_forever, name="orderhub-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def stalled(self, stale_after: float) -> str | None:
        """Why this worker's loop is not alive (not running, or no turn for ``stale_after`` seconds),
        or None."""
        return self.heartbeat.stalled(self._thread, stale_after)

    def run_forever(self) -> None:
        log.info("worker %s started", self.worker_id)
        while not self._stop.is_set():
            self.heartbeat.beat()
            # Cleared before looking for work, so a wake that comes while we work is not lost.
            self._wake.clear()
            try:
                worked = self.run_once()
            except DatabaseUnavailable as exc:
                # Not the wait for work: that returns at once when the database cannot tell it.
                self.heartbeat.wait(self._wake, self._outage.failed(exc.reason))
                continue
            except Exception:
                log.exception("worker loop error; retrying")
                worked = 0
            else:
                self._outage.answered()
            if worked == 0:
                self._wait_for_work()
        log.info("worker %s stopped", self.worker_id)

    def _wait_for_work(self) -> None:
        """Until woken in-process, until the database changed (another process placed an order), or
        until the poll interval passed (scheduled orders fall due without anyone committing)."""
        if not self._watch_database:
            self._wake.wait(self._poll_interval)
            return
        deadline = time.monotonic() + self._poll_interval
        while not self._stop.is_set() and time.monotonic() < deadline:
            self.heartbeat.beat()
            if self._wake.wait(CHANGE_CHECK_SECONDS) or self._fulfilment.changed():
                return

    def run_once(self) -> int:
        worked = self._fulfilment.run_due(self.worker_id, self._limit)
        if worked >= self._limit:
            self._limit = min(self._limit * 2, MAX_BATCH)
        else:
            self._limit = max(self._limit // 2, self._batch_size)
        return worked
