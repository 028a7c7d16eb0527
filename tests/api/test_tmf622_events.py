"""TMF622 events delivered late show the order as it was right after their change, not as it is when they
are sent: a listener that was down gets, once back, each event as it would have got it at the time."""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from orderhub.domain.orders import Operation
from tests.api.support import RunningServer, get_token, new_esim_body, place, running_server
from tests.api.test_tmf622 import BASE, CHANNELS, DELIVERED_WITHIN, Listener, auth, create, later, order_body

MERGE = {"Content-Type": "application/merge-patch+json"}
# The listener is on this machine; its retries come quickly (the waits are not what is tested).
LOOPBACK = {"hub_allowed_networks": "127.0.0.1/32", "worker_poll_seconds": 0.2, "hub_retry_seconds": 0.1}


def unused_port() -> int:
    """A loopback port nothing listens on (the listener starts on it later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def relative_links(value: Any) -> Any:
    """The resource with its links' scheme and host removed: events link to ORDERHUB_PUBLIC_URL, answers
    to the address the request came to."""
    if isinstance(value, dict):
        return {name: relative_links(member) for name, member in value.items()}
    if isinstance(value, list):
        return [relative_links(member) for member in value]
    return re.sub(r"^https?://[^/]+/", "/", value) if isinstance(value, str) else value


def settled(client: httpx.Client, token: str, reference: str, state: str) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while True:
        shown = client.get(f"{BASE}/productOrder/{reference}", headers=auth(token)).json()
        if shown["state"] == state or time.monotonic() > deadline:
            assert shown["state"] == state, shown
            return dict(shown)
        time.sleep(0.05)


def listener_failures(server: RunningServer, listener_id: str) -> int:
    with server.services.uow_factory(read_only=True) as uow:
        stored = uow.listeners.get(listener_id)
    assert stored is not None
    return stored.failures


def test_events_delivered_after_the_listener_was_down_show_the_order_as_it_was_at_each_change(
    tmp_path: Path,
) -> None:
    port = unused_port()
    callback = f"http://127.0.0.1:{port}/listener"  # nothing listens there yet: the listener is down
    with running_server(tmp_path / "hub.db", **LOOPBACK) as server, server.client() as client:
        token = get_token(client, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
        registered = client.post(f"{BASE}/hub", json={"callback": callback}, headers=auth(token))
        assert registered.status_code == 201, registered.text

        # 1. Due now: acknowledged, inProgress, completed.
        done = create(client, token, order_body())
        done_last = settled(client, token, done["id"], "completed")
        # 2. For later (pending), its description and date changed while pending (an attribute change),
        #    then made due now: acknowledged again, inProgress, completed.
        moved = create(client, token, order_body(requestedStartDate=later(3), description="first"))
        assert moved["state"] == "pending"
        path = f"{BASE}/productOrder/{moved['id']}"
        patch = {"description": "second", "requestedStartDate": later(5)}
        changed = client.patch(path, content=json.dumps(patch), headers=auth(token, **MERGE))
        assert changed.status_code == 200, changed.text
        due_now = {"description": "third", "requestedStartDate": later(-1)}
        assert client.patch(path, content=json.dumps(due_now), headers=auth(token, **MERGE)).status_code == 200
        moved_last = settled(client, token, moved["id"], "completed")
        # 3. For later, then cancelled: assessingCancellation, pendingCancellation, cancelled.
        called_off = create(client, token, order_body(requestedStartDate=later(4), description="to cancel"))
        cancelled = client.post(
            f"{BASE}/cancelProductOrder",
            json={"productOrder": {"id": called_off["id"]}, "cancellationReason": "plans changed"},
            headers=auth(token),
        )
        assert cancelled.status_code == 201 and cancelled.json()["state"] == "done", cancelled.text
        called_off_last = settled(client, token, called_off["id"], "cancelled")

        deadline = time.monotonic() + DELIVERED_WITHIN
        while listener_failures(server, registered.json()["id"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert listener_failures(server, registered.json()["id"]) >= 2  # it was tried while down
        listener = Listener(port)  # up, on the address it registered
        events = listener.wait_for(16, timeout=DELIVERED_WITHIN)

    listener.close()
    assert len(events) == 16, [e["eventType"] for e in events]
    assert [int(e["eventId"]) for e in events] == sorted(int(e["eventId"]) for e in events)
    # The cancellation request's own two events (test_tmf622_cancel_events.py); the order's follow.
    requested = [e["eventType"] for e in events if "cancelProductOrder" in e["event"]]
    assert requested == ["CancelProductOrderCreateEvent", "CancelProductOrderStateChangeEvent"]
    events = [e for e in events if "productOrder" in e["event"]]
    by_order: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_order.setdefault(event["event"]["productOrder"]["id"], []).append(event)
    shown = {reference: [e["event"]["productOrder"] for e in found] for reference, found in by_order.items()}
    kinds = {reference: [e["eventType"] for e in found] for reference, found in by_order.items()}
    for reference in (done["id"], called_off["id"]):
        assert kinds[reference][0] == "ProductOrderCreateEvent"
        assert set(kinds[reference][1:]) == {"ProductOrderStateChangeEvent"}
    assert kinds[moved["id"]][:3] == [
        "ProductOrderCreateEvent",
        "ProductOrderStateChangeEvent",
        "ProductOrderAttributeValueChangeEvent",
    ]
    assert set(kinds[moved["id"]][3:]) == {"ProductOrderStateChangeEvent"}
    for reference in (done["id"], moved["id"], called_off["id"]):
        # Each item follows its order's state while the order runs; no dates of an ending before it ends.
        for order in shown[reference]:
            assert {item["state"] for item in order["productOrderItem"]} == {order["state"]}, order
            assert ("completionDate" in order) == (order["state"] in ("completed", "cancelled")), order

    assert [o["state"] for o in shown[done["id"]]] == ["acknowledged", "inProgress", "completed"]
    assert relative_links(shown[done["id"]][-1]) == relative_links(done_last)

    assert [o["state"] for o in shown[moved["id"]]] == [
        "acknowledged",
        "pending",
        "pending",
        "acknowledged",
        "inProgress",
        "completed",
    ]
    # Created and scheduled in one transaction: both show what the create answered, although the
    # description and the date were changed twice since.
    for order in shown[moved["id"]][:2]:
        assert order["description"] == "first", order
        assert order["requestedStartDate"] == moved["requestedStartDate"], order
    assert relative_links(shown[moved["id"]][1]) == relative_links(moved)
    # The first change, as it left the order.
    assert shown[moved["id"]][2]["description"] == "second"
    assert shown[moved["id"]][2]["requestedStartDate"] == changed.json()["requestedStartDate"]
    assert relative_links(shown[moved["id"]][2]) == relative_links(changed.json())
    # Made due now by the last change, which also set the description: the events after it show both.
    for order in shown[moved["id"]][3:]:
        assert order["description"] == "third", order
        assert order["requestedStartDate"] == moved_last["requestedStartDate"], order
        assert order["requestedStartDate"] < later(0), order
    assert relative_links(shown[moved["id"]][-1]) == relative_links(moved_last)

    assert [o["state"] for o in shown[called_off["id"]]] == [
        "acknowledged",
        "pending",
        "assessingCancellation",
        "pendingCancellation",
        "cancelled",
    ]
    assert relative_links(shown[called_off["id"]][1]) == relative_links(called_off)
    assert all("cancellationDate" not in order for order in shown[called_off["id"]][:-1])
    assert all("cancellationReason" not in order for order in shown[called_off["id"]][:-1])
    assert shown[called_off["id"]][-1]["cancellationReason"] == "plans changed"
    assert relative_links(shown[called_off["id"]][-1]) == relative_links(called_off_last)


def test_events_written_without_what_they_show_are_delivered_with_the_order_as_it_is(tmp_path: Path) -> None:
    """Events stored before migration 0013 have no snapshot: they still go out, showing the order now.
    And orders no listener hears about (esim-v1's) store no snapshot with their events."""
    listener = Listener()
    listener.failing = True
    with running_server(tmp_path / "hub.db", **LOOPBACK) as server, server.client() as client:
        token = get_token(client, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
        registered = client.post(f"{BASE}/hub", json={"callback": listener.url}, headers=auth(token))
        assert registered.status_code == 201, registered.text
        order = create(client, token, order_body(requestedStartDate=later(3), description="before"))
        patched = client.patch(
            f"{BASE}/productOrder/{order['id']}", json={"description": "after"}, headers=auth(token, **MERGE)
        )
        assert patched.status_code == 200, patched.text
        reseller = get_token(client, "demo-reseller-1", "demo-reseller-1-secret")
        assert place(client, reseller, new_esim_body()).status_code == 201
        with server.services.engine.begin() as connection:
            snapshots = dict(
                connection.execute(
                    sa.text(
                        "SELECT o.operation, COUNT(e.snapshot) FROM order_events e"
                        " JOIN orders o ON o.id = e.order_id GROUP BY o.operation"
                    )
                ).all()
            )
            assert snapshots == {Operation.LINE_PRODUCTS.value: 3, Operation.NEW_ESIM.value: 0}, snapshots
            connection.execute(sa.text("UPDATE order_events SET snapshot = NULL"))
        # An attempt may have read its events before the update and send them after it: two attempts
        # refused since, the second read them after the first failed, so from now on all read anew.
        refused, deadline = listener.refused, time.monotonic() + 30
        while listener.refused < refused + 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        listener.failing = False
        events = listener.wait_for(3, timeout=DELIVERED_WITHIN)
        assert [e["event"]["productOrder"]["state"] for e in events] == ["acknowledged", "pending", "pending"]
        assert [e["event"]["productOrder"]["description"] for e in events] == ["after", "after", "after"]
    listener.close()


def test_a_patch_that_moves_no_state_and_a_deletion_send_their_own_events(tmp_path: Path) -> None:
    """Listeners heard of neither: a PATCH of a waiting order and a DELETE changed what their GET showed,
    and no event said so."""
    listener = Listener()
    chosen = "eventType=ProductOrderAttributeValueChangeEvent,ProductOrderDeleteEvent"
    with running_server(tmp_path / "hub.db", **LOOPBACK) as server, server.client() as client:
        token = get_token(client, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
        registered = client.post(f"{BASE}/hub", json={"callback": listener.url, "query": chosen}, headers=auth(token))
        assert registered.status_code == 201, registered.text
        order = create(client, token, order_body(requestedStartDate=later(3), description="first"))
        path = f"{BASE}/productOrder/{order['id']}"
        changed = client.patch(path, json={"description": "second"}, headers=auth(token, **MERGE))
        assert changed.status_code == 200, changed.text
        # The same again changes nothing: no event.
        assert client.patch(path, json={"description": "second"}, headers=auth(token, **MERGE)).status_code == 200
        # Made due now: a state change, which this listener did not choose.
        due_now = client.patch(path, json={"requestedStartDate": later(-1)}, headers=auth(token, **MERGE))
        assert due_now.status_code == 200, due_now.text
        done = settled(client, token, order["id"], "completed")
        assert client.delete(path, headers=auth(token)).status_code == 204
        events = listener.wait_for(2, timeout=DELIVERED_WITHIN)
        time.sleep(0.5)  # nothing more comes
    listener.close()
    assert [e["eventType"] for e in listener.events] == [
        "ProductOrderAttributeValueChangeEvent",
        "ProductOrderDeleteEvent",
    ]
    assert relative_links(events[0]["event"]["productOrder"]) == relative_links(changed.json())
    assert events[0]["event"]["productOrder"]["state"] == "pending"
    assert relative_links(events[1]["event"]["productOrder"]) == relative_links(done)


def test_a_registration_sent_again_gives_the_same_listener_and_each_event_once(tmp_path: Path) -> None:
    """A registration retried after its answer was lost made a second listener: every event came twice."""
    listener = Listener()
    with running_server(tmp_path / "hub.db", **LOOPBACK) as server, server.client() as client:
        token = get_token(client, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
        other = get_token(client, str(CHANNELS[1]["client_id"]), str(CHANNELS[1]["client_secret"]))

        def register(query: str | None = None, as_token: str = token) -> str:
            body = {"callback": listener.url, **({"query": query} if query else {})}
            answer = client.post(f"{BASE}/hub", json=body, headers=auth(as_token))
            assert answer.status_code == 201, answer.text
            return str(answer.json()["id"])

        first = register()
        assert register() == first
        chosen = register("eventType=ProductOrderCreateEvent")
        assert chosen != first and register("eventType=ProductOrderCreateEvent") == chosen
        assert register(as_token=other) != first  # another partner's listener is its own
        order = create(client, token, order_body())
        settled(client, token, order["id"], "completed")
        events = listener.wait_for(4, timeout=DELIVERED_WITHIN)
        time.sleep(0.5)  # nothing more comes
        assert client.delete(f"{BASE}/hub/{first}", headers=auth(token)).status_code == 204
        assert register() != first  # removed, then registered anew
    listener.close()
    assert sorted(e["eventType"] for e in events) == [
        "ProductOrderCreateEvent",
        "ProductOrderCreateEvent",
        "ProductOrderStateChangeEvent",
        "ProductOrderStateChangeEvent",
    ]
    assert len({e["eventId"] for e in events}) == 3
