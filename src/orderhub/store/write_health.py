"""How the writer's batches have been going, for the log and for ``/readyz``.

The log: a full disk refused a batch every few milliseconds, and each refusal logged a line (a
thousand in seven seconds), burying everything else. Now one line when writes start being refused,
at most one every SUMMARY_EVERY_SECONDS while they still are (with how many were refused meanwhile),
and one when they succeed again.

Readiness: with the disk full, the probe still took the write lock and read a row, and so said ready
while every write was refused. A write small enough to fit in the WAL's space already allocated
would not tell either. So the probe looks at the free space on the database's filesystem, and, while
the writer's last batch was refused for want of room, at whether a file beside the database can grow
by ROOM_BYTES now: both heal without traffic, which a load balancer stops sending to a node that is
not ready.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from orderhub.metrics import DB_WRITES_REFUSED
from orderhub.services.ports import DatabaseUnavailable

log = logging.getLogger("orderhub.store.writer")

SUMMARY_EVERY_SECONDS = 5.0
# Below this free on the database's filesystem a batch of orders may not fit; also what the probe's
# test write must be able to add. Small against any disk, large against one batch's WAL frames.
ROOM_BYTES = 1024 * 1024
# A write cut short by a full disk is SQLITE_FULL; one refused outright with an error other than
# ENOSPC (a quota: EDQUOT, a file size limit: EFBIG) is SQLITE_IOERR, "disk I/O error".
_WANT_OF_ROOM = ("database or disk is full", "disk i/o error")
_RETRY_AFTER = 5


class WriteHealth:
    """Thread-safe: batches end on the writer thread and on event loops, probes run on other threads."""

    def __init__(self, database_file: Path | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._directory = database_file.parent if database_file is not None else None
        self._clock = clock
        self._lock = threading.Lock()
        self._refused_since: float | None = None
        self._refused_total = 0
        self._refused_unlogged = 0
        self._last_line = 0.0
        self._want_of_room = False

    def record(self, error: DatabaseUnavailable | None, writes: int = 1) -> None:
        """A batch committed (``error`` None) or was refused with ``error``, ``writes`` writes with it."""
        now = self._clock()
        line: tuple[object, ...] | None = None
        with self._lock:
            if error is None:
                if self._refused_since is not None:
                    since, total = now - self._refused_since, self._refused_total
                    line = ("writes succeed again after %.1f s; %d writes were refused meanwhile", since, total)
                self._refused_since, self._want_of_room = None, False
            else:
                DB_WRITES_REFUSED.inc(writes)
                self._want_of_room = any(text in error.reason.lower() for text in _WANT_OF_ROOM)
                if self._refused_since is None:
                    self._refused_since, self._last_line = now, now
                    self._refused_total, self._refused_unlogged = writes, 0
                    line = ("writes refused: %s", error.reason)
                else:
                    self._refused_total += writes
                    self._refused_unlogged += writes
                    if now - self._last_line >= SUMMARY_EVERY_SECONDS:
                        unlogged, seconds = self._refused_unlogged, now - self._last_line
                        line = (
                            "writes still refused: %s (%d more in the last %.0f s)",
                            error.reason,
                            unlogged,
                            seconds,
                        )
                        self._last_line, self._refused_unlogged = now, 0
        if line is not None:  # outside the lock: a slow log handler holds no batch
            log.warning(*line)

    def room_problem(self) -> DatabaseUnavailable | None:
        """Why the database has no room to grow now, or None. Touches the disk only while the last
        batch was refused for want of room (then a ROOM_BYTES file that is never linked anywhere)."""
        if self._directory is None:
            return None
        try:
            stats = os.statvfs(self._directory)
        except OSError:
            return None  # a directory gone: the file guard names that
        # root may use the blocks a filesystem reserves for it, and orderhub's writes as root do.
        free = stats.f_frsize * (stats.f_bfree if os.geteuid() == 0 else stats.f_bavail)
        if free < ROOM_BYTES:
            return DatabaseUnavailable(
                f"disk full: {free // 1024} KiB free on the database's filesystem", retry_after=_RETRY_AFTER
            )
        if not self._want_of_room:
            return None
        try:
            with tempfile.TemporaryFile(dir=self._directory, buffering=0) as scratch:
                left = memoryview(bytes(ROOM_BYTES))
                while left:  # a write cut short by the limit says so by raising at the next one
                    left = left[os.write(scratch.fileno(), left) :]
        except OSError as exc:
            reason = f"disk full: the database cannot grow ({exc.strerror})"
            return DatabaseUnavailable(reason, retry_after=_RETRY_AFTER)
        # There is room again: the next probes need not write, whether or not an order has come since
        # (a node that is not ready gets none).
        with self._lock:
            self._want_of_room = False
        return None
