"""Several group-commit writers side by side, for a database that lets writers work at once.

On PostgreSQL a writer's batch spends its time waiting for round trips, one per statement, not for a
lock: one writer per process caps the process at what one connection can do in a row (bench/README.md,
"Writers side by side on PostgreSQL"). Several writers, each with its own connection and thread, run
their batches at once, as several API processes' writers already do. SQLite lets one writer in at a
time: there the pool is one writer.

A write goes to the writer with the fewest writes waiting. Writes submitted together may then commit
in any order, as writes from two processes do; a caller that waits for its write before the next (a
partner's client, the worker) still sees them in order.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import Any

from orderhub.store.group_commit import GroupCommitWriter
from orderhub.store.write_batches import Work


class WriterPool:
    def __init__(self, writers: list[GroupCommitWriter]) -> None:
        if not writers:
            raise ValueError("a writer pool needs at least one writer")
        self._writers = writers

    def __len__(self) -> int:
        return len(self._writers)

    def submit(self, work: Work) -> Future[Any]:
        """For threads: a future that holds the work's result once it is committed."""
        return self._least_busy().submit(work)

    def submit_async(self, work: Work) -> asyncio.Future[Any]:
        """For coroutines: an awaitable that holds the work's result once it is committed."""
        return self._least_busy().submit_async(work)

    def close(self, timeout: float = 10.0) -> None:
        for writer in self._writers:
            writer.close(timeout)

    def _least_busy(self) -> GroupCommitWriter:
        if len(self._writers) == 1:
            return self._writers[0]
        return min(self._writers, key=GroupCommitWriter.waiting)
