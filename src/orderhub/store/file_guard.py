"""The SQLite file under a running process: still there, still the same file, still writable."""

from __future__ import annotations

import os
from pathlib import Path

from orderhub.services.ports import DatabaseUnavailable


class SqliteFileGuard:
    """Notices a database file that was deleted, replaced or made read-only under a running process.

    SQLite keeps writing through descriptors it already holds, so without this check orders would be
    accepted into a file that no longer exists, or that the next start cannot open for writing.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._identity: tuple[int, int] | None = None

    def remember(self) -> None:
        stat = self._path.stat()
        self._identity = (stat.st_dev, stat.st_ino)

    def check(self) -> None:
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            raise DatabaseUnavailable(f"database file {self._path} is missing", retry_after=5) from None
        if self._identity is not None and (stat.st_dev, stat.st_ino) != self._identity:
            raise DatabaseUnavailable(f"database file {self._path} was replaced", retry_after=5)
        if not os.access(self._path, os.W_OK):
            raise DatabaseUnavailable(f"database file {self._path} is read-only", retry_after=5)
