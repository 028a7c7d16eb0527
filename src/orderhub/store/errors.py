"""Which database errors mean "the database cannot be used right now" rather than a bug."""

from __future__ import annotations

import sqlalchemy as sa

# SQLite reports a locked, read-only, full, vanished or broken file through OperationalError with
# these messages; PostgreSQL's connection-level failures are flagged by the driver.
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


def is_unavailable(exc: sa.exc.DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        return is_unavailable_message(str(exc.orig)) or "sqlite" not in type(exc.orig).__module__
    return False


def is_unavailable_message(message: str) -> bool:
    lowered = message.lower()
    return any(text in lowered for text in _SQLITE_UNAVAILABLE)


def is_driver_unavailable(exc: BaseException, dbapi: object) -> bool:
    """The same question for an error the driver raised itself (hand-written SQL, see fastsql)."""
    operational = getattr(dbapi, "OperationalError", None)
    return operational is not None and isinstance(exc, operational) and is_unavailable_message(str(exc))
