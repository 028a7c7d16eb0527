"""Engines for SQLite (embedded default) and PostgreSQL, with the settings each needs."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import NullPool

from orderhub.services.ports import DatabaseUnavailable
from orderhub.store.pipelines import answer_before_reading

SQLITE_CACHE_KIB = 16 * 1024
# The WAL grows without bound while a reader holds an old snapshot (a checkpoint cannot pass it), and
# stayed at its peak on disk after (549 MB behind a 45 s reader, until the process stopped). With this
# limit, the commit that starts the WAL over once a checkpoint has passed truncates the file to it.
# Twice what the automatic checkpoint lets it reach (1000 pages), so that a WAL that grows no further
# than usual is never truncated and grown again.
SQLITE_WAL_LIMIT_BYTES = 8 * 1024 * 1024
# PostgreSQL: a connection kept out of the pool (a writer's, a reading thread's) idle for longer is checked
# before its next use (IdleCheck): the server may have closed it meanwhile (restarted, terminated it).
IDLE_CHECK_SECONDS = 1.0
# PostgreSQL: the longest a writer's statement waits for a row lock (wait_briefly_for_row_locks).
WRITER_LOCK_WAIT_MS = 100

# The driver binds str, int and float directly, but looks every other value up among its adapters,
# and for None that lookup fails through two attribute errors: ~0.2 µs a NULL, and an order binds a
# score of them. Registered, None is bound as NULL, as before, without the failing lookups.
sqlite3.register_adapter(type(None), lambda value: value)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases and for in-memory SQLite."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser().resolve()


def checkpoint_sqlite(url: str) -> None:
    """Copies every page of the WAL into the database file and empties the WAL, so that the file alone
    is the whole database (a clean stop leaves it so: a copy of it, or a restore, needs nothing beside
    it). Nothing for other databases, nor for a file that is not there (never creates one)."""
    path = sqlite_path(url)
    if path is None or not path.exists():
        return
    connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=5)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        connection.close()


def create_engine(
    url: str,
    *,
    sqlite_synchronous: str = "FULL",
    busy_timeout_seconds: float = 2.0,
    existing_file_only: bool = False,
    pool_size: int = 5,
) -> sa.Engine:
    """An engine for ``url``.

    ``existing_file_only`` opens a SQLite file read-write but never creates it: a long-running
    process whose file was deleted must notice, not start an empty database at the same path.
    """
    parsed = sa.make_url(url)
    common: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    if parsed.get_backend_name() == "postgresql":
        engine = sa.create_engine(
            parsed.set(drivername="postgresql+psycopg"), pool_pre_ping=True, pool_size=pool_size,
            max_overflow=2 * pool_size, pool_timeout=busy_timeout_seconds,
            connect_args={"connect_timeout": max(1, int(busy_timeout_seconds)), **_tcp_bounds(busy_timeout_seconds)},
            **common,
        )  # fmt: skip
        _configure_postgresql(engine, busy_timeout_seconds)
        return engine
    if parsed.get_backend_name() != "sqlite":
        raise ValueError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql://")
    path = sqlite_path(url)
    options: dict[str, Any] = {}
    if path is not None:
        _refuse_other_files(path)
        if not path.parent.is_dir():
            # Created, it would hide a mistyped --db: a new empty database in a new place, serving.
            raise DatabaseUnavailable(f"{path.parent} does not exist: create it, or check the database's path")
        if not existing_file_only:
            _create_owner_only(path)
        if existing_file_only:

            def connect() -> sqlite3.Connection:
                return sqlite3.connect(
                    f"file:{path}?mode=rw", uri=True, check_same_thread=False, timeout=busy_timeout_seconds
                )

            # Long-lived connections are held by their threads, so the pool keeps nothing.
            options = {"creator": connect, "poolclass": NullPool}
    if not options:
        options = {
            "connect_args": {"check_same_thread": False, "timeout": busy_timeout_seconds},
            "pool_size": pool_size,
            "max_overflow": 2 * pool_size,
            # A checkout waits no longer than a write may: a full pool is an answer, not a hang.
            "pool_timeout": busy_timeout_seconds,
        }
    engine = sa.create_engine(url, **options, **common)
    _configure_sqlite(engine, sqlite_synchronous, busy_timeout_seconds)
    return engine


# The first 16 bytes of every SQLite database file (an empty file is an empty database too).
_SQLITE_HEADER = b"SQLite format 3\x00"


def _refuse_other_files(path: Path) -> None:
    """A file that is there but no SQLite database (a --db naming the wrong file) is refused by name:
    SQLite would only say "file is not a database" at the first statement, without naming it, and
    "unable to open database file" for a directory."""
    try:
        is_dir = path.is_dir()
    except OSError as exc:  # a name too long for the file system: named, not a traceback
        raise DatabaseUnavailable(f"{path}: {exc.strerror}") from exc
    if is_dir:
        raise DatabaseUnavailable(f"{path} is a directory, not a SQLite database file (such as {path / 'orderhub.db'})")
    try:
        with path.open("rb") as file:
            header = file.read(len(_SQLITE_HEADER))
    except OSError:
        return  # not there, a directory, unreadable: opening it names what is wrong
    if header and header != _SQLITE_HEADER:
        raise DatabaseUnavailable(f"{path} is not a SQLite database")


def _create_owner_only(path: Path) -> None:
    """Creates a missing database file readable and writable by its owner only: it holds customers'
    personal data. SQLite gives its -wal and -shm files the mode of the database file. A file that is
    there keeps the mode its operator gave it."""
    with contextlib.suppress(FileExistsError):  # there already, or another process created it just now
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def statement_timeout_seconds(busy_timeout_seconds: float) -> float:
    """The longest a statement may run on PostgreSQL, and a request wait for its answer."""
    return max(busy_timeout_seconds * 5, 10.0)


def _tcp_bounds(busy_timeout_seconds: float) -> dict[str, int]:
    """libpq's TCP settings: a connection whose server stopped acknowledging (a network gone) fails
    after about as long as a statement may run, instead of whenever the kernel gives up."""
    seconds = statement_timeout_seconds(busy_timeout_seconds)
    return {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
            "tcp_user_timeout": int(seconds * 1000)}  # fmt: skip


def set_busy_timeout(connection: sa.Connection, seconds: float) -> None:
    """SQLite: how long a statement waits for another connection's write lock (PostgreSQL: nothing)."""
    if connection.dialect.name == "sqlite":
        # On the driver's connection: through SQLAlchemy the pragma would open a transaction.
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.execute(f"PRAGMA busy_timeout={int(seconds * 1000)}")


