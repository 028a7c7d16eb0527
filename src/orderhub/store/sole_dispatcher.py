"""Whether this process is the only one delivering TMF622 events from a SQLite file.

A process that dies while delivering to a listener leaves its lease on it, and the listener waits for
the lease to run out. Where no other process delivers, the next one to start may clear such leases at
once; where another does, clearing them would let two processes send the same events at the same time.
A lock beside the database says which: held by the process that delivers, released by the system when
that process ends, however it ends."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path


class SoleDispatcherLock:
    def __init__(self, database_file: Path) -> None:
        self._path = database_file.with_name(database_file.name + "-dispatcher")
        self._fd: int | None = None

    def take(self) -> bool:
        """True when this process now holds the lock (no other process delivers from this file)."""
        if self._fd is not None:
            return True
        try:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return False  # a directory it may not write: the leases then run out as on PostgreSQL
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        """At a clean stop: the lock file goes too (only the lock's holder removes it)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self._path.unlink()
        os.close(self._fd)
        self._fd = None
