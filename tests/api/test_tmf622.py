"""The standard TMF622 v4 Product Ordering API over real HTTP: orders, listings, changes,
cancellation and event delivery to a real listener."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from orderhub.dialects.tmf_productorder.mapping import STATE
from orderhub.domain.customers import Identity
from orderhub.services.demo import demo_credentials
from tests.api.support import RunningServer, get_token, running_server

BASE = "/tmf-api/productOrderingManagement/v4"
# How long a delivery may take to come: on PostgreSQL events are sent once settled, which waits for every
# transaction in progress in the test's database (not another database's: CI's other passes) for up to
# 60 s (services.settled_events); at once on an idle database, and on SQLite. The rest: a loaded machine.
DELIVERED_WITHIN = 90.0
CHANNELS = demo_credentials()["tmf-productorder"]


@pytest.fixture(scope="module")
def tmf_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    # Its own server: these tests change lines (plans) and register listeners.
    with running_server(tmp_path_factory.mktemp("tmf622") / "orderhub.db", worker_poll_seconds=0.2) as running:
        yield running


@pytest.fixture(scope="module")
def http(tmf_server: RunningServer) -> Iterator[httpx.Client]:
    with tmf_server.client() as client:
        yield client


@pytest.fixture(scope="module")
def tokens(http: httpx.Client) -> list[str]:
    return [get_token(http, str(c["client_id"]), str(c["client_secret"])) for c in CHANNELS]


def auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Correlation-ID": str(uuid.uuid4()), **extra}


def order_body(msisdn: str = "69877689", plan_type: str = "DataPlan", **extra: Any) -> dict[str, Any]:
    return {
        "productOrderItem": [
            {
                "id": "1",
                "action": "add",
                "productOffering": {"id": "OFFER-DP-001"},
                "product": {
                    "productCharacteristic": [
                        {"name": "MSISDN", "value": msisdn},
                        {"name": "planType", "value": plan_type},
                    ]
                },
            }
        ],
        "relatedParty": [{"id": "456-dd-df45", "@referredType": "Individual"}],
        **extra,
    }


def create(http: httpx.Client, token: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    answer = http.post(f"{BASE}/productOrder", json=body, headers=auth(token, **headers))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_create_answers_the_order_with_link_items_and_parties(http: httpx.Client, tokens: list[str]) -> None:
    answer = http.post(f"{BASE}/productOrder", json=order_body(externalId="shop-1"), headers=auth(tokens[0]))
    assert answer.status_code == 201, answer.text
    order = answer.json()
    assert order["href"] == f"{str(http.base_url).rstrip('/')}{BASE}/productOrder/{order['id']}"
    assert answer.headers["Location"] == order["href"]
    assert order["orderDate"].endswith("Z")
    assert order["state"] == "completed"
    assert order["externalId"] == "shop-1"
    assert order["relatedParty"] == [{"id": "456-dd-df45", "@referredType": "Individual"}]
    (item,) = order["productOrderItem"]
    assert item["state"] == "completed"
    assert item["productOffering"] == {"id": "OFFER-DP-001"}
    assert item["product"]["id"]
    assert http.get(f"{BASE}/productOrder/{order['id']}", headers=auth(tokens[0])).json() == order


def test_bad_input_gets_the_tmf_error_shape(http: httpx.Client, tokens: list[str]) -> None:
    cases = [
        (b"{not json", 400, "INVALID_REQUEST"),
        (json.dumps(order_body(msisdn="123")).encode(), 400, "INVALID_REQUEST"),
        (json.dumps(order_body(plan_type="Gold")).encode(), 400, "INVALID_REQUEST"),
        (json.dumps(order_body(requestedStartDate="tomorrow")).encode(), 400, "INVALID_REQUEST"),
        (json.dumps(order_body(msisdn="69877691")).encode(), 422, "NO_ACTIVE_PLAN"),
    ]
    for raw, status, code in cases:
        answer = http.post(
            f"{BASE}/productOrder", content=raw, headers=auth(tokens[0], **{"Content-Type": "application/json"})
        )
        assert answer.status_code == status, answer.text
        body = answer.json()
        assert body["code"] == code and body["status"] == str(status) and body["reason"] and body["message"]


def test_a_bearer_token_is_required(http: httpx.Client) -> None:
    answer = http.post(f"{BASE}/productOrder", json=order_body())
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert answer.json()["code"] == "UNAUTHORIZED"
    unknown = http.post(f"{BASE}/productOrder", json=order_body(), headers=auth("not-a-token"))
    assert unknown.status_code == 401 and 'error="invalid_token"' in unknown.headers["WWW-Authenticate"]
    assert "error=" not in answer.headers["WWW-Authenticate"]  # no token at all: no error code (RFC 6750 3.1)
    reseller = get_token(http, "demo-reseller-1", "demo-reseller-1-secret")
    assert http.get(f"{BASE}/productOrder", headers=auth(reseller)).status_code == 403


def test_a_business_unit_is_named_when_the_channel_has_several(http: httpx.Client, tokens: list[str]) -> None:
    answer = http.post(f"{BASE}/productOrder", json=order_body(msisdn="61234567"), headers=auth(tokens[1]))
    assert answer.status_code == 400 and "businessId" in answer.json()["message"]
    body = order_body(msisdn="61234567")
    body["productOrderItem"][0]["product"]["productCharacteristic"].append({"name": "businessId", "value": "PA"})
    assert create(http, tokens[1], body)["state"] == "completed"

    # A body broken otherwise is told what is broken in it first, as a channel of one unit is.
    for broken, said in (
        ({}, "productOrderItem is required"),
        ({"productOrderItem": []}, "productOrderItem must be a non-empty list"),
        ({"productOrderItem": [{"id": "1"}]}, "productOrderItem[0].product is required"),
        ([], "the request body must be a JSON object"),
    ):
        for token in tokens[:2]:
            answer = http.post(f"{BASE}/productOrder", json=broken, headers=auth(token))
            assert (answer.status_code, answer.json()["message"]) == (400, said)


def test_list_counts_pages_filters_and_projects(http: httpx.Client, tokens: list[str]) -> None:
    made = [create(http, tokens[0], order_body()) for _ in range(3)]
    everything = http.get(f"{BASE}/productOrder", headers=auth(tokens[0]))
    total = int(everything.headers["X-Total-Count"])
    assert total >= 3 and everything.headers["X-Result-Count"] == str(len(everything.json()))
    page = http.get(f"{BASE}/productOrder", params={"offset": 1, "limit": 2}, headers=auth(tokens[0]))
    assert page.headers["X-Total-Count"] == str(total) and page.headers["X-Result-Count"] == "2"
    assert [o["id"] for o in page.json()] == [o["id"] for o in everything.json()[1:3]]

    by_id = http.get(f"{BASE}/productOrder", params={"id": made[0]["id"]}, headers=auth(tokens[0])).json()
    assert [o["id"] for o in by_id] == [made[0]["id"]]
    by_date = http.get(f"{BASE}/productOrder", params={"orderDate": made[1]["orderDate"]}, headers=auth(tokens[0]))
    assert made[1]["id"] in [o["id"] for o in by_date.json()]
    completed = http.get(f"{BASE}/productOrder", params={"state": "completed"}, headers=auth(tokens[0])).json()
    assert completed and all(o["state"] == "completed" for o in completed)
    assert (
        http.get(f"{BASE}/productOrder", params={"state": "cancelled,held"}, headers=auth(tokens[0])).status_code == 200
    )

    projected = http.get(f"{BASE}/productOrder", params={"fields": "state", "limit": 1}, headers=auth(tokens[0])).json()
    assert set(projected[0]) == {"id", "href", "state"}
    assert http.get(f"{BASE}/productOrder", params={"color": "red"}, headers=auth(tokens[0])).status_code == 400
    assert http.get(f"{BASE}/productOrder", params={"state": "sleeping"}, headers=auth(tokens[0])).status_code == 400


def test_a_filter_takes_several_values_in_one_parameter_and_a_repeated_parameter_is_refused(
    http: httpx.Client, tokens: list[str]
) -> None:
    """``id=A,B`` found neither (it looked for an order numbered "A,B"), and ``id=A&id=B`` found only B."""
    made = [create(http, tokens[0], order_body())["id"] for _ in range(3)]
    both = http.get(f"{BASE}/productOrder", params={"id": f"{made[0]},{made[2]}"}, headers=auth(tokens[0]))
    assert both.status_code == 200, both.text
    assert sorted(o["id"] for o in both.json()) == sorted([made[0], made[2]])
    assert both.headers["X-Total-Count"] == "2"
    for path in ("productOrder", "cancelProductOrder"):
        for params in ([("id", made[0]), ("id", made[1])], [("limit", "1"), ("limit", "5")]):
            repeated = http.get(f"{BASE}/{path}", params=params, headers=auth(tokens[0]))
            assert repeated.status_code == 400, repeated.text
            assert repeated.json()["message"].startswith(f"{params[0][0]} is given more than once"), repeated.text


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("limit", "\u00b2", "limit must be a whole number"),  # str.isdigit() says yes, int() refuses it
        ("offset", "\u2460", "offset must be a whole number"),
        ("limit", "\u0663", "limit must be a whole number"),  # another script's 3, which int() would read
        ("limit", "1" * 5000, "limit must be at most"),  # past the digits int() reads at all
        ("offset", "0" * 30 + "7", None),  # leading zeros are the number they lead
    ],
)
def test_list_paging_takes_ascii_whole_numbers_only(
    http: httpx.Client, tokens: list[str], name: str, value: str, message: str | None
) -> None:
    for path in ("productOrder", "cancelProductOrder"):
        answer = http.get(f"{BASE}/{path}", params={name: value}, headers=auth(tokens[0]))
        if message is None:
            assert answer.status_code == 200, answer.text
            continue
        assert answer.status_code == 400, answer.text
        assert answer.json()["message"].startswith(message), answer.text


def test_an_order_date_at_the_last_millisecond_a_date_holds_is_a_filter_like_any(
    http: httpx.Client, tokens: list[str]
) -> None:
    for spelled in ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999+00:00"):
        answer = http.get(f"{BASE}/productOrder", params={"orderDate": spelled}, headers=auth(tokens[0]))
        assert answer.status_code == 200, answer.text
        assert answer.json() == [] and answer.headers["X-Total-Count"] == "0"


def test_a_partner_never_sees_another_partners_orders(http: httpx.Client, tokens: list[str]) -> None:
    mine = create(http, tokens[0], order_body())
    others = http.get(f"{BASE}/productOrder", params={"limit": 1000}, headers=auth(tokens[1])).json()
    assert mine["id"] not in [o["id"] for o in others]
    for method, path, body in [
        ("GET", f"/productOrder/{mine['id']}", None),
        ("PATCH", f"/productOrder/{mine['id']}", {"description": "mine now"}),
        ("DELETE", f"/productOrder/{mine['id']}", None),
        ("POST", "/cancelProductOrder", {"productOrder": {"id": mine["id"]}}),
    ]:
        answer = http.request(method, f"{BASE}{path}", json=body, headers=auth(tokens[1]))
        assert answer.status_code == 404, (method, path, answer.text)
    assert http.get(f"{BASE}/productOrder/{mine['id']}", headers=auth(tokens[0])).json()["state"] == "completed"


def later(days: int = 3) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_an_order_for_later_is_pending_can_be_rescheduled_and_patched(http: httpx.Client, tokens: list[str]) -> None:
    order = create(http, tokens[0], order_body(requestedStartDate=later(), description="first"))
    assert order["state"] == "pending" and order["productOrderItem"][0]["state"] == "pending"
    path = f"{BASE}/productOrder/{order['id']}"
    merge = {"Content-Type": "application/merge-patch+json"}
    patched = http.patch(path, content=json.dumps({"description": "second", "requestedStartDate": later(5)}),
                         headers=auth(tokens[0], **merge))  # fmt: skip
    assert patched.status_code == 200, patched.text
    assert patched.json()["description"] == "second" and patched.json()["requestedStartDate"].startswith(later(5)[:10])
    refused = http.patch(path, json={"state": "completed"}, headers=auth(tokens[0]))
    assert refused.status_code == 400 and "state" in refused.json()["message"]
    # A new date has the bounds a first one has: at most ten years ahead.
    refused = http.patch(path, json={"requestedStartDate": later(3654)}, headers=auth(tokens[0]))
    assert refused.status_code == 400 and "3653 days ahead" in refused.json()["message"], refused.text
    assert http.get(path, headers=auth(tokens[0])).json()["requestedStartDate"].startswith(later(5)[:10])
    # Due now: the worker provisions it.
    assert http.patch(path, json={"requestedStartDate": later(-1)}, headers=auth(tokens[0])).status_code == 200
    deadline = time.monotonic() + 10
    while http.get(path, headers=auth(tokens[0])).json()["state"] != "completed" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert http.get(path, headers=auth(tokens[0])).json()["state"] == "completed"
    assert http.patch(path, json={"description": "too late"}, headers=auth(tokens[0])).status_code == 409


def test_removing_the_requested_start_date_makes_the_order_due_at_once(http: httpx.Client, tokens: list[str]) -> None:
    """A merge-patch's null removes a member (RFC 7396): it used to answer 200 while the order stayed
    pending until the date, which ``fields=requestedStartDate`` still showed."""
    order = create(http, tokens[0], order_body(requestedStartDate=later(30)))
    path = f"{BASE}/productOrder/{order['id']}"
    merge = auth(tokens[0], **{"Content-Type": "application/merge-patch+json"})
    patched = http.patch(path, content=json.dumps({"requestedStartDate": None}), headers=merge)
    assert patched.status_code == 200, patched.text
    assert patched.json()["state"] in ("acknowledged", "inProgress", "completed")
    deadline = time.monotonic() + 10
    while http.get(path, headers=auth(tokens[0])).json()["state"] != "completed" and time.monotonic() < deadline:
        time.sleep(0.05)
    whole = http.get(path, headers=auth(tokens[0])).json()
    assert whole["state"] == "completed"
    chosen = http.get(path, params={"fields": "requestedStartDate"}, headers=auth(tokens[0])).json()
    assert chosen.get("requestedStartDate") == whole.get("requestedStartDate")  # one order, one answer
    assert "requestedStartDate" not in whole  # removed, as merge-patch says; it came back as the due time


def test_dates_a_partner_sends_are_shown_in_utc_as_every_date_is(http: httpx.Client, tokens: list[str]) -> None:
    """They came back as sent, in the sender's offset, unlike every date orderhub writes."""
    sent = order_body(
        requestedStartDate="2020-01-01T02:00:00+02:00",
        requestedCompletionDate="2031-01-06T10:00:00+02:00",
        note=[{"text": "x", "date": "2031-01-06T10:00:00.5-03:00"}],
    )
    order = create(http, tokens[0], sent)
    expected = {"requestedStartDate": "2020-01-01T00:00:00.000Z", "requestedCompletionDate": "2031-01-06T08:00:00.000Z"}
    path = f"{BASE}/productOrder/{order['id']}"
    for shown in (order, http.get(path, headers=auth(tokens[0])).json()):
        assert {name: shown[name] for name in expected} == expected, shown
        assert shown["note"] == [{"text": "x", "date": "2031-01-06T13:00:00.500Z"}]
    chosen = http.get(path, params={"fields": "requestedStartDate"}, headers=auth(tokens[0])).json()
    assert chosen["requestedStartDate"] == expected["requestedStartDate"]


