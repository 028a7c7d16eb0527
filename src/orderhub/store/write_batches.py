"""Running a batch of writes in one transaction on the writer's connection, and committing it.

The two halves are apart because they may run on different threads: on SQLite the batch runs on the
event loop that submitted it and only the COMMIT (an fsync, during which the driver lets go of the
GIL) runs on the writer thread (store.group_commit). A piece of work that raises is undone alone: on
SQLite the runner sees from the connection's change counter whether it wrote anything before raising,
and if it did, runs the batch again without it; elsewhere each piece runs in a savepoint.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from orderhub.domain.errors import DomainError
from orderhub.services.ports import DatabaseUnavailable, DuplicateKey, Refusal
from orderhub.store import errors as database_errors
from orderhub.store.database import IdleCheck
from orderhub.store.errors import is_contention, is_driver_unavailable, is_unavailable, unavailable_cause
from orderhub.store.fastsql import FastSql
from orderhub.store.unit_of_work import BoundUnitOfWork

log = logging.getLogger("orderhub.store.writer")

LOCK_RETRY_SECONDS = 0.0003
COMMIT_LOCK_WAIT_MIN_MS = 100  # what a commit whose batch is already due still waits for a lock

Outcome = tuple[bool, Any]  # (True, result) or (False, exception)
Work = Callable[[BoundUnitOfWork], Any]


@dataclass(frozen=True)
class WriteJob:
    work: Work
    # When its caller stops waiting: past it the job is not run at all.
    deadline: float


@dataclass
class RanBatch:
    """A batch that ran: its outcomes, which stand once ``transaction`` (if any) is committed."""

    outcomes: list[Outcome]
    transaction: sa.RootTransaction | None = None


class WriteLockBusy(Exception):
    """Another connection holds SQLite's write lock and the caller asked not to wait for it."""


class _TransactionLost(Exception):
    """The database failed under the batch: every job of it fails alike."""


class _BatchContended(Exception):
    """The batch's commit met another transaction's lock and gave up waiting: every job is undone."""


class Contended(Exception):
    """A job met another transaction's row locks (PostgreSQL: a lock wait that ran out, a deadlock) and
    was undone; its writer runs it again in a later batch (store.group_commit), not in this one: its own
    locks may be what the other waits for (two processes' batches each holding a line another order of
    theirs wants); retried within it, every order of the batch waited with it."""


