"""Failed sign-ins, counted per client id and per source address in the database every process shares,
so that guessing secrets is slow however many processes answer, and stays slow across their restarts."""

from __future__ import annotations

import hashlib
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from orderhub.domain.errors import TooManyAttempts
from orderhub.services.clock import Clock
from orderhub.services.ports import Database
from orderhub.services.records import RecentFailures, StoredCredential

FAILURE_WINDOW = timedelta(seconds=60)
# Failed sign-ins allowed per client id, and per source address, in a sliding minute; past them the
# answer is 429 without the (slow, memory-hungry) hash. Other client ids of the same partner still work.
# The count is read before the hash and added to after it: guesses sent at once all pass the read before
# any fails. Each process checks again right before each hash with the failures it recorded since (a
# burst sent to one process gets the limit and at most MAX_CONCURRENT_HASHES - 1 more); a burst spread
# over several processes at once gets that in each.
FAILURES_PER_CLIENT = 10
FAILURES_PER_SOURCE = 30
# A key's value (a client id, an address) longer than this, or with a character that does not print, is
# kept as its digest: a client id a guesser makes up may be anything a request can carry.
MAX_KEY_VALUE = 64


def failure_key(kind: str, value: str) -> str:
    """The key a failure of this client id (``kind`` "client") or source ("source") is counted under:
    80 characters at most. No value kept as it is looks like a digest (that would be longer)."""
    if len(value) <= MAX_KEY_VALUE and value.isprintable():
        return f"{kind}:{value}"
    return f"{kind}:sha256:{hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()}"


@dataclass(frozen=True)
class SignIn:
    """A sign-in being checked: the credential its client id names (None: none); its keys with their
    limits, their failures as read, and how many failures this process had recorded for each then."""

    credential: StoredCredential | None
    limits: dict[str, int]
    read: dict[str, RecentFailures]
    recorded: dict[str, int]


@dataclass
class _UnderWay:
    """A key's sign-ins being checked in this process, and the failures this process has recorded for
    it since the first of them began."""

    checks: int = 0
    recorded: int = 0


class SignIns:
    """Reads a client id's credential together with its keys' recent failures, refuses a key that
    failed too often (before any hash), and records failures. Times come from ``clock``."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        # The keys of the sign-ins being checked here: as many entries as sign-ins at most.
        self._under_way: dict[str, _UnderWay] = {}

    @asynccontextmanager
    async def checking(self, client_id: str, source: str | None) -> AsyncIterator[SignIn]:
        """The sign-in, for as long as it is checked; TooManyAttempts when its client id or its
        source failed too often lately."""
        limits = {failure_key("client", client_id): FAILURES_PER_CLIENT}
        if source:
            limits[failure_key("source", source)] = FAILURES_PER_SOURCE
        under_way = {key: self._under_way.setdefault(key, _UnderWay()) for key in limits}
        for entry in under_way.values():
            entry.checks += 1
        try:
            # Taken before the read: a failure recorded meanwhile may be counted twice, never not at all.
            recorded = {key: entry.recorded for key, entry in under_way.items()}
            now = self._clock()
            keys = tuple(limits)
            found = await self._db.read_statement(
                lambda uow: uow.sign_ins.look_up(client_id, keys, now - FAILURE_WINDOW)
            )
            sign_in = SignIn(found.credential, limits, found.failures, recorded)
            self._refuse_too_many(sign_in, now)
            yield sign_in
        finally:
            for key, entry in under_way.items():
                entry.checks -= 1
                if not entry.checks:
                    del self._under_way[key]

    def check_again(self, sign_in: SignIn) -> None:
        """Right before the hash: TooManyAttempts when the failures this process recorded since the
        sign-in's read make too many (a burst of guesses: each passed the read before any failed)."""
        self._refuse_too_many(sign_in, self._clock())

    async def failed(self, sign_in: SignIn) -> None:
        """Counts a failure against each of the sign-in's keys, for every process; expired ones go."""
        for key in sign_in.limits:
            self._under_way[key].recorded += 1  # at once, for the checks waiting to hash
        now = self._clock()
        keys = tuple(sign_in.limits)
        await self._db.write(lambda uow: uow.sign_ins.record_failure(keys, now, now - FAILURE_WINDOW))

    def _refuse_too_many(self, sign_in: SignIn, now: datetime) -> None:
        waits = []
        for key, limit in sign_in.limits.items():
            read = sign_in.read[key]
            since = self._under_way[key].recorded - sign_in.recorded[key]
            # Failures recorded here since the read are a few seconds old at most: as if just now.
            waits.append(_retry_after(RecentFailures(read.count + since, read.oldest or now), limit, now))
        if max(waits):
            raise TooManyAttempts("too many failed sign-ins; retry later", retry_after=max(waits))


def _retry_after(recent: RecentFailures, limit: int, now: datetime) -> int:
    """Seconds until the oldest of a key's failures leaves the window, when it has too many; else 0."""
    if recent.count < limit or recent.oldest is None:
        return 0
    return max(1, math.ceil((recent.oldest + FAILURE_WINDOW - now).total_seconds()))