def test_a_requested_start_date_in_lower_case_is_read_as_rfc_3339_allows(http: httpx.Client, tokens: list[str]) -> None:
    start = later(30).lower()  # "2027-01-05t10:00:00z"
    order = create(http, tokens[0], order_body(requestedStartDate=start))
    assert order["state"] == "pending" and order["requestedStartDate"].startswith(start[:10].upper())


def test_cancelling_a_pending_order_goes_through_the_cancellation_states(
    tmf_server: RunningServer, http: httpx.Client, tokens: list[str]
) -> None:
    order = create(http, tokens[0], order_body(requestedStartDate=later()))
    answer = http.post(
        f"{BASE}/cancelProductOrder",
        json={"productOrder": {"id": order["id"]}, "cancellationReason": "customer changed their mind"},
        headers=auth(tokens[0]),
    )
    assert answer.status_code == 201, answer.text
    cancellation = answer.json()
    assert cancellation["state"] == "done" and cancellation["effectiveCancellationDate"].endswith("Z")
    assert cancellation["productOrder"]["id"] == order["id"]
    assert http.get(f"{BASE}/cancelProductOrder/{cancellation['id']}", headers=auth(tokens[0])).json() == cancellation
    listed = http.get(f"{BASE}/cancelProductOrder", headers=auth(tokens[0]))
    assert cancellation["id"] in [c["id"] for c in listed.json()]
    assert http.get(f"{BASE}/cancelProductOrder/{cancellation['id']}", headers=auth(tokens[1])).status_code == 404

    cancelled = http.get(f"{BASE}/productOrder/{order['id']}", headers=auth(tokens[0])).json()
    assert cancelled["state"] == "cancelled" and cancelled["cancellationDate"].endswith("Z")
    # The order says why, as TMF622's ProductOrder has it, in the listing too.
    assert cancelled["cancellationReason"] == "customer changed their mind"
    listing = http.get(f"{BASE}/productOrder", params={"id": order["id"]}, headers=auth(tokens[0])).json()
    assert [(o["id"], o.get("cancellationReason")) for o in listing] == [(order["id"], "customer changed their mind")]
    assert history(tmf_server, order["id"]) == [
        "acknowledged",
        "pending",
        "assessingCancellation",
        "pendingCancellation",
        "cancelled",
    ]

    # A finished order cannot be cancelled: the request ends terminatedWithError, the order stays.
    done = create(http, tokens[0], order_body())
    refused = http.post(
        f"{BASE}/cancelProductOrder", json={"productOrder": {"id": done["id"]}}, headers=auth(tokens[0])
    )
    assert refused.status_code == 201 and refused.json()["state"] == "terminatedWithError"
    still = http.get(f"{BASE}/productOrder/{done['id']}", headers=auth(tokens[0])).json()
    assert still["state"] == "completed" and "cancellationReason" not in still


