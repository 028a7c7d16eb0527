"""The database as the request path and the worker use it: reads on long-lived per-thread
connections, writes through one group-commit writer, every wait bounded, every fault an answer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import sqlalchemy as sa

from orderhub.services.ports import DatabaseUnavailable, Work
from orderhub.store.config_versions import ConfigVersionPerTurn
from orderhub.store.database import (
    IdleCheck,
    create_engine,
    set_busy_timeout,
    sqlite_data_version,
    sqlite_path,
    statement_timeout_seconds,
    wait_briefly_for_row_locks,
)
from orderhub.store.errors import is_sqlite_busy, unavailable_cause
from orderhub.store.file_guard import SqliteFileGuard
from orderhub.store.group_commit import GroupCommitWriter
from orderhub.store.notifications import WORK_CHANNEL, WorkNotifications
from orderhub.store.read_snapshots import read_snapshot
from orderhub.store.tables import config_version
from orderhub.store.unit_of_work import BoundUnitOfWork
from orderhub.store.write_batches import BatchRunner
from orderhub.store.write_health import WriteHealth
from orderhub.store.write_refusals import postgres_write_refusal
from orderhub.store.writer_pool import WriterPool

log = logging.getLogger("orderhub.store")
T = TypeVar("T")
LONG_READ_THREADS = 2  # SQLite: long reads at once; more wait their turn, off the event loop too


class SqlDatabase:
    """Implements ``services.ports.Database`` over SQLAlchemy (SQLite or PostgreSQL)."""

    def __init__(
        self,
        url: str,
        *,
        write_timeout: float,
        sqlite_synchronous: str = "FULL",
        pool_size: int = 5,
        writers: int = 1,
    ) -> None:
        self._write_timeout = write_timeout
        # PostgreSQL: the longest a request waits for the server to answer (its statement_timeout too).
        self._answer_timeout = statement_timeout_seconds(write_timeout)
        self._path = sqlite_path(url)
        self._is_sqlite = sa.make_url(url).get_backend_name() == "sqlite"
        # SQLite: one writer (one write lock), whose batches run on the event loop that submitted them
        # (store.group_commit says why). PostgreSQL: ``writers`` side by side (store.writer_pool).
        writer_count = 1 if self._is_sqlite else max(writers, 1)
        # Long-lived connections: one per reading thread, one per writer; never created anew
        # for a request, and never creating a missing SQLite file.
        self._engine = create_engine(
            url,
            sqlite_synchronous=sqlite_synchronous,
            busy_timeout_seconds=write_timeout,
            existing_file_only=True,
            pool_size=pool_size + writer_count,  # the writers' connections are held for good
        )
        self._file_guard = SqliteFileGuard(self._path) if self._path is not None else None
        self._local = threading.local()
        self._write_health = WriteHealth(self._path)
        self._writer = WriterPool(
            [
                GroupCommitWriter(self._new_runner(), timeout=write_timeout, batches_on_loop=self._is_sqlite)
                for _ in range(writer_count)
            ]
        )
        self._notifications = WorkNotifications(url)
        # PostgreSQL reads wait on the server, so they run on threads, each holding a connection for
        # good: as many threads as the pool keeps connections. asyncio's default executor has up to 32
        # threads on a big host, more than the pool holds, and the reads past it would wait for a
        # connection and fail.
        self._read_threads = (
            None if self._is_sqlite else ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="orderhub-read")
        )
        # SQLite: reads whose time grows with the data go to threads of their own; the driver lets go
        # of the interpreter lock while SQLite searches, so the loop serves meanwhile.
        self._long_read_threads = self._read_threads or ThreadPoolExecutor(LONG_READ_THREADS, "orderhub-long-read")
        self._config_versions = ConfigVersionPerTurn(
            read_at_once=self._read_config_version if self._is_sqlite else None,
            read_away=lambda: self.read(lambda uow: uow.partners.config_version()),
        )

    @property
    def is_sqlite(self) -> bool:
        return self._is_sqlite

    # -- ports.Database ----------------------------------------------------------------------------

    async def read(self, work: Work[T]) -> T:
        if self._read_threads is None:
            # A SQLite read in WAL mode never waits for writers and takes tens of microseconds: a hop
            # to a thread pool would cost more than the read itself.
            return self.read_now(work)
        return await self.answered_in_time(
            asyncio.get_running_loop().run_in_executor(self._read_threads, self.read_now, work)
        )

    async def read_statement(self, work: Work[T]) -> T:
        if not self._is_sqlite:
            return await self.read(work)
        # Outside a transaction each statement is its own, as consistent as one begun for it: BEGIN and
        # ROLLBACK would double what the busiest read (an order's stamp) costs.
        return self._read(work, in_snapshot=False)

    async def read_long(self, work: Work[T]) -> T:
        if self._read_threads is not None:
            return await self.read(work)  # PostgreSQL reads are on threads already
        return await asyncio.get_running_loop().run_in_executor(self._long_read_threads, self.read_now, work)

    async def write(self, work: Work[T]) -> T:
        pending = self._writer.submit_async(work)  # type: ignore[arg-type]
        try:
            result: T = await (pending if self._is_sqlite else self.answered_in_time(pending))
        finally:
            # A refusal raised here holds this frame, and the future the refusal: a cycle per refused
            # write otherwise, left to the cyclic collector, whose pauses grew in a flood (bench/README.md).
            del pending
        return result

    async def write_statement(self, work: Work[T]) -> T:
        if self._read_threads is None:
            return await self.write(work)  # SQLite: one write lock, which the writer takes anyway
        # On a reading thread's connection, which commits each statement by itself (see ``_reader``).
        pending = asyncio.get_running_loop().run_in_executor(self._read_threads, self._read, work, False)
        return await self.answered_in_time(pending)

    async def answered_in_time(self, pending: Awaitable[T]) -> T:
        """``pending`` (work on a thread that waits on the database), or DatabaseUnavailable at
        ``_answer_timeout``: a server or network that stops answering holds that thread as long as TCP
        lets it (store.database bounds that too). A write may still commit once the server answers
        again: a retry with the same Idempotency-Key then gets that order."""
        inner = asyncio.ensure_future(pending)
        try:
            return await asyncio.wait_for(asyncio.shield(inner), self._answer_timeout)
        except TimeoutError:
            # It may still end, its caller long answered: its outcome taken, or asyncio logs it as lost.
            inner.add_done_callback(lambda done: done.cancelled() or done.exception())
            raise DatabaseUnavailable("the database did not answer in time") from None

    def read_now(self, work: Work[T]) -> T:
        return self._read(work, in_snapshot=True)

    def _read(self, work: Work[T], in_snapshot: bool) -> T:
        connection = self._reader()
        try:
            if not in_snapshot:
                return work(self._local.uow)
            with read_snapshot(connection, sqlite=self._is_sqlite):
                return work(self._local.uow)
        except Exception as exc:
            unavailable = unavailable_cause(exc, self._engine.dialect.dbapi, lock_waits=True)
            if unavailable is None:
                raise
            self._drop_reader()  # made anew for the next read
            raise DatabaseUnavailable(f"database unavailable: {unavailable}") from exc

    def write_now(self, work: Work[T]) -> T:
        return self._writer.submit(work).result()  # type: ignore[no-any-return]

    async def config_version(self) -> int:
        """The store's config version, read once per turn of the event loop (store.config_versions);
        on PostgreSQL on a reading thread (the loop never waits on the network)."""
        return await self._config_versions.get()

    def config_version_at_hand(self) -> int | None:
        return self._config_versions.at_hand()

    def _read_config_version(self) -> int:
        # SQLite. One statement needs no transaction of its own: this runs on every authenticated request.
        try:
            driver = self._reader().connection.driver_connection
            assert driver is not None
            (version,) = driver.execute("SELECT version FROM config_version WHERE id = 1").fetchone()
        except Exception as exc:
            self._drop_reader()
            raise DatabaseUnavailable(f"database unavailable: {exc}") from exc
        return int(version)

    def changed(self) -> bool:
        if not self._is_sqlite:
            return self._notifications.arrived()
        try:
            version = sqlite_data_version(self._reader())
        except Exception:
            self._drop_reader()
            return True  # let the caller look, and meet the real error there
        last = getattr(self._local, "data_version", None)
        self._local.data_version = version
        return last is not None and version != last

    # -- health ------------------------------------------------------------------------------------

    def probe_writable(self) -> DatabaseUnavailable | None:
        """Why the database cannot be written right now, or None. Takes and drops the write lock, and
        looks at the room the database has to grow (store.write_health)."""
        try:
            self._guard()
            no_room = self._write_health.room_problem()
            if no_room is not None:
                return no_room
            with self._engine.connect() as connection:
                set_busy_timeout(connection, min(self._write_timeout, 0.5))
                committed_before = sqlite_data_version(connection) if self._is_sqlite else None
                try:
                    with connection.begin():  # BEGIN IMMEDIATE on SQLite: the write lock itself
                        connection.execute(sa.select(config_version.c.version)).scalar()
                        refusal = None if self._is_sqlite else postgres_write_refusal(connection)
                    if refusal is not None:
                        # A session begun read-only stays so: the next probe's connection is made anew.
                        connection.invalidate()
                        return DatabaseUnavailable(f"database cannot be written: {refusal}")
                except sa.exc.OperationalError as exc:
                    # Others committing meanwhile (an import's chunks, the writer's batches) take the lock as
                    # it is let go: polling may never find it free. It moved: writes get through.
                    if not is_sqlite_busy(exc) or sqlite_data_version(connection) == committed_before:
                        raise
        except DatabaseUnavailable as exc:
            return exc
        except (sa.exc.DBAPIError, sa.exc.TimeoutError) as exc:
            return DatabaseUnavailable(f"database cannot be written: {getattr(exc, 'orig', exc)}")
        return None

    def close(self) -> None:
        self._notifications.close()
        self._long_read_threads.shutdown(wait=True)  # PostgreSQL: the reading threads themselves
        self._writer.close()
        self._drop_reader()
        self._engine.dispose()

    # -- internals ---------------------------------------------------------------------------------

    def _reader(self) -> sa.Connection:
        connection: sa.Connection | None = getattr(self._local, "connection", None)
        if connection is not None and not self._is_sqlite and self._local.idle.lost(connection):
            self._drop_reader()  # closed: the server closed it while it waited (store.database.IdleCheck)
        if connection is None or connection.closed:
            connection = self._connect().execution_options(read_only=True)
            if not self._is_sqlite:
                # READ COMMITTED: each statement reads a snapshot of its own, in a transaction or not; one
                # would add only its BEGIN and end, two round trips for a read of one statement.
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            self._local.connection = connection
            self._local.uow = BoundUnitOfWork(connection)
            self._local.idle = IdleCheck()
        return connection

    def _drop_reader(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            try:
                connection.invalidate()
                connection.close()
            except Exception:
                log.debug("closing a broken reader failed", exc_info=True)

    def _new_runner(self) -> BatchRunner:
        return BatchRunner(
            self._connect_writer,
            guard=self._guard,
            on_outcome=self._write_health.record,
            set_busy_timeout=set_busy_timeout,
            notify_channel=None if self._is_sqlite else WORK_CHANNEL,
        )

    def _connect(self) -> sa.Connection:
        try:
            return self._engine.connect()
        except (sa.exc.DBAPIError, sa.exc.TimeoutError) as exc:  # TimeoutError: the pool stayed full
            raise DatabaseUnavailable(f"database unavailable: {getattr(exc, 'orig', exc)}") from exc
        except OSError as exc:
            # No descriptor left for the connection's socket (psycopg raises it as it is): for now.
            raise DatabaseUnavailable(f"database unavailable: {exc}") from exc

    def _connect_writer(self) -> sa.Connection:
        connection = self._connect()
        if not self._is_sqlite:
            wait_briefly_for_row_locks(connection)
        if self._file_guard is not None:
            self._file_guard.remember()
        return connection

    def _guard(self) -> None:
        if self._file_guard is not None:
            self._file_guard.check()
