"""What a scrape of /metrics reads from the database besides the inventory: the worker's backlog and the
TMF622 listeners whose deliveries fail. Read-only, two statements, each a search of an index or a small
table: orders by (state, due_at), listeners whole (a few a partner)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from orderhub.store.fastsql import FastSql, read_time
from orderhub.store.work_queue_sql import DUE


@dataclass(frozen=True)
class OperatingLevels:
    # Orders due now and not finished, by the API (dialect) that placed them.
    due_by_dialect: dict[str, int]
    # When the order due longest became due (None: none is due).
    oldest_due_at: datetime | None
    # Listeners whose last delivery failed (failures in a row).
    listeners_failing: int


# Due as the worker takes orders (store.work_queue_sql): leases and retry times are left out, as an order
# held by a worker, or waiting to be tried again, is still backlog, and the one that waits longest is what
# an alert watches.
_DUE_BY_DIALECT = f"SELECT dialect, COUNT(*), MIN(due_at) FROM orders WHERE {DUE} GROUP BY dialect"
_LISTENERS_FAILING = "SELECT COUNT(*) FROM hub_listeners WHERE failures > 0"


def read_operating_levels(connection: sa.Connection, now: datetime) -> OperatingLevels:
    sql = FastSql(connection)
    rows = sql.all(_DUE_BY_DIALECT, (sql.time(now),))
    failing = sql.one(_LISTENERS_FAILING)
    oldest = min((moment for row in rows if (moment := read_time(row[2])) is not None), default=None)
    return OperatingLevels({str(row[0]): int(row[1]) for row in rows}, oldest, int(failing[0]) if failing else 0)
