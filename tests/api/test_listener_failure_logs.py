"""A TMF622 delivery that fails says whose listener it is and which host it called, never the callback's
user, password or keys."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest

from orderhub.observability import JsonFormatter
from tests.api.support import get_token, running_server
from tests.api.test_tmf622 import BASE, CHANNELS, DELIVERED_WITHIN, auth, create, order_body
from tests.api.test_tmf622_events import LOOPBACK, listener_failures, unused_port


def test_a_failed_delivery_names_the_partner_and_the_callbacks_host(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    callback = f"http://hook:s3cr3t-pw@127.0.0.1:{unused_port()}/events?api_key=k-123"  # nothing listens there
    with running_server(tmp_path / "hub.db", **LOOPBACK) as server, server.client() as client:
        token = get_token(client, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
        registered = client.post(f"{BASE}/hub", json={"callback": callback}, headers=auth(token))
        assert registered.status_code == 201, registered.text
        create(client, token, order_body())
        deadline = time.monotonic() + DELIVERED_WITHIN
        while listener_failures(server, registered.json()["id"]) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)

    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records if r.name.startswith("orderhub")]
    failed = [json.loads(line) for line in lines if " failed (" in line]
    assert failed, lines
    partner = CHANNELS[0]["partner"]
    assert failed[0]["level"] == "WARNING"
    assert failed[0]["message"].startswith(
        f"listener {registered.json()['id']} of {partner} (callback host 127.0.0.1) failed ("
    ), failed[0]
    joined = "\n".join(lines)
    assert "s3cr3t-pw" not in joined and "k-123" not in joined