class BatchRunner:
    """Owns the writer's connection; whoever calls it must be the only one using it at that time."""

    def __init__(
        self,
        connect: Callable[[], sa.Connection],
        *,
        guard: Callable[[], None],
        on_outcome: Callable[[DatabaseUnavailable | None, int], None],
        set_busy_timeout: Callable[[sa.Connection, float], None],
        notify_channel: str | None,
    ) -> None:
        self._connect = connect
        # Raises DatabaseUnavailable when the database must not be written (file gone, read-only).
        self._guard = guard
        self._on_outcome = on_outcome
        self._set_busy_timeout = set_busy_timeout
        # PostgreSQL: each batch tells listening workers (other processes) that the database changed.
        self._notify = f"NOTIFY {notify_channel}" if notify_channel else None
        self._connection: sa.Connection | None = None
        self._uow: BoundUnitOfWork | None = None
        self._idle = IdleCheck()

    def run(self, batch: Sequence[WriteJob], *, wait_for_lock: bool) -> RanBatch:
        """Runs every job still wanted in one open transaction; raises WriteLockBusy when
        ``wait_for_lock`` is false and another connection holds the write lock."""
        now = time.monotonic()
        late = DatabaseUnavailable("the database was not available in time")
        outcomes: list[Outcome | None] = [(False, late) if job.deadline <= now else None for job in batch]
        live = [job for job, outcome in zip(batch, outcomes, strict=True) if outcome is None]
        if not live:
            return RanBatch([outcome for outcome in outcomes if outcome is not None])
        try:
            self._guard()
            connection = self._connection_for()
            deadline = min(job.deadline for job in live) if wait_for_lock else None
            transaction, results = self._run_jobs(connection, live, deadline)
        except DatabaseUnavailable as exc:
            return self._refused(outcomes, exc)
        except (sa.exc.DBAPIError, _TransactionLost) as exc:
            return self._refused(outcomes, self._lost(exc))
        for ok, value in results:
            if not ok and value.__traceback__ is not None:
                # A failed job's traceback holds this batch's frames, so its jobs, futures and this error:
                # a cycle, kept until the cyclic collector's pauses (the p99 in a flood of refusals,
                # bench/README.md). A refusal keeps no traceback; another error its lines, not locals.
                if isinstance(value, DomainError | Refusal | Contended):
                    value.__traceback__ = None
                else:
                    traceback.clear_frames(value.__traceback__)
        ran = iter(results)
        return RanBatch([outcome or next(ran) for outcome in outcomes], transaction)

    def finish(self, ran: RanBatch) -> list[Outcome]:
        """Commits what ``run`` left open; the outcomes to answer."""
        if ran.transaction is None:
            return ran.outcomes
        try:
            ran.transaction.commit()
        except sa.exc.DBAPIError as exc:
            return self._refused([None] * len(ran.outcomes), self._lost(exc)).outcomes
        self._on_outcome(None, len(ran.outcomes))
        return ran.outcomes

    def close(self) -> None:
        self._drop_connection()

    def _refused(self, outcomes: list[Outcome | None], exc: DatabaseUnavailable) -> RanBatch:
        # Logged by on_outcome's owner (store.write_health), once for a run of refusals, not per batch.
        self._on_outcome(exc, outcomes.count(None))
        return RanBatch([outcome or (False, exc) for outcome in outcomes])

    def _lost(self, exc: sa.exc.DBAPIError | _TransactionLost) -> DatabaseUnavailable:
        """Drops the connection the database failed under; what its writes are refused with."""
        self._drop_connection()
        cause = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc.__cause__
        if isinstance(exc, sa.exc.DBAPIError) and not is_unavailable(exc):
            log.error("group commit failed", exc_info=exc)
        return DatabaseUnavailable(f"database unavailable: {cause}")

    def _run_jobs(
        self, connection: sa.Connection, jobs: Sequence[WriteJob], deadline: float | None
    ) -> tuple[sa.RootTransaction | None, list[Outcome]]:
        driver = connection.connection.driver_connection
        counts_changes = hasattr(driver, "total_changes")
        refused: dict[int, Exception] = {}
        while True:
            transaction = self._begin(connection, deadline)
            try:
                results = self._attempt(connection, jobs, refused, counts_changes)
            except _BatchContended:  # each job runs again in a later batch, as one that met a lock does
                transaction.rollback()
                return None, [(False, refused.get(index) or Contended()) for index in range(len(jobs))]
            except BaseException:
                transaction.rollback()
                raise
            if results is not None:
                return transaction, results
            transaction.rollback()

    def _attempt(
        self, connection: sa.Connection, jobs: Sequence[WriteJob], refused: dict[int, Exception], counts_changes: bool
    ) -> list[Outcome] | None:
        """One try at the batch; None when a job wrote before it raised and the batch must run again."""
        uow = self._uow
        assert uow is not None, "set with the connection"
        driver: Any = connection.connection.driver_connection
        results: list[Outcome] = []
        with self._pipelined(connection, counts_changes):
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
                        return None
                    results.append((False, error))
                else:
                    results.append((True, value))
            if not counts_changes:
                sql = FastSql(connection)
                if self._notify is not None:
                    sql.execute(self._notify)
                # The commit of a transaction that notified waits for a lock every such commit holds
                # while its record is flushed: on a loaded disk longer than a row lock's brief wait, and
                # with no lock of ours in its way. So it may wait until the first job's deadline.
                sql.execute("SELECT set_config('lock_timeout', ?, true)", (_ms_until(jobs),))
                # Answered as the pipeline closes, with everything before it: a round trip fewer a
                # batch than committing after. The transaction's commit() then finds nothing to do.
                sql.execute("COMMIT")
        return results

    @staticmethod
    @contextmanager
    def _pipelined(connection: sa.Connection, counts_changes: bool) -> Iterator[None]:
        """PostgreSQL: the batch's statements go out pipelined (store.fastsql), each job in its savepoint.
        A connection that fails on the way into or out of the pipeline loses the batch, as a statement
        that fails on it does."""
        if counts_changes:
            yield
            return
        try:
            with FastSql(connection).pipelined():
                yield
        except Exception as exc:
            if is_driver_unavailable(exc, connection.dialect.dbapi) or database_errors.failed_transaction(exc):
                raise _TransactionLost() from exc
            if is_contention(exc):
                # Met by the COMMIT, after every job's savepoint: the whole batch is undone.
                raise _BatchContended() from exc
            raise

    @staticmethod
    def _in_savepoint(uow: BoundUnitOfWork, job: WriteJob) -> Any:
        """Runs the job in a savepoint; Contended when another process's transaction was in the way."""
        try:
            with uow.savepoint():
                return job.work(uow)
        except Exception as exc:
            if is_contention(exc):
                raise Contended() from None
            raise

    @staticmethod
    def _job_error(exc: Exception, connection: sa.Connection) -> Exception:
        """What the job's caller gets; raises _TransactionLost when the whole batch is lost."""
        dbapi = connection.dialect.dbapi
        lost = unavailable_cause(exc, dbapi) or database_errors.prepared_statements_lost(exc)
        if lost is not None:
            raise _TransactionLost() from lost
        if isinstance(exc, sa.exc.DBAPIError):
            return DuplicateKey(str(exc.orig)) if isinstance(exc, sa.exc.IntegrityError) else exc
        integrity = getattr(dbapi, "IntegrityError", None)
        if integrity is not None and isinstance(exc, integrity):
            return DuplicateKey(str(exc))
        return exc

    @staticmethod
    def _begin(connection: sa.Connection, deadline: float | None) -> sa.RootTransaction:
        """Begins the batch's transaction, waiting for the write lock until ``deadline`` at most
        (None: not at all, WriteLockBusy instead).

        SQLite's own busy handler sleeps up to 100 ms between tries; while another process commits
        every few milliseconds that turns into long stalls, so the writer asks again every 0.3 ms.
        """
        while True:
            try:
                return connection.begin()
            except sa.exc.OperationalError as exc:
                if "locked" not in str(exc.orig):
                    raise
                if deadline is None:
                    raise WriteLockBusy() from exc
                if time.monotonic() >= deadline:
                    raise
            time.sleep(LOCK_RETRY_SECONDS)

    def _connection_for(self) -> sa.Connection:
        if self._connection and self._notify and self._idle.lost(self._connection):
            self._drop_connection()  # the server closed it while it waited (store.database.IdleCheck)
        if self._connection is None:
            connection = self._connect()
            # Waiting for the lock is _begin's business: SQLite itself should not wait.
            self._set_busy_timeout(connection, 0)
            self._connection = connection
            self._uow = BoundUnitOfWork(connection)
        return self._connection

    def _drop_connection(self) -> None:
        if self._connection is not None:
            try:
                self._connection.invalidate()
                self._connection.close()
            except Exception:
                log.debug("closing a broken connection failed", exc_info=True)
            self._connection = None


def _ms_until(jobs: Sequence[WriteJob]) -> str:
    """Milliseconds until the earliest job's deadline (at least COMMIT_LOCK_WAIT_MIN_MS)."""
    return str(max(int((min(job.deadline for job in jobs) - time.monotonic()) * 1000), COMMIT_LOCK_WAIT_MIN_MS))
