"""An API's representation of an order, made once per version of the order.

Reading an order back from its rows and rendering it costs about ten times what telling whether it
changed does (one indexed read of its version, store.order_repository.stamp). Partners poll their
orders, mostly ones that have long stopped changing: each API keeps what it rendered, keyed by order
and version. The version is in the database, so a change made by any process (a worker, the CLI,
another API node) makes the next read render again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")  # what is rendered (services.ordering.OrderView)
T = TypeVar("T")  # what it is rendered as

# ~1-2 KB of JSON each: a few tens of MB at most, for the orders polled most recently.
DEFAULT_MAX_ENTRIES = 20_000


class RenderedOrders(Generic[V, T]):
    def __init__(self, render: Callable[[V], T], *, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.render = render
        self._max_entries = max_entries
        self._entries: dict[str, tuple[int, T]] = {}
        self._lock = threading.Lock()  # PostgreSQL reads run in worker threads

    def get(self, order_id: str, version: int) -> T | None:
        entry = self._entries.get(order_id)
        return entry[1] if entry is not None and entry[0] == version else None

    def put(self, order_id: str, version: int, rendered: T) -> None:
        with self._lock:
            entries = self._entries
            entries.pop(order_id, None)
            if len(entries) >= self._max_entries:
                # The oldest entry goes (dicts keep insertion order): cheap, and a miss only renders again.
                del entries[next(iter(entries))]
            entries[order_id] = (version, rendered)
