"""The statements of the orders' work queue (store.order_repository runs them)."""

from __future__ import annotations

from datetime import UTC, datetime

from orderhub.domain.order_states import OrderState
from orderhub.domain.orders import WORKABLE_STATES

_SCHEDULED = OrderState.SCHEDULED.value
# Only a scheduled order waits for its due_at. An accepted one (or one in progress) is due at once: its
# due_at is the moment it was accepted at, which lies ahead after the clock was set back (an NTP step).
# Two terms, each a search of the index on (state, due_at).
_DUE_AT_ONCE_IN = ", ".join(f"'{state.value}'" for state in WORKABLE_STATES if state.value != _SCHEDULED)
# Parameter: now. Also what a scrape counts as the workers' backlog (store.operating_levels).
DUE = f"(state IN ({_DUE_AT_ONCE_IN}) OR (state = '{_SCHEDULED}' AND due_at <= ?))"
# Parameters: now, then the time after which a lease or retry time was set before the clock went back.
_NOT_LEASED = "(lease_until IS NULL OR lease_until < ? OR lease_until > ?)"

# Parameters: now, now, the set-back bound, the limit; then " FOR UPDATE SKIP LOCKED" or nothing.
DUE_ORDER_IDS = f"SELECT id FROM orders WHERE {DUE} AND {_NOT_LEASED} ORDER BY due_at LIMIT ?"
# Parameters: owner, until, order id, now, the set-back bound.
LEASE_ORDER = (
    f"UPDATE orders SET lease_owner = ?, lease_until = ?, attempts = attempts + 1 WHERE id = ? AND {_NOT_LEASED}"
)
# No lease or retry time is later: none counts as set before the clock went back.
NEVER_SET_BACK = datetime.max.replace(tzinfo=UTC)
