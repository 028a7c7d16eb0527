"""A pending order that falls due tells the story a PATCH making it due tells: pending, acknowledged,
inProgress. It went from pending straight to inProgress, a step TMF622's state model has not, and
listeners heard of one business event in two ways."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.api.support import get_token, running_server
from tests.api.test_tmf622 import (
    BASE,
    CHANNELS,
    DELIVERED_WITHIN,
    Listener,
    auth,
    create,
    history,
    later,
    order_body,
)
from tests.api.test_tmf622_events import LOOPBACK, settled

MERGE = {"Content-Type": "application/merge-patch+json"}


def test_an_order_that_falls_due_is_acknowledged_again_before_it_is_provisioned(tmp_path: Path) -> None:
    listener = Listener()
    with running_server(tmp_path / "hub.db", **LOOPBACK) as server, server.client() as client:
        token = get_token(client, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
        chosen = {"callback": listener.url, "query": "eventType=ProductOrderStateChangeEvent"}
        assert client.post(f"{BASE}/hub", json=chosen, headers=auth(token)).status_code == 201
        # Due in two seconds: the worker starts it then, with no request of the partner's.
        soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        falls_due = create(client, token, order_body(requestedStartDate=soon))
        assert falls_due["state"] == "pending", falls_due
        settled(client, token, falls_due["id"], "completed")
        # Made due by the partner's PATCH.
        made_due = create(client, token, order_body(requestedStartDate=later(3)))
        path = f"{BASE}/productOrder/{made_due['id']}"
        patched = client.patch(path, json={"requestedStartDate": later(-1)}, headers=auth(token, **MERGE))
        assert patched.status_code == 200, patched.text
        settled(client, token, made_due["id"], "completed")
        events = listener.wait_for(8, timeout=DELIVERED_WITHIN)
        time.sleep(0.5)  # nothing more comes
        histories = {reference: history(server, reference) for reference in (falls_due["id"], made_due["id"])}
    listener.close()

    story = ["acknowledged", "pending", "acknowledged", "inProgress", "completed"]
    assert histories == {falls_due["id"]: story, made_due["id"]: story}
    heard: dict[str, list[str]] = {}
    for event in listener.events:
        shown = event["event"]["productOrder"]
        heard.setdefault(shown["id"], []).append(shown["state"])
    # The state changes after the create event (pending is the create's transaction's own change).
    assert len(events) == 8
    assert heard == {falls_due["id"]: story[1:], made_due["id"]: story[1:]}