def test_a_cancellation_asked_again_gives_the_one_that_cancelled_the_order(
    http: httpx.Client, tokens: list[str]
) -> None:
    """A retry whose first answer was lost got terminatedWithError, "can no longer be cancelled", as if the
    order had not been cancelled."""
    order = create(http, tokens[0], order_body(requestedStartDate=later()))
    ask = {"productOrder": {"id": order["id"]}, "cancellationReason": "customer changed their mind"}
    first = http.post(f"{BASE}/cancelProductOrder", json=ask, headers=auth(tokens[0]))
    assert first.status_code == 201 and first.json()["state"] == "done", first.text
    counted = int(http.get(f"{BASE}/cancelProductOrder", headers=auth(tokens[0])).headers["X-Total-Count"])
    again = http.post(f"{BASE}/cancelProductOrder", json=ask, headers=auth(tokens[0]))
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert int(http.get(f"{BASE}/cancelProductOrder", headers=auth(tokens[0])).headers["X-Total-Count"]) == counted
    # Another partner still finds no such order.
    other = http.post(f"{BASE}/cancelProductOrder", json=ask, headers=auth(tokens[1]))
    assert other.status_code == 404, other.text


def test_a_cancelled_order_is_counted_once_as_finished_on_the_metrics_of_the_process_that_cancelled_it(
    http: httpx.Client, tokens: list[str]
) -> None:
    """cancelled is a final state (README): orderhub_orders_finished_total never counted it, so accepted
    less finished never came to zero."""
    series = 'orderhub_orders_finished_total{dialect="tmf622",operation="LINE_PRODUCTS",state="cancelled"}'

    def cancelled() -> float:
        found = [line for line in http.get("/metrics").text.splitlines() if line.startswith(series + " ")]
        return float(found[0].rsplit(" ", 1)[1]) if found else 0.0

    before = cancelled()
    order = create(http, tokens[0], order_body(requestedStartDate=later()))
    ask = {"productOrder": {"id": order["id"]}, "cancellationReason": "plans changed"}
    for _ in range(2):  # a retry whose first answer was lost gets the same cancellation, not a second count
        answer = http.post(f"{BASE}/cancelProductOrder", json=ask, headers=auth(tokens[0]))
        assert answer.status_code == 201 and answer.json()["state"] == "done", answer.text
    assert cancelled() == before + 1


