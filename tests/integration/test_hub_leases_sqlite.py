"""Two processes delivering TMF622 events from one SQLite file (`serve` with its worker next to an
`orderhub worker`, or a restart that overlaps): the one that starts second must not clear the leases of
the one still delivering, or both would send the same events at the same time. A process that ended
without releasing its leases (a crash) leaves them to the next one to clear at once."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orderhub.bootstrap import Services, build_services
from orderhub.domain.changes import Listener
from orderhub.services.demo import load_demo_data
from orderhub.settings import Settings
from tests.integration.support import sqlite_url
from tests.integration.test_listened_events import add_event, add_order

pytestmark = pytest.mark.integration


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[tuple[Services, Services]]:
    url = sqlite_url(tmp_path / "hub.db")
    first = build_services(Settings(database_url=url))
    first.migrate()
    load_demo_data(first.uow_factory, inventory_size=1)
    second = build_services(Settings(database_url=url))
    yield first, second
    second.close()
    first.close()


def test_the_second_dispatcher_leaves_the_first_ones_leases_and_clears_them_once_it_is_gone(
    two_processes: tuple[Services, Services], tmp_path: Path
) -> None:
    first, second = two_processes
    listener = Listener("L1", "demo-channel-1", "https://listener.example/cb", None, datetime.now(UTC), 0)
    with first.uow_factory() as uow:
        uow.listeners.register(listener)
        uow.commit()
    with first.engine.begin() as connection:  # an event for it: a listener with nothing to send is not leased
        add_order(connection, "line-1", "demo-channel-1", "LINE_PRODUCTS")
        add_event(connection, "line-1", snapshot=True)

    first.hub.reclaim_abandoned()  # the first to start: nothing to clear, and it now holds the lock
    assert [claimed.id for claimed in first.hub.claim_due(8)] == ["L1"]
    second.hub.reclaim_abandoned()  # the first still delivers: its lease stays
    assert second.hub.claim_due(8) == []
    assert first.hub.renew("L1")  # the first goes on, alone

    # The first ends without releasing its lease (as a crash does; the system frees its lock).
    first.hub.stopped_dispatching()
    assert not (tmp_path / "hub.db-dispatcher").exists()
    second.hub.reclaim_abandoned()
    assert [claimed.id for claimed in second.hub.claim_due(8)] == ["L1"]
    second.hub.stopped_dispatching()


def test_polling_for_due_listeners_leaves_no_cycles_for_the_collector(
    two_processes: tuple[Services, Services],
) -> None:
    """The dispatcher polls five times a second; each poll once left four reference cycles behind (the
    query's ordering built anew), and the collector's pauses fall on the request path."""
    first, _ = two_processes
    for _ in range(5):  # first-time set-up: compiled statements, caches
        first.hub.claim_due(8)
    gc.collect()
    gc.disable()
    try:
        for _ in range(50):
            first.hub.claim_due(8)
        assert gc.collect() == 0
    finally:
        gc.enable()
