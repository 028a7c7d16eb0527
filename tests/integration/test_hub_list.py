"""`orderhub hub list`: a TMF622 listener's health without reading the database, credentials masked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orderhub.bootstrap import build_services
from orderhub.domain.changes import Listener
from orderhub.services.hub import Backlog
from orderhub.services.ports import UnitOfWork
from orderhub.settings import Settings
from tests.api.support import RunningServer, get_token, running_server
from tests.api.test_tmf622 import BASE, CHANNELS, DELIVERED_WITHIN, auth, create, later, order_body
from tests.api.test_tmf622 import Listener as Receiver
from tests.api.test_tmf622_events import LOOPBACK
from tests.integration.support import run_cli, wait_until

pytestmark = pytest.mark.integration


def test_hub_list_shows_each_listeners_health_with_its_credentials_masked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    services = build_services(Settings(database_url=url))
    services.migrate()
    for partner in ("shop", "kiosk"):
        services.partners.create_partner(partner, name=partner, roles=["BUSINESS_CHANNEL"], currencies=["USD"])
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    retry = now + timedelta(seconds=8)
    down = Listener("l-down", "shop", "https://hook:s3cr3t-pw@events.shop.example/in?api_key=k-123", None, now, 41)
    fine = Listener("l-fine", "kiosk", "https://kiosk.example/events", "eventType=ProductOrderStateChangeEvent", now, 7)

    def store(uow: UnitOfWork) -> None:
        for listener in (down, fine):
            uow.listeners.register(listener)
        for _ in range(3):
            error = "HTTP 503 from https://hook:s3cr3t-pw@events.shop.example"
            uow.listeners.failed("l-down", error, retry)

    services.database.write_now(store)
    services.close()

    shown = run_cli("hub", "list", "--json", "--db", url, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["listeners"] == [
        {
            "id": "l-fine", "partner": "kiosk", "callback": "https://kiosk.example/events",
            "query": "eventType=ProductOrderStateChangeEvent", "failures": 0, "last_error": None,
            "next_attempt": None, "delivered_event_id": 7, "pending": 0, "pending_at_least": False,
        },
        {
            "id": "l-down", "partner": "shop", "callback": "https://***@events.shop.example/in?***",
            "query": None, "failures": 3, "last_error": "HTTP 503 from https://****@events.shop.example",
            "next_attempt": retry.isoformat(), "delivered_event_id": 41, "pending": 0, "pending_at_least": False,
        },
    ]  # fmt: skip
    text = run_cli("hub", "list", "--partner", "shop", "--db", url, cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "l-down" in text.stdout and "l-fine" not in text.stdout
    assert "https://***@events.shop.example/in?***" in text.stdout and "HTTP 503" in text.stdout
    for secret in ("s3cr3t-pw", "k-123", "hook:"):
        assert secret not in shown.stdout + text.stdout
    none = run_cli("hub", "list", "--partner", "nobody", "--db", url, cwd=tmp_path)
    assert (none.returncode, none.stdout) == (1, "")
    assert none.stderr.strip() == "error: no partner nobody", none.stderr
    services = build_services(Settings(database_url=url))
    services.partners.create_partner("nobody", name="nobody", roles=["BUSINESS_CHANNEL"], currencies=["USD"])
    services.close()
    none = run_cli("hub", "list", "--partner", "nobody", "--db", url, cwd=tmp_path)
    assert (none.returncode, none.stdout.strip()) == (0, "no listeners of nobody")


@pytest.mark.parametrize(
    ("callback", "shown"),
    [
        # A token in the path: the words around it stay, so the operator still tells the listener.
        ("https://hooks.shop.example/hooks/9f3Kx1LmQz8RtV2wY7pA", "https://hooks.shop.example/hooks/***"),
        ("https://hooks.shop.example/services/T0AB12CD/B0EF34GH/xoxbAbCdEf", "https://hooks.shop.example/services/***/***/***"),
        ("https://shop.example/a1b2c3d4e5f6a7b8c9d0/events", "https://shop.example/***/events"),
        ("https://shop.example/hooks/correcthorsebatterystaplehorse", "https://shop.example/hooks/***"),
        ("https://shop.example/hooks/%74oken", "https://shop.example/hooks/***"),
        ("https://shop.example/tmf-api/listener/v4/order_events/", "https://shop.example/tmf-api/listener/v4/order_events/"),
        ("http://shop.example:8080", "http://shop.example:8080"),
    ],
)  # fmt: skip
def test_hub_list_masks_what_in_a_callbacks_path_may_be_a_token(tmp_path: Path, callback: str, shown: str) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    services = build_services(Settings(database_url=url))
    services.migrate()
    services.partners.create_partner("shop", name="shop", roles=["BUSINESS_CHANNEL"], currencies=["USD"])
    listener = Listener("l-token", "shop", callback, None, datetime(2026, 12, 1, 12, tzinfo=UTC), 0)
    services.database.write_now(lambda uow: uow.listeners.register(listener))
    services.close()

    listed = run_cli("hub", "list", "--json", "--db", url, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["listeners"][0]["callback"] == shown


def _stored(server: RunningServer, listener_id: str) -> Listener:
    with server.services.uow_factory(read_only=True) as uow:
        stored = uow.listeners.get(listener_id)
    assert stored is not None
    return stored


def test_hub_list_counts_the_events_each_listener_would_still_be_sent(tmp_path: Path) -> None:
    hub_list_counts_what_each_listener_would_still_be_sent(tmp_path)


def hub_list_counts_what_each_listener_would_still_be_sent(tmp_path: Path) -> None:
    """Two listeners that are down (one of them chose the creations only) and one that got everything: each
    shows what its delivery would still send it, of its own partner's orders (tests.postgres runs it too)."""
    down, up = Receiver(), Receiver()
    down.failing = True
    try:
        with running_server(tmp_path / "pending.db", **LOOPBACK) as server, server.client() as http:
            token, other_partners = (get_token(http, str(c["client_id"]), str(c["client_secret"])) for c in CHANNELS)

            def register(callback: str, query: str | None = None) -> str:
                answer = http.post(f"{BASE}/hub", json={"callback": callback, "query": query}, headers=auth(token))
                assert answer.status_code == 201, answer.text
                return str(answer.json()["id"])

            everything, creations = register(down.url), register(down.url, "eventType=ProductOrderCreateEvent")
            delivered = register(up.url)
            placed = {create(http, token, order_body())["id"] for _ in range(2)}
            # Another partner's order on the same line: none of these listeners hears of it.
            theirs = order_body()
            theirs["productOrderItem"][0]["product"]["productCharacteristic"].append(
                {"name": "businessId", "value": "CR"}
            )
            create(http, other_partners, theirs)

            def heard_completed() -> set[str]:
                orders = [event["event"]["productOrder"] for event in up.events]
                return {order["id"] for order in orders if order["state"] == "completed"}

            # Once each order's completion reached the listener that is up (events go in order), it has them all.
            wait_until(lambda: heard_completed() == placed, timeout=DELIVERED_WITHIN,
                       message="the listener that is up to hear all")  # fmt: skip
            sent = list(up.events)
            last_sent = max(int(event["eventId"]) for event in sent)
            wait_until(lambda: _stored(server, delivered).delivered_event_id == last_sent, timeout=DELIVERED_WITHIN)
            wait_until(
                lambda: _stored(server, everything).failures and _stored(server, creations).failures,
                timeout=DELIVERED_WITHIN,
            )
            created, created_first = (
                sum(event["eventType"] == "ProductOrderCreateEvent" for event in events) for events in (sent, sent[:2])
            )
            assert created == len(placed) < len(sent)  # the creations are a part of the events

            # The bound: a count that stopped before the end says so.
            hub = server.services.hub
            assert hub.backlog(_stored(server, creations), at_most=2) == Backlog(created_first, at_least=True)
            assert hub.backlog(_stored(server, creations), at_most=len(sent)) == Backlog(created)

            url = server.services.settings.database_url
            shown = run_cli("hub", "list", "--json", "--db", url, cwd=tmp_path)
            text = run_cli("hub", "list", "--db", url, cwd=tmp_path)
    finally:
        down.close()
        up.close()

    assert shown.returncode == 0, shown.stderr
    pending = {row["id"]: (row["pending"], row["pending_at_least"]) for row in json.loads(shown.stdout)["listeners"]}
    assert pending == {everything: (len(sent), False), creations: (created, False), delivered: (0, False)}
    assert text.returncode == 0, text.stderr
    rows = [line.split("│") for line in text.stdout.splitlines() if line.startswith("│")]
    assert "pending" in text.stdout
    assert {row[1].strip(): row[-2].strip() for row in rows} == {
        everything: str(len(sent)),
        creations: str(created),
        delivered: "0",
    }


