"""Failed sign-ins, and the sources each client id signed in from, in the tables every process shares
(services.sign_ins counts the one and reads the other with it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from orderhub.services.records import Charged, RecentFailures, SignInLookUp, StoredCredential, Window
from orderhub.store.fastsql import FastSql, read_time

# Expired failures one charge deletes at most: more than the rows it adds (one a key), so the table
# shrinks back to about one window's failures, and a bound on the work of one write. As many sign-ins
# too old to make a source known: a charge comes before every sign-in, which adds one at most.
PURGE_BATCH = 100

# A source's last sign-in; an earlier time (clocks of two hosts a little apart) leaves the later one.
_KNOWN = (
    "INSERT INTO sign_in_sources AS s (key, signed_in_at) VALUES (?, ?) ON CONFLICT (key)"
    " DO UPDATE SET signed_in_at = excluded.signed_in_at WHERE s.signed_in_at < excluded.signed_in_at"
)

# The credential's last sign-in, kept the same way. On PostgreSQL a row another sign-in or a revocation
# holds is skipped, not waited for: that other sign-in records about the same moment, and a wait here,
# in a statement that also upserts a source's row, could close a circle of waits with another sign-in.
_LAST_SIGNED_IN = (
    "UPDATE credentials SET last_signed_in_at = ? WHERE client_id IN (SELECT client_id FROM credentials"
    " WHERE client_id = ? AND (last_signed_in_at IS NULL OR last_signed_in_at < ?){locking})"
)


def _counts(keys: Sequence[str]) -> tuple[str, str]:
    """Each key's count and oldest failure within a window (after its start, at or before its end), from
    an aggregate (one row whatever it finds), cross joined: the FROM and the columns of one statement for
    all the keys. Each key takes three parameters: the key, the window's start and its end."""
    counts = " CROSS JOIN ".join(
        f"(SELECT count(*) AS n, min(failed_at) AS oldest FROM sign_in_failures"
        f" WHERE key = ? AND failed_at > ? AND failed_at <= ?) AS f{index}"
        for index in range(len(keys))
    )
    return counts, ", ".join(f"f{index}.n, f{index}.oldest" for index in range(len(keys)))


def _failures(keys: Sequence[str], row: tuple[Any, ...]) -> dict[str, RecentFailures]:
    return {key: RecentFailures(int(row[2 * index]), read_time(row[2 * index + 1])) for index, key in enumerate(keys)}


class SignInRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._sql = FastSql(connection)

    def look_up(
        self, client_id: str, keys: Sequence[str], window: Window, pair: str, known_since: datetime
    ) -> SignInLookUp:
        # The credential is joined to the counts, so that an unknown client id still gets its keys' counts.
        counts, columns = _counts(keys)
        since, until = (self._sql.time(moment) for moment in window)
        # No credential's id holds a NUL (PostgreSQL's text cannot): such an id is looked up as none,
        # instead of the driver refusing the statement. (A key holds none: failure_key.)
        asked = None if "\x00" in client_id else client_id
        row = self._sql.one(
            f"SELECT {columns}, c.client_id, c.partner_id, c.secret_hash, c.created_at, c.revoked_at,"
            " EXISTS (SELECT 1 FROM sign_in_sources WHERE key = ? AND signed_in_at > ?)"
            f" FROM {counts} LEFT JOIN credentials AS c ON c.client_id = ?",
            (pair, self._sql.time(known_since), *(value for key in keys for value in (key, since, until)), asked),
        )
        assert row is not None, "aggregates answer one row"
        failures = _failures(keys, row)
        found, partner_id, secret_hash, created_at, revoked_at, known = row[2 * len(keys) :]
        if found is None:
            return SignInLookUp(None, failures, bool(known))
        created = read_time(created_at)
        assert created is not None
        credential = StoredCredential(found, partner_id, secret_hash, created, read_time(revoked_at))
        return SignInLookUp(credential, failures, bool(known))

    def charge(self, keys: Sequence[str], at: datetime, window: Window, known_since: datetime) -> Charged:
        # PostgreSQL: rows another process is deleting right now are skipped, not waited for; both
        # tables in one statement (one round trip), which so never waits for a row. (Not in signed_in's
        # statement: its upsert may wait for a row, and holding one another upsert waits for, deadlock.)
        skip_locked = "" if self._sql.sqlite else " FOR UPDATE SKIP LOCKED"
        since, until = (self._sql.time(moment) for moment in window)
        forget = (
            "DELETE FROM sign_in_sources WHERE key IN (SELECT key FROM sign_in_sources WHERE signed_in_at < ?"
            f" LIMIT {PURGE_BATCH}{skip_locked})"
        )
        purge = (
            "DELETE FROM sign_in_failures WHERE id IN (SELECT id FROM sign_in_failures WHERE failed_at < ?"
            f" LIMIT {PURGE_BATCH}{skip_locked})"
        )
        forgotten = self._sql.time(known_since)
        if self._sql.sqlite:
            self._sql.execute(forget, (forgotten,))
            self._sql.execute(purge, (since,))
        else:
            self._sql.execute(f"WITH forgotten AS ({forget}) {purge}", (forgotten, since))
        # The insert and the count are two statements on purpose. On PostgreSQL each commits on its own
        # (Database.write_statement), so the count's snapshot, taken after this insert committed, holds
        # every charge that committed before it: of two charges of a key, the later committed counts the
        # earlier. In one statement (or one transaction) neither would see the other's row.
        at_time = self._sql.time(at)
        added = self._sql.all(
            f"INSERT INTO sign_in_failures (key, failed_at) VALUES {', '.join(['(?, ?)'] * len(keys))} RETURNING id",
            [value for key in keys for value in (key, at_time)],
        )
        counts, columns = _counts(keys)
        row = self._sql.one(f"SELECT {columns} FROM {counts}", [value for key in keys for value in (key, since, until)])
        assert row is not None, "aggregates answer one row"
        return Charged(tuple(int(id_) for (id_,) in added), _failures(keys, row))

    def take_back(self, ids: Sequence[int]) -> None:
        if ids:
            self._sql.execute_now(_taken_back(ids), list(ids))

    def signed_in(self, ids: Sequence[int], pair: str, client_id: str, at: datetime) -> None:
        known = (pair, self._sql.time(at))
        last = (self._sql.time(at), client_id, self._sql.time(at))
        if self._sql.sqlite:  # one connection in this process: no round trip to spare
            if ids:
                self._sql.execute(_taken_back(ids), list(ids))
            self._sql.execute(_LAST_SIGNED_IN.format(locking=""), last)
            self._sql.execute_now(_KNOWN, known)
        else:  # one statement, one round trip, as taking the charge back alone was
            taken_back = f"taken_back AS ({_taken_back(ids)}), " if ids else ""
            seen = _LAST_SIGNED_IN.format(locking=" FOR UPDATE SKIP LOCKED")
            self._sql.execute_now(f"WITH {taken_back}seen AS ({seen}) {_KNOWN}", (*ids, *last, *known))


def _taken_back(ids: Sequence[int]) -> str:
    return f"DELETE FROM sign_in_failures WHERE id IN ({', '.join(['?'] * len(ids))})"
