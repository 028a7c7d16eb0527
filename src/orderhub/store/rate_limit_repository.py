"""Per-partner token buckets in the table every API process shares (services.rate_limits keeps them)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from orderhub.services.records import RequestsToAdd
from orderhub.store.fastsql import FastSql

# The refill since the bucket's last change, then the requests added, in one statement: a process never
# reads a bucket and writes it back (another may add between). An update's time earlier than the
# bucket's (clocks of two hosts a little apart) refills nothing and leaves the bucket's time as it was;
# one earlier by more than ``clocks_apart`` seconds comes from a clock set back (an NTP step): the bucket
# takes its time, else it would refill nothing until the clock is back where it was (a CO refused, 429,
# for the hour a clock went back).
_ADD = (
    "INSERT INTO rate_limit_buckets AS b (partner_id, used, per_minute, updated_at) VALUES {rows}"
    " ON CONFLICT (partner_id) DO UPDATE SET"
    " used = {least}({greatest}(b.used - {greatest}(excluded.updated_at - b.updated_at, 0)"
    " * excluded.per_minute / 60.0, 0) + excluded.used, ? * excluded.per_minute),"
    " per_minute = excluded.per_minute, updated_at = CASE WHEN excluded.updated_at < b.updated_at - ?"
    " THEN excluded.updated_at ELSE {greatest}(b.updated_at, excluded.updated_at) END"
    " RETURNING partner_id, used"
)


class RateLimitRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._sql = FastSql(connection)

    def add_requests(
        self, added: Sequence[RequestsToAdd], now: float, most_minutes: float, clocks_apart: float
    ) -> dict[str, float]:
        if not added:
            return {}
        # In the order of the partners' ids: two processes adding to the same buckets lock their rows in
        # the same order, so neither waits for a row the other holds while holding one it wants.
        rows = sorted(added)
        greatest, least = ("max", "min") if self._sql.sqlite else ("GREATEST", "LEAST")
        sql = _ADD.format(rows=", ".join(["(?, ?, ?, ?)"] * len(rows)), greatest=greatest, least=least)
        params = [value for row in rows for value in (row.partner_id, row.requests, row.per_minute, now)]
        return {
            partner_id: float(used) for partner_id, used in self._sql.all(sql, (*params, most_minutes, clocks_apart))
        }

    def delete_idle(self, before: float) -> None:
        self._sql.execute_now("DELETE FROM rate_limit_buckets WHERE updated_at < ?", (before,))
