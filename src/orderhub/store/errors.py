"""Which database errors mean "the database cannot be used right now", which mean "another
transaction was in the way, try again", and which are bugs."""

from __future__ import annotations

import sqlalchemy as sa

from orderhub.services.ports import Contention, DatabaseUnavailable

# SQLite reports a locked, read-only, full, vanished or broken file through OperationalError with
# these messages.
_SQLITE_UNAVAILABLE = (
    "database is locked",
    "database table is locked",
    "attempt to write a readonly database",
    "readonly database",
    "disk i/o error",
    "database or disk is full",
    "unable to open database file",
    "database disk image is malformed",
)
# PostgreSQL's SQLSTATE classes: connection exceptions, operator intervention (a terminated backend,
# a shutdown), insufficient resources, system errors.
_PG_UNAVAILABLE_CLASSES = ("08", "57", "53", "58")
# And these, from classes that hold bugs too: the database refuses every such statement until an operator
# or a failover sets it right, and orderhub's code has nothing to do with it. A read-only transaction (a
# standby after a failover, default_transaction_read_only), privileges revoked from orderhub's role, a
# session the server ended for idling in a transaction (idle_in_transaction_session_timeout).
_PG_UNAVAILABLE_STATES = ("25006", "42501", "25P03")
# Serialization failure, deadlock, lock not available (lock_timeout): the work may simply run again.
_PG_CONTENTION = ("40001", "40P01", "55P03")


def _sqlstate(error: BaseException | None) -> str | None:
    state = getattr(error, "sqlstate", None)
    return state if isinstance(state, str) else None


def is_unavailable(exc: sa.exc.DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    return is_driver_unavailable(exc.orig, None) if exc.orig is not None else False


def is_unavailable_message(message: str) -> bool:
    lowered = message.lower()
    return any(text in lowered for text in _SQLITE_UNAVAILABLE)


def is_driver_unavailable(exc: BaseException, dbapi: object) -> bool:
    """The same question for an error the driver raised itself (hand-written SQL, see fastsql)."""
    state = _sqlstate(exc)
    if state is not None:
        return state[:2] in _PG_UNAVAILABLE_CLASSES or state in _PG_UNAVAILABLE_STATES
    module = type(exc).__module__
    if module.startswith("psycopg"):
        # No SQLSTATE: the connection itself broke (closed, lost, never made).
        return type(exc).__name__ in ("OperationalError", "InterfaceError")
    return "sqlite" in module and is_unavailable_message(str(exc))


def failed_transaction(exc: BaseException) -> BaseException | None:
    """The error when it says only that the transaction, or the connection, failed before: an earlier
    error that a savepoint's caller caught (fulfilment's, around the order's own statement that met a
    lock), after which every statement fails too (25P02; pipelined, "pipeline aborted"), or a prepared
    statement the server does not have (26000, see ``prepared_statements_lost``). None of it is the
    job's: the batch is lost, and its connection made anew."""
    error = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    return error if after_failure(exc) or prepared_statements_lost(exc) else None


def after_failure(exc: BaseException) -> bool:
    """Whether ``exc`` says only that the transaction had failed before (25P02; pipelined, "pipeline
    aborted"): the error that failed it came earlier."""
    error = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    return _sqlstate(error) == "25P02" or type(error).__name__ == "PipelineAborted"


def prepared_statements_lost(exc: BaseException) -> BaseException | None:
    """The error when psycopg counts as prepared a statement the server does not have (26000): every
    later use fails, until the connection is made anew. A savepoint's rollback no longer leaves one
    behind (store.pipelines: psycopg's ways of losing count, and what the rollback does about them);
    this stays for a statement deallocated behind psycopg's back (a connection pooler in between, an
    operator's DEALLOCATE), so that one such error loses one batch, not every later one."""
    error = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    return error if _sqlstate(error) == "26000" else None


def is_contention(exc: BaseException) -> bool:
    """Another transaction was in the way (a deadlock, a lock wait that ran out): worth another try."""
    if isinstance(exc, Contention):  # as a savepoint raises it (FastSql.savepoint)
        return True
    error = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    return _sqlstate(error) in _PG_CONTENTION


def is_sqlite_busy(exc: sa.exc.DBAPIError) -> bool:
    """SQLite: another connection held the write lock past the busy timeout (not a broken or full file)."""
    return getattr(exc.orig, "sqlite_errorname", None) == "SQLITE_BUSY"


def unavailable_cause(exc: Exception, dbapi: object, *, lock_waits: bool = False) -> BaseException | None:
    """What says the database cannot be used right now, when ``exc`` means that; None for any other
    error. A savepoint raises DatabaseUnavailable for the driver's error (FastSql.savepoint): that error.
    ``lock_waits``: a lock wait that ran out (or a deadlock) counts too, as it does for a read, which
    waits only for a lock that DDL or LOCK TABLE holds (ALTER TABLE, VACUUM FULL): no work to run again
    but the operator's, and it was a 500 and a traceback a second in each background loop."""
    if isinstance(exc, DatabaseUnavailable):
        cause = exc.__cause__
        return unavailable_cause(cause, dbapi) if isinstance(cause, Exception) else None
    if lock_waits and is_contention(exc):
        return exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    if isinstance(exc, sa.exc.DBAPIError):
        return exc.orig if is_unavailable(exc) else None
    return exc if is_driver_unavailable(exc, dbapi) else None
