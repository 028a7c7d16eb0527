"""The read transaction of a reading thread's connection (store.runtime)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa


@contextmanager
def read_snapshot(connection: sa.Connection, *, sqlite: bool) -> Iterator[None]:
    """One read transaction, begun on the driver: SQLAlchemy's begin() costs more than the reads.
    On PostgreSQL only SQLAlchemy's: its readers send no BEGIN (see ``SqlDatabase._reader``)."""
    if not sqlite:
        with connection.begin():
            yield
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("BEGIN")
    try:
        yield
    finally:
        # Core statements inside joined the driver's transaction (see store.database); end both.
        if connection.in_transaction():
            connection.rollback()
        elif driver.in_transaction:
            driver.execute("ROLLBACK")
