"""Two processes delivering TMF622 events from one PostgreSQL database: a listener is served by one of
them at a time, however long its deliveries take."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.api.slow_listener import SlowListener
from tests.api.support import get_token, running_server
from tests.api.test_tmf622 import BASE, CHANNELS, auth, create, order_body
from tests.api.test_tmf622_events import LOOPBACK


def test_a_slow_listener_gets_each_event_once_from_one_worker_at_a_time(tmp_path: Path) -> None:
    listener = SlowListener(delay=1.0)  # 6 events: 6 s of answers
    db_path = tmp_path / "hub.db"  # one database for both processes
    try:
        with (
            running_server(db_path, **LOOPBACK) as first,
            running_server(db_path, **LOOPBACK) as second,
            first.client() as http,
        ):
            for server in (first, second):
                # The test's own lease, 2 s, so that a run of 6 s outlasts it many times over (as 60 s of
                # answers outlasted the default); nothing is leased before the listener is registered.
                server.services.hub._lease = timedelta(seconds=2)
            token = get_token(http, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
            registered = http.post(f"{BASE}/hub", json={"callback": listener.url}, headers=auth(token))
            assert registered.status_code == 201, registered.text
            for _ in range(2):
                create(http, token, order_body())
            events = listener.wait_for(6, timeout=12)
        ids = [int(event["eventId"]) for event in events]
        assert ids == sorted(set(ids)) and len(ids) == 6, ids  # each once, in order
        assert listener.most_at_once == 1
    finally:
        listener.close()
