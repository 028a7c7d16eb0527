"""One writer thread that commits every write that arrived meanwhile in one transaction.

SQLite lets one writer in at a time and each commit costs an fsync; sharing the transaction keeps the
database off the critical path. A piece of work that raises is undone alone: on SQLite the writer sees
from the connection's change counter whether it wrote anything before raising, and if it did, runs
the batch again without it; elsewhere each piece runs in a savepoint. Answers are released only after
the shared commit returned, with one wake-up of each waiting event loop per batch.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from orderhub.services.ports import DatabaseUnavailable, DuplicateKey
from orderhub.store.errors import is_contention, is_driver_unavailable, is_unavailable
from orderhub.store.unit_of_work import BoundUnitOfWork

log = logging.getLogger("orderhub.store.writer")

# Enough to amortise the commit, small enough that one transaction stays a few milliseconds long.
MAX_BATCH = 512

LOCK_RETRY_SECONDS = 0.0003
# How often a job that met another transaction's locks runs again before its caller gets a 503.
CONTENTION_RETRIES = 3

Outcome = tuple[bool, Any]  # (True, result) or (False, exception)


@dataclass
class _Job:
    work: Callable[[BoundUnitOfWork], Any]
    deadline: float
    # Exactly one of the two: a thread waits on a concurrent future, a coroutine on an asyncio one.
    future: Future[Any] | None = None
    loop: asyncio.AbstractEventLoop | None = None
    awaitable: asyncio.Future[Any] | None = None


class _TransactionLost(Exception):
    """The database failed under the batch: every job of it fails alike."""


class GroupCommitWriter:
    def __init__(
        self,
        connect: Callable[[], sa.Connection],
        *,
        timeout: float,
        guard: Callable[[], None] = lambda: None,
        on_outcome: Callable[[DatabaseUnavailable | None], None] = lambda _error: None,
        set_busy_timeout: Callable[[sa.Connection, float], None] = lambda _c, _s: None,
        notify_channel: str | None = None,
    ) -> None:
        self._connect = connect
        self._timeout = timeout
        # Raises DatabaseUnavailable when the database must not be written (file gone, read-only).
        self._guard = guard
        self._on_outcome = on_outcome
        self._set_busy_timeout = set_busy_timeout
        # PostgreSQL: each batch tells listening workers (other processes) that the database changed.
        self._notify = f"NOTIFY {notify_channel}" if notify_channel else None
        self._queue: deque[_Job] = deque()
        self._ready = threading.Condition()
        self._connection: sa.Connection | None = None
        self._uow: BoundUnitOfWork | None = None
        self._dbapi: object = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="orderhub-writer", daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[BoundUnitOfWork], Any]) -> Future[Any]:
        """For threads: a future that holds the work's result once it is committed."""
        job = _Job(work, time.monotonic() + self._timeout, future=Future())
        self._enqueue(job)
        assert job.future is not None
        return job.future

    def submit_async(self, work: Callable[[BoundUnitOfWork], Any]) -> asyncio.Future[Any]:
        """For coroutines: an awaitable that holds the work's result once it is committed."""
        loop = asyncio.get_running_loop()
        job = _Job(work, time.monotonic() + self._timeout, loop=loop, awaitable=loop.create_future())
        self._enqueue(job)
        assert job.awaitable is not None
        return job.awaitable

    def close(self, timeout: float = 10.0) -> None:
        with self._ready:
            self._stopping = True
            self._ready.notify()
        self._thread.join(timeout)

    def _enqueue(self, job: _Job) -> None:
        with self._ready:
            if self._stopping:
                raise DatabaseUnavailable("the service is shutting down")
            self._queue.append(job)
            self._ready.notify()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._stopping:
                    self._ready.wait()
                if not self._queue:
                    break
                count = min(len(self._queue), MAX_BATCH)
                batch = [self._queue.popleft() for _ in range(count)]
            try:
                self._settle(batch, self._commit(batch))
            except Exception as exc:  # a bug in the writer itself: fail the batch, keep the thread
                log.exception("group commit failed")
                self._settle(batch, [(False, exc)] * len(batch))
        self._drop_connection()

    def _commit(self, batch: list[_Job]) -> list[Outcome]:
        now = time.monotonic()
        late = DatabaseUnavailable("the database was not available in time")
        outcomes: list[Outcome | None] = [(False, late) if job.deadline <= now else None for job in batch]
        live = [job for job, outcome in zip(batch, outcomes, strict=True) if outcome is None]
        if not live:
            return [outcome for outcome in outcomes if outcome is not None]
        try:
            self._guard()
            connection = self._connection_for()
            results = iter(self._run_jobs(connection, live, deadline=min(job.deadline for job in live)))
        except DatabaseUnavailable as exc:
            log.warning("writes refused: %s", exc.reason)
            self._on_outcome(exc)
            return [outcome or (False, exc) for outcome in outcomes]
        except (sa.exc.DBAPIError, _TransactionLost) as exc:
            self._drop_connection()
            cause = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc.__cause__
            if isinstance(exc, sa.exc.DBAPIError) and not is_unavailable(exc):
                log.exception("group commit failed")
            unavailable = DatabaseUnavailable(f"database unavailable: {cause}")
            log.warning("writes refused: %s", unavailable.reason)
            self._on_outcome(unavailable)
            return [outcome or (False, unavailable) for outcome in outcomes]
        self._on_outcome(None)
        return [outcome or next(results) for outcome in outcomes]

    def _run_jobs(self, connection: sa.Connection, jobs: list[_Job], *, deadline: float) -> list[Outcome]:
        driver = connection.connection.driver_connection
        counts_changes = hasattr(driver, "total_changes")
        refused: dict[int, Exception] = {}
        while True:
            results = self._attempt(connection, jobs, refused, counts_changes, deadline)
            if results is not None:
                return results

    def _attempt(
        self,
        connection: sa.Connection,
        jobs: list[_Job],
        refused: dict[int, Exception],
        counts_changes: bool,
        deadline: float,
    ) -> list[Outcome] | None:
        """One try at the batch; None when a job wrote before it raised and the batch must run again."""
        uow = self._uow
        assert uow is not None, "set with the connection"
        driver: Any = connection.connection.driver_connection
        results: list[Outcome] = []
        with self._begin(connection, deadline) as transaction:
            for index, job in enumerate(jobs):
                if index in refused:
                    results.append((False, refused[index]))
                    continue
                before = driver.total_changes if counts_changes else 0
                try:
                    value = job.work(uow) if counts_changes else self._in_savepoint(uow, job)
                except Exception as exc:
                    error = self._job_error(exc, connection)
                    if counts_changes and driver.total_changes != before:
                        refused[index] = error
                        transaction.rollback()
                        return None
                    results.append((False, error))
                else:
                    results.append((True, value))
            if self._notify is not None:
                connection.exec_driver_sql(self._notify)
        return results

    @staticmethod
    def _in_savepoint(uow: BoundUnitOfWork, job: _Job) -> Any:
        """Runs the job in a savepoint; a deadlock or a lock wait that ran out (another process's
        transaction in the way, PostgreSQL) runs it again, a few times, before it counts as failed."""
        for attempt in range(CONTENTION_RETRIES + 1):
            try:
                with uow.savepoint():
                    return job.work(uow)
            except Exception as exc:
                if not is_contention(exc):
                    raise
                if attempt == CONTENTION_RETRIES or time.monotonic() >= job.deadline:
                    raise DatabaseUnavailable("the database is too busy right now", retry_after=1) from exc
                time.sleep(0.005 * (attempt + 1))
        raise AssertionError("unreachable")

    def _job_error(self, exc: Exception, connection: sa.Connection) -> Exception:
        """What the job's caller gets; raises _TransactionLost when the whole batch is lost."""
        dbapi = connection.dialect.dbapi
        if isinstance(exc, sa.exc.DBAPIError):
            if is_unavailable(exc):
                raise _TransactionLost() from exc.orig
            return DuplicateKey(str(exc.orig)) if isinstance(exc, sa.exc.IntegrityError) else exc
        if is_driver_unavailable(exc, dbapi):
            raise _TransactionLost() from exc
        integrity = getattr(dbapi, "IntegrityError", None)
        if integrity is not None and isinstance(exc, integrity):
            return DuplicateKey(str(exc))
        return exc

    def _settle(self, batch: list[_Job], outcomes: list[Outcome]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Outcome]]] = {}
        for job, outcome in zip(batch, outcomes, strict=True):
            if job.future is not None:
                ok, value = outcome
                if ok:
                    job.future.set_result(value)
                else:
                    job.future.set_exception(value)
            elif job.loop is not None and job.awaitable is not None:
                by_loop.setdefault(job.loop, []).append((job.awaitable, outcome))
        for loop, settled in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, settled)
            except RuntimeError:
                log.warning("an event loop closed before its %d writes were answered", len(settled))

    def _begin(self, connection: sa.Connection, deadline: float) -> sa.RootTransaction:
        """Begins the batch's transaction, waiting for the write lock until ``deadline`` at most.

        SQLite's own busy handler sleeps up to 100 ms between tries; while another process commits
        every few milliseconds that turns into long stalls, so the writer asks again every 0.3 ms.
        """
        while True:
            try:
                return connection.begin()
            except sa.exc.OperationalError as exc:
                if "locked" not in str(exc.orig) or time.monotonic() >= deadline:
                    raise
            time.sleep(LOCK_RETRY_SECONDS)

    def _connection_for(self) -> sa.Connection:
        if self._connection is None:
            connection = self._connect()
            # Waiting for the lock is _begin's business: SQLite itself should not wait.
            self._set_busy_timeout(connection, 0)
            self._connection = connection
            self._uow = BoundUnitOfWork(connection)
            self._dbapi = connection.dialect.dbapi
        return self._connection

    def _drop_connection(self) -> None:
        if self._connection is not None:
            try:
                self._connection.invalidate()
                self._connection.close()
            except Exception:
                log.debug("closing a broken connection failed", exc_info=True)
            self._connection = None


def _resolve(settled: list[tuple[asyncio.Future[Any], Outcome]]) -> None:
    for awaitable, (ok, value) in settled:
        if awaitable.done():  # its caller went away (a client that disconnected)
            continue
        if ok:
            awaitable.set_result(value)
        else:
            awaitable.set_exception(value)
