"""One writer thread that commits every write that arrived meanwhile in one transaction.

SQLite lets one writer in at a time and each commit costs an fsync; sharing the transaction keeps the
database off the critical path. Each piece of work runs in its own savepoint, so one refused order
does not undo its neighbours, and its answer is released only after the shared commit returned.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from orderhub.services.ports import DatabaseUnavailable, DuplicateKey
from orderhub.store.errors import is_driver_unavailable, is_unavailable
from orderhub.store.unit_of_work import BoundUnitOfWork

log = logging.getLogger("orderhub.store.writer")

# Enough to amortise the commit, small enough that one transaction stays a few milliseconds long.
MAX_BATCH = 512


@dataclass
class _Job:
    work: Callable[[BoundUnitOfWork], Any]
    deadline: float
    future: Future[Any] = field(default_factory=Future)


class GroupCommitWriter:
    def __init__(
        self,
        connect: Callable[[], sa.Connection],
        *,
        timeout: float,
        guard: Callable[[], None] = lambda: None,
        on_outcome: Callable[[DatabaseUnavailable | None], None] = lambda _error: None,
        set_busy_timeout: Callable[[sa.Connection, float], None] = lambda _c, _s: None,
    ) -> None:
        self._connect = connect
        self._timeout = timeout
        # Raises DatabaseUnavailable when the database must not be written (file gone, read-only).
        self._guard = guard
        self._on_outcome = on_outcome
        self._set_busy_timeout = set_busy_timeout
        self._queue: deque[_Job] = deque()
        self._ready = threading.Condition()
        self._connection: sa.Connection | None = None
        self._dbapi: object = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="orderhub-writer", daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[BoundUnitOfWork], Any]) -> Future[Any]:
        job = _Job(work, time.monotonic() + self._timeout)
        with self._ready:
            if self._stopping:
                raise DatabaseUnavailable("the service is shutting down")
            self._queue.append(job)
            self._ready.notify()
        return job.future

    def close(self, timeout: float = 10.0) -> None:
        with self._ready:
            self._stopping = True
            self._ready.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._stopping:
                    self._ready.wait()
                if not self._queue:
                    break
                count = min(len(self._queue), MAX_BATCH)
                batch = [self._queue.popleft() for _ in range(count)]
            self._commit(batch)
        self._drop_connection()

    def _commit(self, batch: list[_Job]) -> None:
        now = time.monotonic()
        live = [job for job in batch if job.deadline > now]
        for job in batch:
            if job.deadline <= now:
                job.future.set_exception(DatabaseUnavailable("the database was not available in time"))
        if not live:
            return
        try:
            self._guard()
            connection = self._connection_for(min(job.deadline for job in live) - now)
            results = self._run_jobs(connection, live)
        except DatabaseUnavailable as exc:
            self._fail_all(live, exc)
            return
        except sa.exc.DBAPIError as exc:
            self._drop_connection()
            if not is_unavailable(exc):
                log.exception("group commit failed")
            self._fail_all(live, DatabaseUnavailable(f"database unavailable: {exc.orig}"))
            return
        except Exception as exc:
            self._drop_connection()
            if is_driver_unavailable(exc, self._dbapi):
                self._fail_all(live, DatabaseUnavailable(f"database unavailable: {exc}"))
                return
            log.exception("group commit failed")
            self._fail_all(live, exc)
            return
        self._on_outcome(None)
        for job, (ok, value) in zip(live, results, strict=True):
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)

    def _run_jobs(self, connection: sa.Connection, jobs: list[_Job]) -> list[tuple[bool, Any]]:
        uow = BoundUnitOfWork(connection)
        results: list[tuple[bool, Any]] = []
        with connection.begin():
            for job in jobs:
                try:
                    with uow.savepoint():
                        value = job.work(uow)
                except sa.exc.IntegrityError as exc:
                    results.append((False, DuplicateKey(str(exc.orig))))
                except sa.exc.DBAPIError as exc:
                    if is_unavailable(exc):
                        raise  # the whole transaction is lost: every job of the batch fails alike
                    results.append((False, exc))
                except Exception as exc:
                    if is_driver_unavailable(exc, connection.dialect.dbapi):
                        raise
                    if _is_driver_error(exc, connection, "IntegrityError"):
                        exc = DuplicateKey(str(exc))
                    results.append((False, exc))
                else:
                    results.append((True, value))
        return results

    def _connection_for(self, patience: float) -> sa.Connection:
        if self._connection is None:
            self._connection = self._connect()
            self._dbapi = self._connection.dialect.dbapi
        # Wait for the write lock no longer than the most patient-less job of the batch may wait.
        self._set_busy_timeout(self._connection, max(patience, 0.001))
        return self._connection

    def _drop_connection(self) -> None:
        if self._connection is not None:
            try:
                self._connection.invalidate()
                self._connection.close()
            except Exception:
                log.debug("closing a broken connection failed", exc_info=True)
            self._connection = None

    def _fail_all(self, jobs: list[_Job], exc: BaseException) -> None:
        if isinstance(exc, DatabaseUnavailable):
            log.warning("writes refused: %s", exc.reason)
            self._on_outcome(exc)
        for job in jobs:
            job.future.set_exception(exc)


def _is_driver_error(exc: Exception, connection: sa.Connection, name: str) -> bool:
    """Whether ``exc`` is the driver's own ``name`` error (raised by hand-written SQL, see fastsql)."""
    kind = getattr(connection.dialect.dbapi, name, None)
    return kind is not None and isinstance(exc, kind)