def sqlite_data_version(connection: sa.Connection) -> int:
    """SQLite: a number that moves whenever another connection commits. Reads shared memory only."""
    driver = connection.connection.driver_connection
    assert driver is not None
    (version,) = driver.execute("PRAGMA data_version").fetchone()
    return int(version)


def wait_briefly_for_row_locks(connection: sa.Connection) -> None:
    """PostgreSQL, a writer's connection: a statement waits for a row lock another transaction holds
    at most WRITER_LOCK_WAIT_MS (another process's batch commits within milliseconds). The job that
    waited is then undone and runs in the writer's next batch (store.write_batches.Contended): while it
    waits, its whole batch waits, and may hold what the other transaction waits for."""
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = {WRITER_LOCK_WAIT_MS}")
    driver.commit()


class IdleCheck:
    """When a connection kept out of the pool was last used. Without it, the first use after the server
    had closed it was answered 503, however long after the server was back (a writer's next batch, the
    next read of each reading thread)."""

    def __init__(self) -> None:
        self._used_at = time.monotonic()

    def lost(self, connection: sa.Connection) -> bool:
        """Whether ``connection``, about to be used, was idle for long and no longer answers."""
        now = time.monotonic()
        idle, self._used_at = now - self._used_at, now
        return idle > IDLE_CHECK_SECONDS and not still_answers(connection)


def still_answers(connection: sa.Connection) -> bool:
    """PostgreSQL, a connection kept out of the pool, between transactions: the pool's own check of a
    connection it hands out, whether the server still answers on it."""
    driver = connection.connection.dbapi_connection
    assert driver is not None
    try:
        connection.dialect.do_ping(driver)
        driver.rollback()
    except Exception:
        return False
    return True


def _configure_postgresql(engine: sa.Engine, busy_timeout_seconds: float) -> None:
    """Every wait bounded: a row lock held elsewhere, a statement that runs away, a transaction left
    open by a stuck client. A lock wait that runs out is a contention error the writer retries."""
    lock_ms = int(busy_timeout_seconds * 1000)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {max(lock_ms // 2, 50)}")
            cursor.execute(f"SET statement_timeout = {int(statement_timeout_seconds(busy_timeout_seconds) * 1000)}")
            cursor.execute("SET idle_in_transaction_session_timeout = 60000")
        dbapi_connection.commit()

    @sa.event.listens_for(engine, "after_cursor_execute")
    def _on_execute(_connection: Any, cursor: Any, *_: Any) -> None:
        answer_before_reading(cursor.connection)


def _configure_sqlite(engine: sa.Engine, synchronous: str, busy_timeout_seconds: float) -> None:
    busy_ms = int(busy_timeout_seconds * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA journal_size_limit={SQLITE_WAL_LIMIT_BYTES}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        # SQLite's default page cache is 2 MB: with a million orders the upper index levels no longer fit.
        # Bounded per connection (a handful per process); the OS page cache holds the rest of the file.
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        # Savepoints and multi-row statements keep the pages they change in a journal of their own; on
        # disk that was two write calls per page in a temporary file (about 60 a order, bench/README.md).
        # They only serve to undo part of a transaction, never to recover one: memory does.
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # A deferred transaction that reads and then writes can fail with SQLITE_BUSY without waiting;
        # writers take the write lock up front so the busy timeout applies and they simply queue.
        driver = connection.connection.driver_connection
        if driver is not None and driver.in_transaction:
            return  # a transaction begun on the driver itself (store.runtime reads): join it
        if connection.get_execution_options().get("read_only"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
