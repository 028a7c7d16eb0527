"""A connection to PostgreSQL that cannot be opened for want of a file descriptor is the database
being unavailable for now (503 with Retry-After), as a refused connection is, not an unexpected error.

psycopg raises the OSError of the selector it could not make as it is: a server at its descriptor
limit answered orders 500 ("group commit failed")."""

from __future__ import annotations

import asyncio
import errno
from typing import Any

import psycopg
import pytest

from orderhub.services.ports import DatabaseUnavailable
from orderhub.store.runtime import SqlDatabase


def _out_of_descriptors(*_: Any, **__: Any) -> psycopg.Connection[Any]:
    raise OSError(errno.EMFILE, "Too many open files")


def test_reads_and_writes_without_a_descriptor_for_a_connection_find_the_database_unavailable(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = SqlDatabase(pg_url, write_timeout=1)
    monkeypatch.setattr(psycopg, "connect", _out_of_descriptors)
    try:
        with pytest.raises(DatabaseUnavailable, match="Too many open files"):
            asyncio.run(database.read(lambda uow: None))
        with pytest.raises(DatabaseUnavailable, match="Too many open files"):
            asyncio.run(database.write(lambda uow: None))
    finally:
        monkeypatch.undo()
        database.close()
