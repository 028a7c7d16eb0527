"""A listener that fails is tried again after the configured first wait, twice as long after each
failure in a row, never longer than MAX_BACKOFF (ORDERHUB_HUB_RETRY_SECONDS)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from orderhub.domain.changes import Listener
from orderhub.services.hub import MAX_BACKOFF, HubService

NOW = datetime(2030, 1, 1, tzinfo=UTC)


class _Listeners:
    def __init__(self) -> None:
        self.failed_until: list[datetime] = []

    def failed(self, _listener_id: str, _error: str, retry_at: datetime) -> None:
        self.failed_until.append(retry_at)


class _Store:
    """What HubService.failed writes through: one write, recorded."""

    def __init__(self) -> None:
        self.listeners = _Listeners()

    def write_now(self, work: Any) -> Any:
        return work(self)


def test_each_failure_in_a_row_doubles_the_wait_from_the_first_one_up_to_the_bound() -> None:
    store = _Store()
    hub = HubService(store, clock=lambda: NOW, first_retry=timedelta(seconds=0.25))  # type: ignore[arg-type]
    listener = Listener("l-1", "p-1", "https://partner.example.com/events", None, NOW, 0)
    waits = [hub.failed(replace(listener, failures=n), "HTTP 500") - NOW for n in range(10)]
    assert waits[:4] == [timedelta(seconds=s) for s in (0.25, 0.5, 1, 2)]
    assert waits[-1] == MAX_BACKOFF and max(waits) == MAX_BACKOFF
    assert store.listeners.failed_until == [NOW + wait for wait in waits]
