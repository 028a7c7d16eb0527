"""Failed sign-ins, counted per client id and per source address in the database every process shares,
so that guessing secrets is slow however many processes answer, and stays slow across their restarts."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from orderhub.domain.errors import TooManyAttempts
from orderhub.services.clock import Clock
from orderhub.services.ports import Database
from orderhub.services.records import RecentFailures, StoredCredential

FAILURE_WINDOW = timedelta(seconds=60)
# Failed sign-ins allowed per client id, and per source address, in a sliding minute; past them the
# answer is 429 without the (slow, memory-hungry) hash. Other client ids of the same partner still work.
# Sign-ins checked at the same time (other processes, other requests) may each fail once more: the
# count is read before the hash and added to after it.
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
    """A sign-in being checked: the credential its client id names (None: none), and its keys."""

    credential: StoredCredential | None
    keys: tuple[str, ...]


class SignIns:
    """Reads a client id's credential together with its keys' recent failures, refuses a key that
    failed too often (before any hash), and records failures. Times come from ``clock``."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def begin(self, client_id: str, source: str | None) -> SignIn:
        """The sign-in, or TooManyAttempts when its client id or its source failed too often lately."""
        limits = {failure_key("client", client_id): FAILURES_PER_CLIENT}
        if source:
            limits[failure_key("source", source)] = FAILURES_PER_SOURCE
        now = self._clock()
        keys = tuple(limits)
        found = await self._db.read_statement(lambda uow: uow.sign_ins.look_up(client_id, keys, now - FAILURE_WINDOW))
        wait = max(_retry_after(found.failures[key], limit, now) for key, limit in limits.items())
        if wait:
            raise TooManyAttempts("too many failed sign-ins; retry later", retry_after=wait)
        return SignIn(found.credential, keys)

    async def failed(self, sign_in: SignIn) -> None:
        """Counts a failure against each of the sign-in's keys, for every process; expired ones go."""
        now = self._clock()
        await self._db.write(lambda uow: uow.sign_ins.record_failure(sign_in.keys, now, now - FAILURE_WINDOW))


def _retry_after(recent: RecentFailures, limit: int, now: datetime) -> int:
    """Seconds until the oldest of a key's failures leaves the window, when it has too many; else 0."""
    if recent.count < limit or recent.oldest is None:
        return 0
    return max(1, math.ceil((recent.oldest + FAILURE_WINDOW - now).total_seconds()))
