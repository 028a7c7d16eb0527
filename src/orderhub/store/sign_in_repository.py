"""Failed sign-ins, in the table every process shares (services.sign_ins counts them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from orderhub.services.records import Charged, RecentFailures, SignInLookUp, StoredCredential
from orderhub.store.fastsql import FastSql, read_time

# Expired failures one charge deletes at most: more than the rows it adds (one a key), so the table
# shrinks back to about one window's failures, and a bound on the work of one write.
PURGE_BATCH = 100


def _counts(keys: Sequence[str]) -> tuple[str, str]:
    """Each key's count and oldest failure, from an aggregate (one row whatever it finds), cross
    joined: the FROM and the columns of one statement for all the keys."""
    counts = " CROSS JOIN ".join(
        f"(SELECT count(*) AS n, min(failed_at) AS oldest FROM sign_in_failures"
        f" WHERE key = ? AND failed_at > ?) AS f{index}"
        for index in range(len(keys))
    )
    return counts, ", ".join(f"f{index}.n, f{index}.oldest" for index in range(len(keys)))


def _failures(keys: Sequence[str], row: tuple[Any, ...]) -> dict[str, RecentFailures]:
    return {key: RecentFailures(int(row[2 * index]), read_time(row[2 * index + 1])) for index, key in enumerate(keys)}


class SignInRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._sql = FastSql(connection)

    def look_up(self, client_id: str, keys: Sequence[str], since: datetime) -> SignInLookUp:
        # The credential is joined to the counts, so that an unknown client id still gets its keys' counts.
        counts, columns = _counts(keys)
        moment = self._sql.time(since)
        # No credential's id holds a NUL (PostgreSQL's text cannot): such an id is looked up as none,
        # instead of the driver refusing the statement.
        asked = None if "\x00" in client_id else client_id
        row = self._sql.one(
            f"SELECT {columns}, c.client_id, c.partner_id, c.secret_hash, c.created_at, c.revoked_at FROM {counts}"
            " LEFT JOIN credentials AS c ON c.client_id = ?",
            (*(value for key in keys for value in (key, moment)), asked),
        )
        assert row is not None, "aggregates answer one row"
        failures = _failures(keys, row)
        found, partner_id, secret_hash, created_at, revoked_at = row[2 * len(keys) :]
        if found is None:
            return SignInLookUp(None, failures)
        created = read_time(created_at)
        assert created is not None
        return SignInLookUp(StoredCredential(found, partner_id, secret_hash, created, read_time(revoked_at)), failures)

    def charge(self, keys: Sequence[str], at: datetime, since: datetime) -> Charged:
        # PostgreSQL: rows another process is deleting right now are skipped, not waited for.
        skip_locked = "" if self._sql.sqlite else " FOR UPDATE SKIP LOCKED"
        moment = self._sql.time(since)
        self._sql.execute(
            "DELETE FROM sign_in_failures WHERE id IN (SELECT id FROM sign_in_failures WHERE failed_at < ?"
            f" LIMIT {PURGE_BATCH}{skip_locked})",
            (moment,),
        )
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
        row = self._sql.one(f"SELECT {columns} FROM {counts}", [value for key in keys for value in (key, moment)])
        assert row is not None, "aggregates answer one row"
        return Charged(tuple(int(id_) for (id_,) in added), _failures(keys, row))

    def take_back(self, ids: Sequence[int]) -> None:
        if ids:
            self._sql.execute_now(
                f"DELETE FROM sign_in_failures WHERE id IN ({', '.join(['?'] * len(ids))})", list(ids)
            )
