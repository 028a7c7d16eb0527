"""A delivery that fails on a fault of orderhub's own (an exception, not the listener's answer) waits the
listener's backoff as a failed delivery does, its last error saying so. It was released without a word
and claimed again at the next poll: a traceback each time, several a second, for as long as it lasted
(a listener with a 64-character label in its host logged 4,838 of them in 18 minutes)."""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa

from orderhub.services.demo import demo_credentials
from tests.api.support import get_token, running_server
from tests.api.test_tmf622 import DELIVERED_WITHIN

BASE = "/tmf-api/productOrderingManagement/v4"
CHANNEL = demo_credentials()["tmf-productorder"][0]  # demo-channel-1, of business unit CR alone


def test_a_fault_while_delivering_makes_the_listener_wait_its_backoff(tmp_path: Path) -> None:
    settings = {"hub_allowed_networks": "127.0.0.0/8", "hub_retry_seconds": 2.0, "worker_poll_seconds": 0.1}
    with running_server(tmp_path / "hub.db", **settings) as server, server.client() as client:
        token = get_token(client, str(CHANNEL["client_id"]), str(CHANNEL["client_secret"]))
        bearer = {"Authorization": f"Bearer {token}"}
        registered = client.post(f"{BASE}/hub", json={"callback": "http://127.0.0.1:9/events"}, headers=bearer)
        assert registered.status_code == 201, registered.text
        listener_id = registered.json()["id"]
        # A callback no registration takes now (a port beyond 65535), as an older release may have stored
        # one: reading it raises in the delivery itself.
        with server.services.engine.begin() as connection:
            stored_before = {"callback": "http://127.0.0.1:99999/events", "id": listener_id}
            connection.execute(sa.text("UPDATE hub_listeners SET callback = :callback WHERE id = :id"), stored_before)
        characteristics = [{"name": "MSISDN", "value": "69877689"}, {"name": "planType", "value": "DataPlan"}]
        item = {
            "action": "add",
            "productOffering": {"id": "OFFER-DP-001"},
            "product": {"productCharacteristic": characteristics},
        }
        placed = client.post(f"{BASE}/productOrder", json={"productOrderItem": [item]}, headers=bearer)
        assert placed.status_code == 201, placed.text
        deadline = time.monotonic() + DELIVERED_WITHIN
        stored = None
        while time.monotonic() < deadline and (stored is None or stored.last_error is None):
            time.sleep(0.1)
            with server.services.uow_factory(read_only=True) as uow:
                stored = uow.listeners.get(listener_id)
        assert stored is not None and stored.last_error is not None, stored
        assert stored.last_error.startswith("internal error (ValueError)"), stored.last_error
        # Then it waits its 2 s: not tried at every poll (0.1 s) meanwhile.
        time.sleep(1.0)
        with server.services.uow_factory(read_only=True) as uow:
            later = uow.listeners.get(listener_id)
        assert later is not None and stored.next_attempt_at is not None, later
        assert later.failures <= stored.failures + 1, later  # at every poll, it would have been ten
