"""What a scrape of /metrics reads from the database besides the inventory: the worker's backlog and the
TMF622 listeners whose deliveries fail. Read-only, two statements, each a search of an index or a small
table: orders by (state, due_at), listeners whole (a few a partner)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from orderhub.domain.order_states import OrderState
from orderhub.domain.orders import WORKABLE_STATES
from orderhub.store.tables import hub_listeners, orders


@dataclass(frozen=True)
class OperatingLevels:
    # Orders due now and not finished, by the API (dialect) that placed them.
    due_by_dialect: dict[str, int]
    # When the order due longest became due (None: none is due).
    oldest_due_at: datetime | None
    # Listeners whose last delivery failed (failures in a row).
    listeners_failing: int


# Due as the worker takes orders (store.work_queue_sql): an accepted or in-progress order at once, a
# scheduled one from its due_at. Leases and retry times are left out: an order held by a worker, or
# waiting to be tried again, is still backlog, and the one that waits longest is what an alert watches.
_AT_ONCE = [state.value for state in WORKABLE_STATES if state is not OrderState.SCHEDULED]


def read_operating_levels(connection: sa.Connection, now: datetime) -> OperatingLevels:
    due = sa.or_(
        orders.c.state.in_(_AT_ONCE),
        sa.and_(orders.c.state == OrderState.SCHEDULED.value, orders.c.due_at <= now),
    )
    rows = connection.execute(
        sa.select(orders.c.dialect, sa.func.count(), sa.func.min(orders.c.due_at)).where(due).group_by(orders.c.dialect)
    ).all()
    failing = connection.execute(
        sa.select(sa.func.count()).select_from(hub_listeners).where(hub_listeners.c.failures > 0)
    ).scalar_one()
    oldest = min((row[2] for row in rows if row[2] is not None), default=None)
    return OperatingLevels({row[0]: row[1] for row in rows}, oldest, failing)
