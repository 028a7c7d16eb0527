"""Per-partner request rate limits, one budget per partner across every API: a token bucket per
partner, refilled continuously over the minute. On PostgreSQL, where several API processes may serve,
every process draws on one bucket per partner, kept in the database.

No request waits on the database for it. A process judges each request by the bucket as the database
last told it, plus its own requests and the refill since. A task on the event loop adds the process's
new requests to the shared buckets and learns their levels, the other processes' requests included: one
statement for all partners (store.rate_limit_repository), at most once a sync interval, for as long as a
bucket here is not full.

What a process cannot know is what the others let through since it last learned the bucket: a partner
may get past its limit by what the other processes let through in up to two sync intervals (one for the
process that let a request through to add it, one for the others to learn it) and the statements' round
trips; at most a full bucket at each of them, for a burst reaching every process at once. That is paid
back: the bucket keeps up to MOST_MINUTES of its limit used, and the partner waits until it has refilled,
so over a longer time it gets its limit. A process that had no request of the partner for as long as its
bucket took to refill judges its first ones before it has learned the bucket. While the database cannot
be reached, or does not answer in time, each process counts on its own (what it lets through then stays
its own) and shares again once the database answers.

SQLite has one API process: its limiter is that process's alone and writes nothing (the one write lock
is the orders'). See bootstrap.Services.new_rate_limiter.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from orderhub.domain.errors import RateLimited
from orderhub.domain.partners import Principal
from orderhub.services.clock import CLOCK_SKEW_TOLERATED
from orderhub.services.ports import Database, UnitOfWork
from orderhub.services.records import RequestsToAdd

log = logging.getLogger("orderhub.rate_limits")

# How far past empty a shared bucket goes, in minutes of its limit: an overshoot is paid back up to a
# minute's worth, so a 429's Retry-After is never much more than a minute.
MOST_MINUTES = 2.0
# A bucket no process added to for this long has refilled (MOST_MINUTES at most): its row goes. Each
# process deletes such rows at most once a PURGE_SECONDS, with its next sync.
IDLE_SECONDS = 300.0
PURGE_SECONDS = 60.0
# How long an application that stops waits for the statement of a sync under way.
STOP_WAIT_SECONDS = 1.0


@dataclass
class Bucket:
    """One partner's bucket as this process sees it: ``used`` requests not refilled yet (the limit less
    the tokens left) as of ``at``; ``unsent`` the requests let through here that the shared bucket has
    not counted yet."""

    per_minute: int
    at: float
    used: float = 0.0
    unsent: int = 0

    def used_at(self, now: float) -> float:
        return max(0.0, self.used - max(0.0, now - self.at) * self.per_minute / 60.0)


class SharedBuckets(Protocol):
    async def add(self, added: Sequence[RequestsToAdd]) -> dict[str, float]:
        """Adds each partner's requests to its shared bucket; each bucket's level afterwards."""
        ...


class DatabaseBuckets:
    """The buckets in the database, shared by every process on it; times from ``wall_clock`` (seconds
    since the epoch: the processes' clocks must agree, as they do with NTP; a bucket dated further
    ahead than CLOCK_SKEW_TOLERATED was dated before the clock was set back, and is dated anew)."""

    def __init__(self, db: Database, wall_clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._wall_clock = wall_clock
        self._next_purge = 0.0

    async def add(self, added: Sequence[RequestsToAdd]) -> dict[str, float]:
        now = self._wall_clock()
        purge = now >= self._next_purge
        if purge:
            self._next_purge = now + PURGE_SECONDS

        def add_requests(uow: UnitOfWork) -> dict[str, float]:
            if purge:
                uow.rate_limits.delete_idle(now - IDLE_SECONDS)
            return uow.rate_limits.add_requests(added, now, MOST_MINUTES, CLOCK_SKEW_TOLERATED.total_seconds())

        return await self._db.write_statement(add_requests)


class RateLimiter:
    """Per-partner budgets of requests a minute, one for an application (dialects.context): its own
    (``shared`` None) or drawn from ``shared`` buckets, learned at most once a ``sync_seconds``. Times
    from ``clock`` (monotonic seconds)."""

    def __init__(
        self,
        shared: SharedBuckets | None = None,
        *,
        sync_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._shared = shared
        self._sync_seconds = sync_seconds
        self._clock = clock
        self._buckets: dict[str, Bucket] = {}
        self._syncing: asyncio.Task[None] | None = None
        self._between_syncs = False
        self._stopping = False
        # Why the last sync failed, while the buckets are counted here alone (logged once).
        self._alone_because: str | None = None

    def retry_after(self, key: str, per_minute: int | None) -> int:
        """0 when a request may go now (and counts it); otherwise the seconds until it may."""
        if per_minute is None:
            return 0
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(per_minute, now)
        # Refilled at the limit it had; no more used than the bucket keeps at the limit it has (lowered).
        used = min(bucket.used_at(now), MOST_MINUTES * per_minute)
        bucket.per_minute, bucket.used, bucket.at = per_minute, used, now
        if self._shared is not None:
            self._keep_in_step()
        if used <= per_minute - 1:
            bucket.used += 1
            bucket.unsent += 1
            return 0
        # When the bucket, refilling at the limit, has a whole request's room again.
        return max(1, math.ceil((used + 1 - per_minute) * 60.0 / per_minute))

    def admit(self, principal: Principal) -> None:
        """Counts a request of ``principal``'s partner (every API's but onapi-order's, which answers in its
        own words); RateLimited when its budget is used up. Nothing to count for a partner with no limit."""
        wait = self.wait(principal)
        if wait:
            raise RateLimited(wait)

    def wait(self, principal: Principal) -> int:
        """``retry_after`` for ``principal``'s partner: 0 when its request may go now (and counts it)."""
        per_minute = principal.partner.rate_limit_per_minute
        return 0 if per_minute is None else self.retry_after(principal.partner_id, per_minute)

    async def sync(self) -> bool:
        """Adds this process's new requests to the shared buckets and learns their levels; whether a
        bucket here still needs that (it is not full). A failure leaves each bucket as this process
        counted it."""
        assert self._shared is not None
        now = self._clock()
        for key in [key for key, bucket in self._buckets.items() if not bucket.unsent and not bucket.used_at(now)]:
            del self._buckets[key]  # full: as good as none
        if not self._buckets:
            return False
        added = [RequestsToAdd(key, bucket.unsent, bucket.per_minute) for key, bucket in self._buckets.items()]
        for bucket in self._buckets.values():
            bucket.unsent = 0
        try:
            levels = await self._shared.add(added)
        except Exception as exc:  # whatever it is, the requests are answered from this process's count
            self._count_alone(getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}")
            return True
        self._count_shared()
        now = self._clock()
        for key, level in levels.items():
            learned = self._buckets.get(key)
            if learned is not None:
                # Its requests let through while the statement ran are not in the level yet. Never below
                # this process's own count: the database may lack what it let through while unreachable.
                learned.used, learned.at = max(learned.used_at(now), level + learned.unsent), now
        return True

    async def stop(self) -> None:
        """Ends syncing (the application stops): at once between two syncs; after the statement under
        way, if any, is answered, for a second at most."""
        task, self._syncing = self._syncing, None
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            return
        self._stopping = True
        if self._between_syncs or not (await asyncio.wait({task}, timeout=STOP_WAIT_SECONDS))[0]:
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        self._stopping = False

    def _keep_in_step(self) -> None:
        """Starts syncing on the running loop unless it runs already: at once, then every interval for as
        long as a bucket here is not full."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # called outside an event loop: the caller runs ``sync`` itself
        task = self._syncing
        if task is not None and not task.done() and task.get_loop() is loop:
            return
        self._syncing = loop.create_task(self._sync_while_needed())

    async def _sync_while_needed(self) -> None:
        while await self.sync() and not self._stopping:
            self._between_syncs = True
            try:
                await asyncio.sleep(self._sync_seconds)
            finally:
                self._between_syncs = False

    def _count_alone(self, reason: str) -> None:
        if self._alone_because is None:
            log.warning("rate limits counted by this process alone until the database answers: %s", reason)
        self._alone_because = reason

    def _count_shared(self) -> None:
        if self._alone_because is not None:
            log.warning("rate limits shared with the other processes again")
        self._alone_because = None
