"""Hand-written SQL on the driver's own connection, for the statements every order runs.

SQLAlchemy Core spends 30 to 100 µs building, caching and binding each statement; the hot paths run a
dozen statements per order, so they talk to the driver directly (about 7 µs each) and convert values
here. The SQL is plain ANSI with RETURNING, so SQLite (3.35+) and PostgreSQL both run it.

On PostgreSQL a writer's batch runs *pipelined* (``FastSql.pipelined``): a statement whose answer the
caller does not read is sent without waiting for it, and the next one that is read (or the end of a
savepoint) collects every answer before it in the same round trip. A loopback round trip costs ~0.1 ms
here, about what a statement costs the server, and an order runs ~15 (bench/README.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa

from orderhub.services.ports import Contention, DatabaseUnavailable
from orderhub.store import pipelines
from orderhub.store.errors import is_contention, unavailable_cause

# One name for every savepoint: SQLite and PostgreSQL both release and roll back to the innermost
# savepoint of a name, which is what nested ``with`` blocks need, and the driver then compiles the two
# statements once instead of once per order (a name per savepoint cost 25 µs an order).
_SAVEPOINT = "orderhub_savepoint"


class FastSql:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection
        self._sqlite = connection.dialect.name == "sqlite"
        self._qmark = connection.dialect.paramstyle == "qmark"
        self._pooled: Any = None
        self._driver: Any = None

    def _driver_connection(self) -> Any:
        # The pooled connection is looked up per call (it may have been invalidated and replaced in
        # between); its driver connection only when it changed.
        pooled = self._connection.connection
        if pooled is not self._pooled:
            self._pooled, self._driver = pooled, pooled.driver_connection
        return self._driver

    def _sql(self, sql: str) -> str:
        return sql if self._qmark else sql.replace("?", "%s")

    # Each statement runs on a cursor that the driver makes in C from its connection and frees with
    # its last reference, right after it is read: a cursor opened and closed here, and one more
    # Python call per statement, cost ~1 % of an order.

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Runs a statement whose answer the caller does not need. Pipelined, it is only sent: an error
        it meets is raised by the next statement whose answer is read, or at the end of the savepoint
        around it, which undoes it as before; use ``execute_now`` to handle an error on the spot."""
        driver = self._driver_connection()
        if self._qmark:
            driver.execute(sql, params)
            return
        driver.execute(self._sql(sql), params)
        pipelines.sent(driver)

    def execute_now(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Runs a statement and waits for its answer: the number of rows it changed."""
        driver = self._driver_connection()
        if self._qmark:
            return int(driver.execute(sql, params).rowcount)
        cursor = driver.execute(self._sql(sql), params)
        pipelines.answer_before_reading(driver)
        return int(cursor.rowcount)

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """``execute`` for each of ``rows``."""
        driver = self._driver_connection()
        if self._sqlite:
            driver.executemany(sql, rows)
            return
        with driver.cursor() as cursor:  # psycopg's connection has no executemany of its own
            cursor.executemany(self._sql(sql), rows)
        pipelines.sent(driver)

    def execute_rows(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Runs a statement once per row (one row, the most common case, without executemany's overhead)."""
        if len(rows) == 1:
            self.execute(sql, rows[0])
        elif rows:
            self.execute_many(sql, rows)

    # A read waits for its answer, and so for those of every statement sent before it (answers come in
    # order): raising, pipelined, the first error among them.

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        driver = self._driver_connection()
        row = driver.execute(sql if self._qmark else self._sql(sql), params).fetchone()
        if not self._qmark:
            pipelines.answered(driver)
        return tuple(row) if row is not None else None

    def one_later(self, sql: str, params: Sequence[Any] = ()) -> Callable[[], tuple[Any, ...] | None]:
        """``one``, its answer read when the returned function is called. Pipelined, the statement is
        only sent: its answer comes in with the next statement whose answer is read, or is waited for
        when asked for first. Elsewhere it runs at once."""
        driver = self._driver_connection()
        if self._qmark:
            row = driver.execute(sql, params).fetchone()
            return lambda: tuple(row) if row is not None else None
        cursor = driver.execute(self._sql(sql), params)
        pipelines.sent(driver)

        def answer() -> tuple[Any, ...] | None:
            # Waiting for this answer collects every one sent before it; already in, it collects nothing.
            waited = cursor.pgresult is None
            row = cursor.fetchone()
            if waited:
                pipelines.answered(driver)
            return tuple(row) if row is not None else None

        return answer

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        driver = self._driver_connection()
        rows = driver.execute(sql if self._qmark else self._sql(sql), params).fetchall()
        if not self._qmark:
            pipelines.answered(driver)
        return [tuple(row) for row in rows]

    @property
    def sqlite(self) -> bool:
        return self._sqlite

    def lock_row(self, table: str, column: str, value: Any) -> None:
        """Holds the row until the transaction ends, so that rules read on it cannot change under the
        caller (PostgreSQL: other processes write at the same time). SQLite has one writer at a time
        already: nothing to do there."""
        if not self._sqlite:
            self.one(f"SELECT 1 FROM {table} WHERE {column} = ? FOR UPDATE", (value,))

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A savepoint in the current transaction: an exception inside undoes only what ran inside. A
        lock wait that ran out or a deadlock inside is raised as services' Contention (work to run again,
        not a fault), and an error that says the database cannot be used now (read-only, privileges
        revoked, a statement timeout: store.errors) as DatabaseUnavailable, so that the services tell
        them from a bug without knowing the driver."""
        name = _SAVEPOINT
        driver = self._driver_connection()
        pipeline = None if self._sqlite else pipelines.on(driver)
        try:
            if pipeline is not None:
                with pipelines.savepoint(driver, pipeline, name):
                    yield
                return
            self.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                self.execute(f"ROLLBACK TO SAVEPOINT {name}")
                self.execute(f"RELEASE SAVEPOINT {name}")
                raise
            self.execute(f"RELEASE SAVEPOINT {name}")
        except Exception as exc:
            if not isinstance(exc, Contention) and is_contention(exc):
                raise Contention(str(exc).partition("\n")[0]) from exc
            lost = None if isinstance(exc, DatabaseUnavailable) else unavailable_cause(exc, None)
            if lost is not None:
                raise DatabaseUnavailable(f"database unavailable: {lost}") from exc
            raise

    @contextmanager
    def pipelined(self) -> Iterator[None]:
        """PostgreSQL: statements run in the block are sent without waiting for answers nobody reads
        (see ``execute``). The caller owns the connection for the block. SQLite: nothing changes."""
        if self._sqlite:
            yield
            return
        with pipelines.opened(self._driver_connection()):
            yield

    # -- values, stored as the SQLAlchemy column types of store.types and store.tables store them ----

    def time(self, value: datetime | None) -> Any:
        if value is None:
            return None
        if not self._sqlite:
            return _utc(value).replace(tzinfo=None)
        # An order's writes store a few instants a dozen times (its "now", an activation date and the
        # periods it starts): each is converted once (~1.4 µs each time before).
        text = _texts.get(value)
        if text is None:
            text = _sqlite_text(value)
            if len(_texts) >= _MAX_TEXTS:
                _texts.clear()
            _texts[value] = text
        return text

    def json(self, value: Any) -> Any:
        text = orjson.dumps(value).decode()
        if self._sqlite:
            return text
        from psycopg.types.json import Json  # only reached on PostgreSQL

        return Json(value)

    @staticmethod
    def decimal(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    def flag(self, value: bool) -> Any:
        return int(value) if self._sqlite else value


def _utc(value: datetime) -> datetime:
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; use aware UTC datetimes")
    return value.astimezone(UTC)


def _sqlite_text(value: datetime) -> str:
    """The instant as SQLAlchemy's SQLite DateTime stores it: UTC, naive, to the microsecond."""
    return _utc(value).isoformat(" ", "microseconds")[:-6]  # without its "+00:00"


# Instants converted lately and their text (aware datetimes are equal, and hash alike, by instant).
# Threads share it: each get and set is one step under the interpreter lock, and a clear only costs
# conversions again.
_texts: dict[datetime, str] = {}
_MAX_TEXTS = 1024


def read_time(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC)


def read_json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def read_decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)
