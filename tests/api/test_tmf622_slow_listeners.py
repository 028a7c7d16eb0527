"""A slow, stuck or removed TMF622 listener, as the partners' listeners see it: each listener is served on
its own (one that takes its time never holds another partner's events), a delivery has a deadline for the
whole answer, a removed listener gets nothing more, and a crash does not hold a listener's events back."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.slow_listener import SlowListener
from tests.api.support import get_token, running_server
from tests.api.test_tmf622 import BASE, CHANNELS, DELIVERED_WITHIN, Listener, auth, create, order_body
from tests.api.test_tmf622_events import LOOPBACK
from tests.integration.support import OrderhubProcess, OrderhubProcesses, client

# Settings of the `orderhub serve` processes below (a delivery's deadline short, retries quick).
SERVE_ENV = {
    "ORDERHUB_HUB_ALLOWED_NETWORKS": "127.0.0.1/32",
    "ORDERHUB_WORKER_POLL_SECONDS": "0.2",
    "ORDERHUB_HUB_RETRY_SECONDS": "0.1",
    "ORDERHUB_HUB_DELIVERY_TIMEOUT_SECONDS": "1",
}


def tokens(http: httpx.Client) -> list[str]:
    """An access token for each of the two TMF622 partners."""
    return [get_token(http, str(channel["client_id"]), str(channel["client_secret"])) for channel in CHANNELS[:2]]


def second_partners_order() -> dict[str, object]:
    """An order of the second partner, which orders for two business units and so names one."""
    body = order_body()
    body["productOrderItem"][0]["product"]["productCharacteristic"].append({"name": "businessId", "value": "CR"})
    return body


def register(http: httpx.Client, token: str, callback: str) -> str:
    registered = http.post(f"{BASE}/hub", json={"callback": callback}, headers=auth(token))
    assert registered.status_code == 201, registered.text
    return str(registered.json()["id"])


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[OrderhubProcesses]:
    started = OrderhubProcesses(tmp_path)
    try:
        yield started
    finally:
        started.close()


def test_a_slow_listener_does_not_hold_up_another_partners_listener(tmp_path: Path) -> None:
    slow = SlowListener()
    slow.hold.set()  # takes its time over the first event: until let go, well past the test's waits
    quick = Listener()
    # The slow listener's delivery is not cut at a deadline while the other partner's events are awaited:
    # held up by it, those would not come at all.
    settings = {**LOOPBACK, "hub_delivery_timeout_seconds": 120.0}
    try:
        with running_server(tmp_path / "hub.db", **settings) as server, server.client() as http:
            first, second = tokens(http)
            register(http, first, slow.url)
            register(http, second, quick.url)
            for _ in range(3):  # 9 events for the slow listener
                create(http, first, order_body())
            assert len(slow.wait_for(1, timeout=DELIVERED_WITHIN)) == 1
            create(http, second, second_partners_order())
            events = quick.wait_for(3, timeout=DELIVERED_WITHIN)
            assert [e["event"]["productOrder"]["state"] for e in events] == ["acknowledged", "inProgress", "completed"]
            # The slow one was still being served its first event all along.
            assert (len(slow.arrivals), slow.most_at_once) == (1, 1)
            slow.hold.clear()
    finally:
        slow.close()
        quick.close()


def test_a_listener_that_trickles_its_answer_fails_at_the_deadline_and_gets_the_event_again(
    processes: OrderhubProcesses,
) -> None:
    trickler = SlowListener(trickle=0.3)  # a 200 whose body never ends: a chunk every 0.3 s
    quick = Listener()
    try:
        server = processes.serve(processes.tmp_path / "orderhub.db", env=SERVE_ENV)
        with client(server.base_url) as http:
            first, second = tokens(http)
            register(http, first, trickler.url)
            register(http, second, quick.url)
            create(http, first, order_body())
            create(http, second, second_partners_order())
            # The other partner's listener gets its events while the trickler is being sent its first.
            assert len(quick.wait_for(3, timeout=DELIVERED_WITHIN)) == 3
            trickler.wait_for(2, timeout=DELIVERED_WITHIN)
        # The same event again: the first delivery failed at the deadline (1 s here), then was retried.
        ids = trickler.event_ids()
        assert len(ids) >= 2 and ids[0] == ids[1], ids
        # Not before the deadline; after it by the retry (0.1 s) and the time a loaded machine takes, well
        # short of the default deadline (10 s) the setting replaces. (Without a deadline for the whole
        # answer the trickle, which never ends, would never be given up.)
        gap = trickler.arrivals[1][0] - trickler.arrivals[0][0]
        assert 0.9 < gap < 6, gap
    finally:
        trickler.close()
        quick.close()


def test_a_removed_listener_gets_nothing_after_its_delete(tmp_path: Path) -> None:
    listener = SlowListener()
    # The first delivery is held under way until the DELETE is answered: every delivery after it starts
    # after the DELETE, however the machine's load spreads the requests out (a delivery timed against
    # the DELETE's answer could reach the listener after it, started before it).
    listener.hold.set()
    settings = {**LOOPBACK, "hub_delivery_timeout_seconds": 120.0}
    try:
        with running_server(tmp_path / "hub.db", **settings) as server, server.client() as http:
            token, _ = tokens(http)
            listener_id = register(http, token, listener.url)
            for _ in range(2):  # 6 events
                create(http, token, order_body())
            assert len(listener.wait_for(1, timeout=DELIVERED_WITHIN)) == 1
            assert http.delete(f"{BASE}/hub/{listener_id}", headers=auth(token)).status_code == 204
            listener.hold.clear()  # the one under way when the DELETE came may finish; none starts after it
            create(http, token, order_body())  # placed after the DELETE
            listener.wait_until_answered(timeout=DELIVERED_WITHIN)
            time.sleep(2)
        assert len(listener.arrivals) == 1, listener.event_ids()
    finally:
        listener.close()


def test_a_listener_removed_while_its_name_is_looked_up_gets_nothing_after_its_delete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The event went out after the 204: the lease was renewed, then the name looked up (the resolver taking
    its time), then the event sent, without a look whether the listener was still there."""
    listener = SlowListener()
    looking_up, deleted = threading.Event(), threading.Event()
    real = socket.getaddrinfo

    def slow_resolver(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "listener.example":
            return real(host, *args, **kwargs)
        looking_up.set()
        # The system's resolver, taking its time: until the DELETE has been answered (not a fixed second,
        # which a loaded machine's DELETE could outlast, sending the event before the 204 and timing its
        # arrival after it).
        deleted.wait(10)
        return real("127.0.0.1", *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow_resolver)
    try:
        with running_server(tmp_path / "hub.db", **LOOPBACK) as server, server.client() as http:
            token, _ = tokens(http)
            callback = listener.url.replace("127.0.0.1", "listener.example")
            listener_id = register(http, token, callback)
            create(http, token, order_body())
            assert looking_up.wait(10)
            assert http.delete(f"{BASE}/hub/{listener_id}", headers=auth(token)).status_code == 204
            deleted.set()
            time.sleep(2)
        assert listener.event_ids() == []
    finally:
        listener.close()


def test_after_a_crash_the_listener_being_served_gets_its_events_at_once(processes: OrderhubProcesses) -> None:
    listener = SlowListener()
    listener.hold.set()  # the first delivery hangs: the process is killed in the middle of it
    db_path = processes.tmp_path / "orderhub.db"
    try:
        crashed: OrderhubProcess = processes.serve(db_path, env=SERVE_ENV)
        with client(crashed.base_url) as http:
            token, _ = tokens(http)
            register(http, token, listener.url)
            create(http, token, order_body())
        listener.wait_for(1, timeout=5)
        crashed.kill()  # SIGKILL in the middle of a delivery: its lease on the listener stays behind
        tried = len(listener.arrivals)
        listener.hold.clear()
        restarted = processes.serve(db_path, env=SERVE_ENV)
        ready = time.monotonic()
        events = listener.wait_for(tried + 3, timeout=6)  # the first event again, then the two after it
        assert time.monotonic() - ready < 5
        states = [e["event"]["productOrder"]["state"] for e in events[tried:]]
        assert states == ["acknowledged", "inProgress", "completed"]
        restarted.terminate()
    finally:
        listener.close()
