"""One writer that commits every write that arrived meanwhile in one transaction.

SQLite lets one writer in at a time and each commit costs an fsync; sharing the transaction keeps the
database off the critical path. Answers are released only after the shared commit returned, with one
wake-up of each waiting event loop per batch.

Where a batch runs: writes submitted from threads (the worker, the CLI), and every write on
PostgreSQL, run on the writer thread. On SQLite, writes submitted from an event loop run on that loop
and only their COMMIT goes to the writer thread. The driver lets go of the GIL around each statement,
and a statement run on a second thread must then wait for the loop to let go of it again: that
doubled what each statement cost (bench/README.md). A batch runs without waiting for the write lock;
when another process holds it, the batch goes to the writer thread, which waits, and the loop does not.
Whoever runs a batch owns the connection until its commit is done, so the two never use it at once.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from orderhub.services.ports import DatabaseUnavailable
from orderhub.store.write_batches import (
    BatchRunner,
    Contended,
    Outcome,
    RanBatch,
    Work,
    WriteJob,
    WriteLockBusy,
)

log = logging.getLogger("orderhub.store.writer")

# Enough to amortise the commit, small enough that one transaction stays a few milliseconds long.
MAX_BATCH = 512
# A batch on an event loop holds the loop while it runs (about 0.3 ms an order), and every request that
# arrives meanwhile waits: 32 orders bound that wait near 10 ms and still share each commit among many.
# Measured against 64 (bench/README.md, "Paced accept"): the same throughput, a lower p99 below saturation.
LOOP_BATCH = 32


@dataclass(frozen=True)
class _Job(WriteJob):
    # Exactly one of the two: a thread waits on a concurrent future, a coroutine on an asyncio one.
    future: Future[Any] | None = None
    loop: asyncio.AbstractEventLoop | None = None
    awaitable: asyncio.Future[Any] | None = None


class GroupCommitWriter:
    def __init__(self, runner: BatchRunner, *, timeout: float, batches_on_loop: bool = False) -> None:
        self._runner = runner
        self._timeout = timeout
        self._batches_on_loop = batches_on_loop
        self._queue: deque[_Job] = deque()  # for the writer thread
        self._on_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}  # for each loop, not yet run
        self._ready = threading.Condition()
        # Who runs a batch on the connection now: None, the writer thread or an event loop.
        self._owner: object | None = None
        # A batch an event loop ran, for the writer thread to commit.
        self._to_commit: tuple[list[_Job], RanBatch] | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="orderhub-writer", daemon=True)
        self._thread.start()

    def submit(self, work: Work) -> Future[Any]:
        """For threads: a future that holds the work's result once it is committed."""
        job = _Job(work, time.monotonic() + self._timeout, future=Future())
        self._enqueue(job)
        assert job.future is not None
        return job.future

    def submit_async(self, work: Work) -> asyncio.Future[Any]:
        """For coroutines: an awaitable that holds the work's result once it is committed."""
        loop = asyncio.get_running_loop()
        awaitable = loop.create_future()
        job = _Job(work, time.monotonic() + self._timeout, loop=loop, awaitable=awaitable)
        if not self._batches_on_loop:
            self._enqueue(job)
            return awaitable
        with self._ready:
            self._refuse_when_stopping()
            pending = self._on_loop.setdefault(loop, [])
            pending.append(job)
            first = len(pending) == 1
        if first:
            self._run_soon(loop)
        return awaitable

    def waiting(self) -> int:
        """Writes submitted and not yet taken into a batch (a hint: read without the lock)."""
        return len(self._queue) + sum(len(pending) for pending in self._on_loop.values())

    def close(self, timeout: float = 10.0) -> None:
        with self._ready:
            self._stopping = True
            self._ready.notify()
        self._thread.join(timeout)

    def _enqueue(self, job: _Job) -> None:
        """For the writer thread."""
        with self._ready:
            self._refuse_when_stopping()
            self._queue.append(job)
            self._ready.notify()

    def _refuse_when_stopping(self) -> None:
        if self._stopping:
            raise DatabaseUnavailable("the service is shutting down")

    # -- on an event loop (SQLite) ------------------------------------------------------------------

    def _run_on_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._ready:
            pending = self._on_loop.get(loop)
            if not pending or self._owner is not None:
                return  # nothing to run, or the connection is busy: its owner calls again when done
            batch = pending[:LOOP_BATCH]
            del pending[:LOOP_BATCH]
            if not pending:
                del self._on_loop[loop]  # loops come and go (asyncio.run in a CLI, tests): forget each
            if self._stopping:
                refused: Outcome = (False, DatabaseUnavailable("the service is shutting down"))
                self._settle(batch, [refused] * len(batch))
                return
            self._owner = loop
        try:
            ran = self._runner.run(batch, wait_for_lock=False)
        except WriteLockBusy:
            # Another process holds the write lock: the writer thread waits for it, the loop must not.
            with self._ready:
                self._queue.extend(batch)
            self._release()
            return
        except Exception as exc:  # a bug in the writer itself: fail the batch, keep the writer
            log.exception("group commit failed")
            self._release()
            self._settle(batch, [(False, exc)] * len(batch))
            return
        if ran.transaction is None:  # nothing to commit: every job failed or was refused
            self._release()
            self._settle(batch, ran.outcomes)
            return
        with self._ready:
            self._to_commit = (batch, ran)
            self._ready.notify()

    # -- on the writer thread -----------------------------------------------------------------------

    def _run(self) -> None:
        batch: list[_Job] = []
        while True:
            with self._ready:
                while True:
                    task = self._to_commit
                    if task is not None:
                        self._to_commit = None
                        break
                    if self._queue and self._owner is None:
                        self._owner = self._thread
                        batch = [self._queue.popleft() for _ in range(min(len(self._queue), MAX_BATCH))]
                        break
                    if self._stopping and not self._queue and self._owner is None:
                        self._runner.close()
                        return
                    self._ready.wait()
            if task is not None:
                batch, ran = task  # an event loop ran it and still owns the connection
            try:
                if task is None:
                    ran = self._runner.run(batch, wait_for_lock=True)
                outcomes = self._runner.finish(ran)
            except Exception as exc:  # a bug in the writer itself: fail the batch, keep the thread
                log.exception("group commit failed")
                outcomes = [(False, exc)] * len(batch)
            self._settle(*self._again_later(batch, outcomes))
            self._release()

    def _again_later(self, batch: list[_Job], outcomes: list[Outcome]) -> tuple[list[_Job], list[Outcome]]:
        """Puts the jobs another transaction's locks undid back at the head of the queue, to run in the
        next batch, once this one's commit let go of its own locks; the others, to answer. A job undone
        once its deadline passed is answered 503 (each batch waits for a lock only briefly: a job may run
        in several before the lock it needs is free)."""
        answered: list[tuple[_Job, Outcome]] = []
        again: list[_Job] = []
        for job, outcome in zip(batch, outcomes, strict=True):
            if outcome[0] or not isinstance(outcome[1], Contended):
                answered.append((job, outcome))
            elif time.monotonic() < job.deadline:
                again.append(job)
            else:
                busy = DatabaseUnavailable("the database is too busy right now", retry_after=1)
                answered.append((job, (False, busy)))
        if again:
            with self._ready:
                self._queue.extendleft(reversed(again))
        return [job for job, _ in answered], [outcome for _, outcome in answered]

    # -- either ---------------------------------------------------------------------------------

    def _release(self) -> None:
        """Gives the connection up and calls whoever waits for it: the writer thread, or the loops."""
        with self._ready:
            self._owner = None
            self._ready.notify()
            waiting = [loop for loop, pending in self._on_loop.items() if pending]
        for loop in waiting:
            try:
                # Two hops: the answers of the batch just committed go out before the next batch runs.
                loop.call_soon_threadsafe(self._run_soon, loop)
            except RuntimeError:  # the loop closed; nobody waits for its writes any more
                with self._ready:
                    dropped = self._on_loop.pop(loop, [])
                log.warning("an event loop closed before its %d writes ran", len(dropped))

    def _run_soon(self, loop: asyncio.AbstractEventLoop) -> None:
        # After the callbacks already ready: writes that arrived together share the batch. In a context
        # of its own: not that of the request whose write came first (its correlation id), for the
        # batch runs many requests' writes.
        loop.call_soon(self._run_on_loop, loop, context=contextvars.Context())

    def _settle(self, batch: list[_Job], outcomes: list[Outcome]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Outcome]]] = {}
        for job, outcome in zip(batch, outcomes, strict=True):
            if job.future is not None:
                ok, value = outcome
                if ok:
                    job.future.set_result(value)
                else:
                    job.future.set_exception(value)
            elif job.loop is not None and job.awaitable is not None:
                by_loop.setdefault(job.loop, []).append((job.awaitable, outcome))
        for loop, settled in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, settled)
            except RuntimeError:
                log.warning("an event loop closed before its %d writes were answered", len(settled))


def _resolve(settled: list[tuple[asyncio.Future[Any], Outcome]]) -> None:
    for awaitable, (ok, value) in settled:
        if awaitable.done():  # its caller went away (a client that disconnected)
            continue
        if ok:
            awaitable.set_result(value)
        else:
            awaitable.set_exception(value)
