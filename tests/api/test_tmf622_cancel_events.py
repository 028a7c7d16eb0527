"""TMF622 listeners hear of cancellation requests: a CancelProductOrderCreateEvent, the order's own events
from the cancellation, then a CancelProductOrderStateChangeEvent, each showing the request as
GET /cancelProductOrder/{id} does. Runs on SQLite and, with ORDERHUB_TEST_POSTGRES, on PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from tests.api.support import get_token, running_server
from tests.api.test_tmf622 import BASE, CHANNELS, DELIVERED_WITHIN, Listener, auth, create, later, order_body
from tests.api.test_tmf622_events import LOOPBACK, relative_links, settled


def register(client: httpx.Client, token: str, listener: Listener, query: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"callback": listener.url} if query is None else {"callback": listener.url, "query": query}
    return client.post(f"{BASE}/hub", json=body, headers=auth(token))


def cancel(client: httpx.Client, token: str, reference: str, **fields: str) -> dict[str, Any]:
    answer = client.post(
        f"{BASE}/cancelProductOrder", json={"productOrder": {"id": reference}, **fields}, headers=auth(token)
    )
    assert answer.status_code == 201, answer.text
    shown = client.get(f"{BASE}/cancelProductOrder/{answer.json()['id']}", headers=auth(token))
    assert shown.status_code == 200 and shown.json() == answer.json()
    return dict(shown.json())


def test_listeners_hear_of_a_cancellation_request_around_the_changes_it_made(tmp_path: Path) -> None:
    everything, chosen, never, others = Listener(), Listener(), Listener(), Listener()
    with running_server(tmp_path / "hub.db", **LOOPBACK) as server, server.client() as client:
        token = get_token(client, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
        other_token = get_token(client, str(CHANNELS[1]["client_id"]), str(CHANNELS[1]["client_secret"]))
        assert register(client, token, everything).status_code == 201
        assert register(client, token, chosen, "eventType=CancelProductOrderStateChangeEvent").status_code == 201
        # TMF622 v4's InformationRequired events may be chosen, and never come.
        chose_never = register(client, token, never, "eventType=ProductOrderInformationRequiredEvent")
        assert chose_never.status_code == 201, chose_never.text
        both = "eventType=CancelProductOrderInformationRequiredEvent,CancelProductOrderCreateEvent"
        assert register(client, token, never, both).status_code == 201
        unknown = register(client, token, never, "eventType=ProductOrderShippedEvent")
        assert unknown.status_code == 400 and "CancelProductOrderCreateEvent" in unknown.text, unknown.text
        assert register(client, other_token, others).status_code == 201

        waiting = create(client, token, order_body(requestedStartDate=later()))  # 2 events: created, pending
        finished = create(client, token, order_body())  # 3 events: created, inProgress, completed
        settled(client, token, finished["id"], "completed")
        done = cancel(client, token, waiting["id"], cancellationReason="plans changed")
        refused = cancel(client, token, finished["id"])
        events = everything.wait_for(5 + 5 + 2, timeout=DELIVERED_WITHIN)
        chosen_events = chosen.wait_for(2, timeout=DELIVERED_WITHIN)
        never_events = never.wait_for(2)
        time.sleep(1)  # anything more, or for the other partner, would have come by now
    for listener in (everything, chosen, never, others):
        listener.close()

    assert done["state"] == "done" and refused["state"] == "terminatedWithError"
    assert len(events) == 12, [e["eventType"] for e in events]
    assert [int(e["eventId"]) for e in events] == sorted(int(e["eventId"]) for e in events)
    assert all(set(e) == {"eventId", "eventTime", "eventType", "event"} for e in events)
    assert all(e["eventTime"].endswith("Z") for e in events)
    cancelling = events[5:]
    assert [e["eventType"] for e in cancelling] == [
        "CancelProductOrderCreateEvent",
        "ProductOrderStateChangeEvent",
        "ProductOrderStateChangeEvent",
        "ProductOrderStateChangeEvent",
        "CancelProductOrderStateChangeEvent",
        "CancelProductOrderCreateEvent",
        "CancelProductOrderStateChangeEvent",
    ]
    changes = [e["event"]["productOrder"] for e in cancelling[1:4]]
    assert [(o["id"], o["state"]) for o in changes] == [
        (waiting["id"], "assessingCancellation"),
        (waiting["id"], "pendingCancellation"),
        (waiting["id"], "cancelled"),
    ]
    for event, request in zip([*cancelling[:1], *cancelling[4:]], [done, done, refused, refused], strict=True):
        assert set(event["event"]) == {"cancelProductOrder"}
        # The request exactly as GET /cancelProductOrder/{id} shows it (links to ORDERHUB_PUBLIC_URL).
        assert relative_links(event["event"]["cancelProductOrder"]) == relative_links(request)
    sent_done = cancelling[0]["event"]["cancelProductOrder"]
    assert sent_done["id"] == done["id"] and sent_done["state"] == "done"
    assert sent_done["cancellationReason"] == "plans changed"
    assert sent_done["productOrder"]["id"] == waiting["id"]
    assert sent_done["productOrder"]["@referredType"] == "ProductOrder"
    sent_refused = cancelling[-1]["event"]["cancelProductOrder"]
    assert sent_refused["id"] == refused["id"] and sent_refused["state"] == "terminatedWithError"
    assert sent_refused["productOrder"]["id"] == finished["id"] and sent_refused["errorMessage"]

    assert [(e["eventType"], e["event"]["cancelProductOrder"]["id"]) for e in chosen_events] == [
        ("CancelProductOrderStateChangeEvent", done["id"]),
        ("CancelProductOrderStateChangeEvent", refused["id"]),
    ]
    # The second registration (on the same callback) chose the create events: only those came.
    assert [(e["eventType"], e["event"]["cancelProductOrder"]["id"]) for e in never_events] == [
        ("CancelProductOrderCreateEvent", done["id"]),
        ("CancelProductOrderCreateEvent", refused["id"]),
    ]
    assert others.events == []