def test_hub_list_counts_a_cancellation_requests_events_as_they_are_sent(tmp_path: Path) -> None:
    hub_list_counts_a_cancellation_requests_events(tmp_path)


def hub_list_counts_a_cancellation_requests_events(tmp_path: Path) -> None:
    """A cancellation request's two events (CancelProductOrderCreateEvent, ...StateChangeEvent) wait for a
    listener that is down and are counted as its delivery would send them (tests.postgres runs it too)."""
    down = Receiver()
    down.failing = True
    try:
        with running_server(tmp_path / "cancel.db", **LOOPBACK) as server, server.client() as http:
            token = get_token(http, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
            ids = []
            for query in (None, "eventType=CancelProductOrderStateChangeEvent"):
                answer = http.post(f"{BASE}/hub", json={"callback": down.url, "query": query}, headers=auth(token))
                assert answer.status_code == 201, answer.text
                ids.append(str(answer.json()["id"]))
            everything, decided = ids
            waiting = create(http, token, order_body(requestedStartDate=later()))  # created, pending
            finished = create(http, token, order_body())  # created, inProgress, completed
            for reference in (waiting["id"], finished["id"]):  # done: 2 events and 3 changes; refused: 2 events
                asked = http.post(
                    f"{BASE}/cancelProductOrder", json={"productOrder": {"id": reference}}, headers=auth(token)
                )
                assert asked.status_code == 201, asked.text
            # What a delivery would send: on PostgreSQL once settled (services.settled_events), which the
            # dispatcher's next turn sees; `hub list` counts every event committed.
            listener = _stored(server, everything)
            waiting_for_all = wait_until(
                lambda: (found := server.services.hub.pending(listener, limit=100)) and len(found) == 12 and found,
                timeout=DELIVERED_WITHIN,
                message="the twelve events settled",
            )
            url = server.services.settings.database_url
            shown = run_cli("hub", "list", "--json", "--db", url, cwd=tmp_path)
            details = run_cli("order", "show", waiting["id"], "--json", "--db", url, cwd=tmp_path)
    finally:
        down.close()

    assert len(waiting_for_all) == 2 + 3 + 5 + 2
    # `order show` lists the request's notes among the order's states, naming the cancellation.
    history = json.loads(details.stdout)["history"]
    assert [(e["state"], e.get("reason"), "cancellation" in e) for e in history] == [
        ("accepted", None, False),
        ("scheduled", None, False),
        ("scheduled", "cancellation requested", True),
        ("assessing_cancellation", None, False),
        ("pending_cancellation", None, False),
        ("cancelled", None, False),
        ("cancelled", "cancellation done", True),
    ]
    assert shown.returncode == 0, shown.stderr
    pending = {row["id"]: row["pending"] for row in json.loads(shown.stdout)["listeners"]}
    assert pending == {everything: len(waiting_for_all), decided: 2}
