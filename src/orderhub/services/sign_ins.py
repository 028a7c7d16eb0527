"""Failed sign-ins, counted per client id at a source address, per source and per client id in the
database every process shares, so that guessing secrets is slow however many processes answer, and stays
slow across their restarts; and the sources each client id signed in from lately, where its own failures
from every source do not lock it out."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from orderhub.domain.errors import TooManyAttempts
from orderhub.services.clock import CLOCK_SKEW_TOLERATED, Clock
from orderhub.services.ports import Database, UnitOfWork
from orderhub.services.records import Charged, RecentFailures, SignInLookUp, StoredCredential, Window

FAILURE_WINDOW = timedelta(seconds=60)
# Failures stamped later than now still count by as much as hosts' clocks may be apart
# (CLOCK_SKEW_TOLERATED, as leases and retries read it): the limits hold across every host the README
# allows. Later ones do not: after the wall clock steps back (an NTP step), failures it stamped before the
# step would otherwise keep their key refused for the step's length on top of the window.
# Failed sign-ins allowed in a sliding minute; past one of them the answer is 429 without the (slow,
# memory-hungry) hash. Per client id at one source address: guessing from one place cannot lock the
# holder out at another (it was per client id alone: ten wrong secrets from anywhere locked the partner
# out everywhere). Per source, across client ids. Per client id from every source together, much higher:
# it bounds only the hashes a guess spread over many sources costs (enough such sources still lock the
# client id out, SECURITY.md). Other client ids of the same partner are never refused for these.
# Guesses sent at once all pass the first read before any has failed: so each attempt is charged, as a
# failure, in the database before its hash, and hashes only if that count, read back after the charge,
# is within the limit; a right secret takes its charge back. However a burst is spread over processes,
# no more wrong secrets of a key are hashed within a window than its limit (SignIns.charge says why).
FAILURES_PER_CLIENT_AND_SOURCE = 10
FAILURES_PER_SOURCE = 30
FAILURES_PER_CLIENT = 200
# A known source of a client id: one it signed in from with its right secret within this long. There the
# client id's failures from every source (FAILURES_PER_CLIENT) do not apply, so that guesses from
# elsewhere cannot lock its holder out at the addresses it really uses; its own pair's and source's
# limits do. That raises no bound on hashing for a guesser, who is not at the holder's addresses: its
# guesses from anywhere else are counted and refused as before (at most FAILURES_PER_CLIENT hashes a
# window), and a known source only ever gets its pair's FAILURES_PER_CLIENT_AND_SOURCE, however it is
# used. A source becomes known only by a right secret, so a guesser cannot make one up. (Behind a
# proxy trusted for X-Forwarded-For, the proxy must be the only one to set it: SECURITY.md.) A partner
# that signs in at least every 30 days keeps its addresses known; one it left is forgotten after that.
KNOWN_SOURCE_FOR = timedelta(days=30)
# A key's value (a client id, an address) longer than this, or with a character that does not print, is
# kept as its digest: a client id a guesser makes up may be anything a request can carry.
MAX_KEY_VALUE = 64


def failure_key(kind: str, value: str) -> str:
    """The key a failure of this client id (``kind`` "client"), source ("source") or client id at a
    source ("pair", pair_key) is counted under: 80 characters at most. No value kept as it is looks like
    a digest (that would be longer)."""
    if len(value) <= MAX_KEY_VALUE and value.isprintable():
        return f"{kind}:{value}"
    return f"{kind}:sha256:{hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()}"


def pair_key(client_id: str, source: str | None) -> str:
    """The key of a client id at a source: ``pair:<length of source>:<source> <client id>``. The length
    makes it one key per pair whatever either holds (a source a proxy forwards may hold a space). No
    source known (no client address) counts as one source of its own, the empty one."""
    where = source or ""
    return failure_key("pair", f"{len(where)}:{where} {client_id}")


@dataclass(frozen=True)
class SignIn:
    """A sign-in being checked: the credential its client id names (None: none), its keys with their
    limits, and the key of its client id at its source (pair_key), known as of its time once it succeeds."""

    credential: StoredCredential | None
    limits: dict[str, int]
    pair: str


class SignIns:
    """Reads a client id's credential together with its keys' recent failures, refuses a key that
    failed too often (before any hash), charges an attempt before its hash and takes the charge back
    when the secret was right. Times come from ``clock``."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def check(self, client_id: str, source: str | None) -> SignIn:
        """The sign-in; TooManyAttempts when its client id at its source, its source, or (from a source
        not known for it) its client id from everywhere failed too often lately. Only a read, of one
        statement that finds whether the source is known too: a client id refused here (a guesser that
        goes on) costs no write."""
        pair, client = pair_key(client_id, source), failure_key("client", client_id)
        limits = {pair: FAILURES_PER_CLIENT_AND_SOURCE, client: FAILURES_PER_CLIENT}
        if source:
            limits[failure_key("source", source)] = FAILURES_PER_SOURCE
        now = self._clock()
        keys = tuple(limits)

        def look_up(uow: UnitOfWork) -> SignInLookUp:
            return uow.sign_ins.look_up(client_id, keys, _window(now), pair, now - KNOWN_SOURCE_FOR)

        found = await self._db.read_statement(look_up)
        if found.known_source:
            # At a known source the client id's count is neither checked nor charged: it counts the
            # guesses from unknown sources alone, and bounds their hashes as before.
            del limits[client]
        _refuse_too_many(limits, found.failures, now)
        return SignIn(found.credential, limits, pair)

    async def charge(self, sign_in: SignIn) -> Charged:
        """Counts the attempt as failed, for every process, before its hash; TooManyAttempts (the charge
        taken back) when the count read back after it is past a limit. The charge stays if the secret
        turns out wrong: it is the failure.

        Why no more than a key's limit of wrong secrets are hashed within a window, however many
        processes charge at once: on SQLite every write runs one after another on one connection, so a
        charge and its count are one step. On PostgreSQL the charge is committed before its count
        begins (Database.write_statement), so of any two charges of a key, the one committed later
        counts the other (taken back only when refused or right): of admitted wrong attempts charged
        within a window, the last committed counted them all. Attempts at once may then refuse each
        other (each counts the others' charges in flight), never let each other through. An attempt from
        a known source is not charged to its client id (``check`` left that key out of its limits)."""
        now = self._clock()
        keys, limits = tuple(sign_in.limits), sign_in.limits

        def charge(uow: UnitOfWork) -> tuple[Charged, bool]:
            charged = uow.sign_ins.charge(keys, now, _window(now), now - KNOWN_SOURCE_FOR)
            over = any(charged.failures[key].count > limit for key, limit in limits.items())
            if over:  # a 429 is no failure (as before): a client retrying then does not stay locked out longer
                uow.sign_ins.take_back(charged.ids)
            return charged, over

        charged, over = await self._db.write_statement(charge)
        if over:
            # The count holds the attempt's own charge: as many failures before it as the read would say.
            before = {key: RecentFailures(recent.count - 1, recent.oldest) for key, recent in charged.failures.items()}
            _refuse_too_many(limits, before, now)
        return charged

    async def signed_in(self, sign_in: SignIn, charged: Charged) -> None:
        """The secret was right: the attempt is no failure (a client's own sign-ins never lock it out),
        its source is known for its client id from now on, and its credential's last sign-in is now
        (`orderhub credential list`); one write, as taking the charge back was alone. A credential
        revoked later keeps its known sources: its sign-ins fail anyway."""
        now = self._clock()
        assert sign_in.credential is not None, "a right secret is a credential's"
        client_id = sign_in.credential.client_id

        def signed_in(uow: UnitOfWork) -> None:
            uow.sign_ins.signed_in(charged.ids, sign_in.pair, client_id, now)

        await self._db.write_statement(signed_in)


def _window(now: datetime) -> Window:
    return now - FAILURE_WINDOW, now + CLOCK_SKEW_TOLERATED


def _refuse_too_many(limits: dict[str, int], failures: dict[str, RecentFailures], now: datetime) -> None:
    wait = max(_retry_after(failures[key], limit, now) for key, limit in limits.items())
    if wait:
        raise TooManyAttempts("too many failed sign-ins; retry later", retry_after=wait)


def _retry_after(recent: RecentFailures, limit: int, now: datetime) -> int:
    """Seconds until the oldest of a key's failures leaves the window, when it has too many; else 0."""
    if recent.count < limit or recent.oldest is None:
        return 0
    return max(1, math.ceil((recent.oldest + FAILURE_WINDOW - now).total_seconds()))