def history(server: RunningServer, reference: str) -> list[str]:
    """The states an order went through, as TMF spells them (the operator's view of its events; not the
    notes of a cancellation request, which move no state)."""
    with server.services.uow_factory(read_only=True) as uow:
        order = uow.orders.get_by_reference(reference)
        assert order is not None
        return [STATE[event.to_state] for event in uow.orders.events(order.id) if event.cancellation_id is None]


def test_delete_hides_a_finished_order_only(http: httpx.Client, tokens: list[str]) -> None:
    pending = create(http, tokens[0], order_body(requestedStartDate=later()))
    assert http.delete(f"{BASE}/productOrder/{pending['id']}", headers=auth(tokens[0])).status_code == 409
    done = create(http, tokens[0], order_body())
    assert http.delete(f"{BASE}/productOrder/{done['id']}", headers=auth(tokens[0])).status_code == 204
    assert http.get(f"{BASE}/productOrder/{done['id']}", headers=auth(tokens[0])).status_code == 404


class Listener:
    """A real HTTP listener on loopback (on ``port``, or one the system picks); it can be told to fail (as
    if down) for a while."""

    def __init__(self, port: int = 0) -> None:
        self.events: list[dict[str, Any]] = []
        self.failing = False
        self.refused = 0
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if listener.failing:
                    listener.refused += 1
                    self.send_response(503)
                else:
                    listener.events.append(body)
                    self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/listener"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.events) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.events


