"""Two processes delivering TMF622 events from one PostgreSQL database: a listener is served by one of
them at a time, however long its deliveries take."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from orderhub.bootstrap import Services
from orderhub.services.hub import HubService
from tests.api.slow_listener import SlowListener
from tests.api.support import get_token, running_server
from tests.api.test_tmf622 import BASE, CHANNELS, DELIVERED_WITHIN, auth, create, order_body
from tests.api.test_tmf622_events import LOOPBACK
from tests.clocks import MovableClock
from tests.integration.test_clock_steps import listener_with_an_event


def test_a_slow_listener_gets_each_event_once_from_one_worker_at_a_time(tmp_path: Path) -> None:
    listener = SlowListener(delay=0.8)  # 12 events: ~10 s of answers
    db_path = tmp_path / "hub.db"  # one database for both processes
    # A delivery may take 1.5 s at most; the lease, renewed before each, outlasts one by 3.5 s (in service
    # it is twice the deadline plus 10 s): what keeps a second worker off while the first delivers.
    settings = {**LOOPBACK, "hub_delivery_timeout_seconds": 1.5}
    try:
        with (
            running_server(db_path, **settings) as first,
            running_server(db_path, **settings) as second,
            first.client() as http,
        ):
            for server in (first, second):
                # The test's own lease, 5 s, so that a run of ~10 s outlasts it (as 60 s of answers
                # outlasted the old lease); nothing is leased before the listener is registered.
                server.services.hub._lease = timedelta(seconds=5)
            token = get_token(http, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
            registered = http.post(f"{BASE}/hub", json={"callback": listener.url}, headers=auth(token))
            assert registered.status_code == 201, registered.text
            for _ in range(4):
                create(http, token, order_body())
            events = listener.wait_for(12, timeout=10 + DELIVERED_WITHIN)
            # Counted while both serve: a process that stops cuts the delivery it has under way, and the
            # other sends that event again (at least once) while the listener may still be answering it.
            listener.wait_until_answered(timeout=5)
            most_at_once = listener.most_at_once
        ids = [int(event["eventId"]) for event in events]
        assert ids == sorted(set(ids)) and len(ids) == 12, ids  # each once, in order
        assert most_at_once == 1
    finally:
        listener.close()


def test_a_lease_holds_against_a_process_whose_clock_is_ahead_by_less_than_the_minute_hosts_may_differ(
    pg_services: Services,
) -> None:
    """README: the hosts' clocks must agree to within a minute. A listener's lease is 30 s (twice the
    delivery deadline plus 10 s): dated by the clock of the process that took it, a worker whose clock
    was 45 s ahead found it over the moment it was taken, and sent the same events at the same time."""
    clock = MovableClock()
    ahead = MovableClock()
    ahead.now = clock.now + timedelta(seconds=45)
    first, second = HubService(pg_services.database, clock=clock), HubService(pg_services.database, clock=ahead)
    listener_with_an_event(pg_services, clock)
    assert [claimed.id for claimed in first.claim_due(8)] == ["L1"]
    assert second.claim_due(8) == []
    assert first.renew("L1")
    assert second.claim_due(8) == []
    first.release("L1")  # served: the other process may take it at once, whatever its clock
    assert [claimed.id for claimed in second.claim_due(8)] == ["L1"]
