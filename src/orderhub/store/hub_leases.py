"""Event listeners' leases: which process delivers to a listener now (store.change_repository).

On PostgreSQL a lease is dated by the database server's clock. Dated by the clock of the process that
took it, a lease of 30 s was over at once for a worker on a host whose clock was more than 30 s ahead
(hosts may differ by up to a minute, README), which then sent the same events at the same time. With
one clock for every process, a lease ends when it ends for all of them. SQLite serves one host: its
process's clock is the only one. Retry times stay the process's (one that is early or late delays or
hastens a retry, and sends nothing twice).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from orderhub.store.fastsql import FastSql, read_time
from orderhub.store.tables import hub_listeners

# The server's clock, as the naive UTC that timestamp columns hold (store.types).
_SERVER_NOW = "(statement_timestamp() AT TIME ZONE 'UTC')"
# Parameters: now (or nothing on PostgreSQL), then how far past now a lease taken before the clock was
# set back may end (a later one is over: services.clock.set_back_after).
_OVER_SQLITE = "(lease_until IS NULL OR lease_until < ? OR lease_until > ?)"
_OVER_POSTGRES = f"(lease_until IS NULL OR lease_until < {_SERVER_NOW} OR lease_until > {_SERVER_NOW} + ?)"


class ListenerLeases:
    def __init__(self, sql: FastSql) -> None:
        self._sql = sql

    def take(self, listener_id: str, now: datetime, lease: timedelta, set_back_after: datetime) -> datetime | None:
        """The end of the lease taken on the listener, as stored; None when another process holds one."""
        sql = self._sql
        if sql.sqlite:
            until = now + lease
            changed = sql.execute_now(
                f"UPDATE hub_listeners SET lease_until = ? WHERE id = ? AND {_OVER_SQLITE}",
                (sql.time(until), listener_id, sql.time(now), sql.time(set_back_after)),
            )
            return until if changed == 1 else None
        return self._stored_end(
            f"UPDATE hub_listeners SET lease_until = {_SERVER_NOW} + ? WHERE id = ? AND {_OVER_POSTGRES}"
            " RETURNING lease_until",
            (lease, listener_id, set_back_after - now),
        )

    def renew(self, listener_id: str, held: datetime, now: datetime, lease: timedelta) -> datetime | None:
        """The new end of the lease that ends at ``held``; None when the listener is gone or another
        process has leased it since."""
        sql = self._sql
        if sql.sqlite:
            until = now + lease
            changed = sql.execute_now(
                "UPDATE hub_listeners SET lease_until = ? WHERE id = ? AND lease_until = ?",
                (sql.time(until), listener_id, sql.time(held)),
            )
            return until if changed == 1 else None
        return self._stored_end(
            f"UPDATE hub_listeners SET lease_until = {_SERVER_NOW} + ? WHERE id = ? AND lease_until = ?"
            " RETURNING lease_until",
            (lease, listener_id, sql.time(held)),
        )

    def release(self, listener_id: str, held: datetime, now: datetime) -> None:
        """Ends the lease that ends at ``held`` (not one another process took since), as of now: a released
        lease keeps when it ended, so that busy listeners take turns with the others."""
        sql = self._sql
        end, params = ("?", (sql.time(now),)) if sql.sqlite else (_SERVER_NOW, ())
        sql.execute(
            f"UPDATE hub_listeners SET lease_until = {end} WHERE id = ? AND lease_until = ?",
            (*params, listener_id, sql.time(held)),
        )

    def _stored_end(self, statement: str, params: tuple[object, ...]) -> datetime | None:
        row = self._sql.one(statement, params)
        return read_time(row[0]) if row is not None else None


def lease_over(sqlite: bool) -> sa.ColumnElement[bool]:
    """For a Core query: the listener's lease is over. Bound parameters: ``now`` and ``set_back_after``
    (SQLite), ``set_back_margin``, how far past now (PostgreSQL)."""
    lease_until = hub_listeners.c.lease_until
    if sqlite:
        now: sa.ColumnElement[datetime] = sa.bindparam("now")
        set_back: sa.ColumnElement[datetime] = sa.bindparam("set_back_after")
    else:
        now = sa.func.timezone("UTC", sa.func.statement_timestamp(), type_=sa.DateTime)
        set_back = now + sa.bindparam("set_back_margin", type_=sa.Interval)
    return sa.or_(lease_until.is_(None), lease_until < now, lease_until > set_back)