def test_a_listener_gets_every_event_in_order_also_after_being_down(tmp_path: Path) -> None:
    # Its own server and partner: the events of the other tests must not interleave.
    listener = Listener()
    # The listener is on this machine; its retries come quickly (the waits are not what is tested).
    loopback = {"hub_allowed_networks": "127.0.0.1/32", "hub_retry_seconds": 0.1}
    with running_server(tmp_path / "hub.db", worker_poll_seconds=0.2, **loopback) as server, server.client() as client:
        token = get_token(client, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
        registered = client.post(f"{BASE}/hub", json={"callback": listener.url}, headers=auth(token))
        assert registered.status_code == 201, registered.text
        hub_id = registered.json()["id"]
        assert registered.json()["callback"] == listener.url
        assert client.get(f"{BASE}/hub/{hub_id}", headers=auth(token)).json()["callback"] == listener.url

        first = create(client, token, order_body())
        events = listener.wait_for(3, timeout=DELIVERED_WITHIN)
        assert [e["eventType"] for e in events] == [
            "ProductOrderCreateEvent",
            "ProductOrderStateChangeEvent",
            "ProductOrderStateChangeEvent",
        ]
        assert [e["event"]["productOrder"]["state"] for e in events] == ["acknowledged", "inProgress", "completed"]
        assert all(e["event"]["productOrder"]["id"] == first["id"] and e["eventTime"].endswith("Z") for e in events)
        assert len({e["eventId"] for e in events}) == 3

        # The listener goes down; orders keep being accepted at once, events wait for it.
        listener.failing = True
        started = time.monotonic()
        during = [create(client, token, order_body()) for _ in range(3)]
        assert time.monotonic() - started < 5
        deadline = time.monotonic() + DELIVERED_WITHIN
        while listener.refused < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert listener.refused >= 2  # retried while down
        listener.failing = False
        events = listener.wait_for(12, timeout=DELIVERED_WITHIN)
        assert len(events) == 12
        assert [e["event"]["productOrder"]["id"] for e in events[3:]] == [o["id"] for o in during for _ in range(3)]
        assert [int(e["eventId"]) for e in events] == sorted(int(e["eventId"]) for e in events)

        assert client.delete(f"{BASE}/hub/{hub_id}", headers=auth(token)).status_code == 204
        create(client, token, order_body())
        time.sleep(1)
        assert len(listener.events) == 12
        assert client.delete(f"{BASE}/hub/{hub_id}", headers=auth(token)).status_code == 404
    listener.close()


def test_a_listener_chooses_its_events_by_type_and_a_query_orderhub_would_not_apply_is_refused(
    tmp_path: Path,
) -> None:
    """The query was kept and shown, and every event sent all the same."""
    listener = Listener()
    loopback = {"hub_allowed_networks": "127.0.0.1/32", "hub_retry_seconds": 0.1}
    with running_server(tmp_path / "hub.db", worker_poll_seconds=0.2, **loopback) as server, server.client() as client:
        token = get_token(client, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
        for query in ("eventType=OrderShipped", "state=completed", "garbage!!", 7):
            refused = client.post(f"{BASE}/hub", json={"callback": listener.url, "query": query}, headers=auth(token))
            assert refused.status_code == 400 and "query" in refused.json()["message"], refused.text
        chosen = {"callback": listener.url, "query": "eventType=ProductOrderStateChangeEvent"}
        registered = client.post(f"{BASE}/hub", json=chosen, headers=auth(token))
        assert registered.status_code == 201, registered.text
        assert (
            client.get(f"{BASE}/hub/{registered.json()['id']}", headers=auth(token)).json()["query"] == chosen["query"]
        )
        first, second = create(client, token, order_body()), create(client, token, order_body())
        events = listener.wait_for(4, timeout=DELIVERED_WITHIN)
        time.sleep(0.5)  # nothing more comes: the create events were passed over
    listener.close()
    assert len(listener.events) == 4
    assert {e["eventType"] for e in events} == {"ProductOrderStateChangeEvent"}
    assert [e["event"]["productOrder"]["id"] for e in events] == [first["id"]] * 2 + [second["id"]] * 2


@pytest.mark.parametrize(
    "extra", [{"quantity": 2}, {"quantity": "abc"}, {"quantity": -5}, {"productOrderItem": [{"id": "1.1"}]}]
)
def test_item_fields_that_would_be_dropped_are_refused(
    http: httpx.Client, tokens: list[str], extra: dict[str, Any]
) -> None:
    """They were taken (201) and dropped: an integrator ordering two got one."""
    body = order_body()
    body["productOrderItem"][0].update(extra)
    answer = http.post(f"{BASE}/productOrder", json=body, headers=auth(tokens[0]))
    assert answer.status_code == 400, answer.text
    assert f"productOrderItem[0].{next(iter(extra))}" in answer.json()["message"]
    body["productOrderItem"][0] = {**order_body()["productOrderItem"][0], "quantity": 1}
    assert http.post(f"{BASE}/productOrder", json=body, headers=auth(tokens[0])).status_code == 201


def test_a_cancellation_is_asked_for_now_not_for_a_date_to_come(http: httpx.Client, tokens: list[str]) -> None:
    """A date to come was taken, and the order cancelled at once all the same."""
    pending = create(http, tokens[0], order_body(requestedStartDate=later(30)))
    ask = {"productOrder": {"id": pending["id"]}, "requestedCancellationDate": later(10)}
    refused = http.post(f"{BASE}/cancelProductOrder", json=ask, headers=auth(tokens[0]))
    assert refused.status_code == 400 and "requestedCancellationDate" in refused.json()["message"], refused.text
    assert http.get(f"{BASE}/productOrder/{pending['id']}", headers=auth(tokens[0])).json()["state"] == "pending"
    ask["requestedCancellationDate"] = later(-1)
    done = http.post(f"{BASE}/cancelProductOrder", json=ask, headers=auth(tokens[0]))
    assert done.status_code == 201 and done.json()["state"] == "done", done.text


def test_a_listener_callback_must_reach_a_public_address(http: httpx.Client, tokens: list[str]) -> None:
    # Else a partner could have orderhub call internal services for it: the database, cloud metadata.
    for callback in ("http://127.0.0.1:5432/", "http://169.254.169.254/latest/meta-data/", "http://[::1]:8080/x",
                     "https://localhost/hub", "http://10.0.0.7/events", "http://[::ffff:192.168.0.1]/",
                     # as the resolver reads them: the root's trailing dot, a percent-encoded dot; no host name
                     "http://127.0.0.1.:8120/", "http://169.254.169.254./", "http://127.0.0.1%2e:8120/"):  # fmt: skip
        answer = http.post(f"{BASE}/hub", json={"callback": callback}, headers=auth(tokens[0]))
        assert answer.status_code == 400, (callback, answer.text)
        assert "must reach a public address" in answer.text, answer.text
    public = http.post(
        f"{BASE}/hub", json={"callback": "https://partner.example.com/tmf/events"}, headers=auth(tokens[0])
    )
    assert public.status_code == 201, public.text
    assert http.delete(f"{BASE}/hub/{public.json()['id']}", headers=auth(tokens[0])).status_code == 204


def test_a_callback_that_resolves_to_an_address_not_allowed_gets_nothing_until_it_is_allowed(tmp_path: Path) -> None:
    """Names are checked on what they resolve to each time an event is sent: events wait, none is lost."""
    listener = Listener()
    callback = listener.url.replace("127.0.0.1", "localhost")
    db, loopback = tmp_path / "hub.db", {"hub_allowed_networks": "127.0.0.0/8,::1/128", "hub_retry_seconds": 0.1}
    with running_server(db, **loopback) as server, server.client() as client:
        token = get_token(client, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
        registered = client.post(f"{BASE}/hub", json={"callback": callback}, headers=auth(token))
        assert registered.status_code == 201, registered.text
    # The operator takes the allowance back: the listener is on a loopback address, so it gets nothing.
    with running_server(db, worker_poll_seconds=0.2) as server, server.client() as client:
        token = get_token(client, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
        order = create(client, token, order_body())
        deadline = time.monotonic() + DELIVERED_WITHIN
        while time.monotonic() < deadline:
            with server.services.uow_factory(read_only=True) as uow:
                stored = uow.listeners.get(registered.json()["id"])
            assert stored is not None
            if stored.last_error:
                break
            time.sleep(0.05)
        assert stored.last_error is not None and stored.last_error.startswith("callback address refused"), stored
        assert listener.events == []
    with running_server(db, **loopback) as server:
        events = listener.wait_for(3, timeout=DELIVERED_WITHIN)
        assert [e["event"]["productOrder"]["id"] for e in events] == [order["id"]] * 3
    listener.close()


def test_a_listener_callback_must_be_an_http_url(http: httpx.Client, tokens: list[str]) -> None:
    # A bracketed host left open or not an address made urlsplit raise: a 500, not the TMF 400. A label
    # longer than DNS allows was taken (201), and each delivery to it failed on the resolver's ValueError.
    unclosed = ("https://[::1/cb", "https://::1]/cb", "https://[xyz]/cb")
    for callback in ("ftp://example.com/x", "not a url", "", *unclosed, f"https://{'a' * 64}.example.com/cb"):
        answer = http.post(f"{BASE}/hub", json={"callback": callback}, headers=auth(tokens[0]))
        assert answer.status_code == 400, answer.text
        assert answer.json()["code"] == "INVALID_REQUEST" and "callback" in answer.json()["message"], answer.text


def test_both_tmf_apis_show_the_same_orders(http: httpx.Client, tokens: list[str]) -> None:
    channel = CHANNELS[0]
    vendor_headers = {
        "client_id": str(channel["client_id"]),
        "client_secret": str(channel["client_secret"]),
        "X-Correlation-ID": str(uuid.uuid4()),
    }
    standard = create(http, tokens[0], order_body())
    seen = http.get(f"/emida-ux-lcr/emida-ux/v1/CR/productOrder/{standard['id']}", headers=vendor_headers)
    assert seen.status_code == 200, seen.text
    assert seen.json()["state"] == "completed" and seen.json()["orderDate"].endswith("-06:00")

    vendor_body = {"category": "esimPrepaid", "productOrderItem": order_body()["productOrderItem"]}
    vendor_body["productOrderItem"][0]["product"]["productOffering"] = {"id": "OFFER-DP-001"}
    placed = http.post("/emida-ux/v1/CR/productOrder", json=vendor_body, headers=vendor_headers)
    assert placed.status_code == 201, placed.text
    shown = http.get(f"{BASE}/productOrder/{placed.json()['id']}", headers=auth(tokens[0])).json()
    assert shown["state"] == "completed" and shown["relatedParty"] == [] and shown["category"] == "esimPrepaid"
    assert shown["orderDate"].endswith("Z")


def test_the_customer_party_becomes_a_customer_known_by_its_identification(
    tmf_server: RunningServer, http: httpx.Client, tokens: list[str]
) -> None:
    number = f"9{uuid.uuid4().int % 10**8:08d}"
    party = {
        "id": number,
        "name": "Juan;Carlos;Perez;Gonzalez",
        "role": "Customer",
        "characteristic": [{"name": "identificationType", "valueType": "string", "value": "Passport"}],
        "@referredType": "Individual",
    }
    first = create(http, tokens[0], order_body(relatedParty=[party]))
    second = create(http, tokens[0], order_body(relatedParty=[party]))
    assert first["relatedParty"] == [party]
    with tmf_server.services.uow_factory(read_only=True) as uow:
        orders = [uow.orders.get_by_reference(o["id"]) for o in (first, second)]
        customer = uow.partners.find_customer_by_identity(["demo-channel-1"], Identity("Passport", number))
    assert customer is not None and customer.name == "Juan;Carlos;Perez;Gonzalez" and customer.email is None
    assert [o.customer_id for o in orders if o is not None] == [customer.id, customer.id]
