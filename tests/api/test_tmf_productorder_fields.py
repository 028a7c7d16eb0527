"""tmf-productorder's TMF622 fields that change what is provisioned: acted on or refused, never taken
and dropped. A body with `"quantity": 2` was answered `completed` with one product delivered, one with
nested items delivered none of them, and one with a `requestedStartDate` ahead was provisioned at once."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from orderhub.services.demo import demo_credentials
from tests.api.seed_001 import DATAPLAN
from tests.api.support import RunningServer, running_server

VENDOR = "/emida-ux-lcr/emida-ux/v1/CR/productOrder"
ONE = demo_credentials()["tmf-productorder"][0]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    # A short poll: a scheduled order falls due without a request to wake the worker.
    path = tmp_path_factory.mktemp("tmf-fields") / "orderhub.db"
    with running_server(path, worker_poll_seconds=0.2) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def headers() -> dict[str, str]:
    return {
        "client_id": str(ONE["client_id"]),
        "client_secret": str(ONE["client_secret"]),
        "X-Correlation-ID": str(uuid.uuid4()),
        "Content-Type": "application/json",
    }


def post(http: httpx.Client, body: Any) -> httpx.Response:
    return http.post(VENDOR, content=json.dumps(body), headers=headers())


def seed(**top: Any) -> dict[str, Any]:
    """The seed's DataPlan example on the seed's line, with ``top`` added to the order."""
    return {**json.loads(DATAPLAN), **top}


def at(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("extra", "mentions"),
    [
        ({"quantity": 2}, "productOrderItem[0].quantity must be 1"),
        ({"quantity": "2"}, "productOrderItem[0].quantity must be 1"),
        ({"quantity": 0}, "productOrderItem[0].quantity must be 1"),
        ({"productOrderItem": [{"id": "1.1"}]}, "productOrderItem[0].productOrderItem"),
    ],
    ids=["two", "a string", "none", "nested items"],
)
def test_an_item_that_orders_other_than_one_product_is_refused_as_tmf622_refuses_it(
    http: httpx.Client, extra: dict[str, Any], mentions: str
) -> None:
    body = seed()
    body["productOrderItem"][0].update(extra)
    answer = post(http, body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "INVALID_REQUEST"
    assert answer.json()["status"] == "400"
    assert mentions in answer.json()["message"]


def test_an_item_of_quantity_one_is_an_order_as_without_it(http: httpx.Client) -> None:
    body = seed()
    body["productOrderItem"][0]["quantity"] = 1
    answer = post(http, body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["state"] == "completed"


def test_a_requested_start_date_ahead_makes_the_order_pending_until_then(http: httpx.Client) -> None:
    later = at(timedelta(days=3))
    answer = post(http, seed(requestedStartDate=later))
    assert answer.status_code == 201, answer.text
    order = answer.json()
    assert (order["state"], order["description"]) == ("pending", "Order received; provisioning is scheduled")
    assert order["requestedStartDate"] == later
    assert "id" not in order["productOrderItem"][0]["product"]  # nothing started on the line yet
    shown = http.get(f"{VENDOR}/{order['id']}", headers=headers())
    assert shown.status_code == 200, shown.text
    assert (shown.json()["state"], shown.json()["requestedStartDate"]) == ("pending", later)


def test_an_order_whose_requested_start_comes_is_provisioned_then(http: httpx.Client) -> None:
    # Ahead by more than a loaded machine takes to answer the POST (it must still be ahead when read),
    # and awaited for as long as such a machine may take to fulfil it once due.
    answer = post(http, seed(requestedStartDate=at(timedelta(seconds=5))))
    assert answer.status_code == 201, answer.text
    assert answer.json()["state"] == "pending"
    deadline = time.monotonic() + 60
    while True:
        shown = http.get(f"{VENDOR}/{answer.json()['id']}", headers=headers()).json()
        if shown["state"] == "completed" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert shown["state"] == "completed", shown
    assert shown["productOrderItem"][0]["product"]["id"]


@pytest.mark.parametrize("when", [timedelta(0), timedelta(days=-30)], ids=["now", "past"])
def test_a_requested_start_date_now_or_past_is_provisioned_at_once(http: httpx.Client, when: timedelta) -> None:
    sent = at(when)
    answer = post(http, seed(requestedStartDate=sent))
    assert answer.status_code == 201, answer.text
    assert answer.json()["state"] == "completed"
    assert answer.json()["requestedStartDate"] == sent


@pytest.mark.parametrize(
    ("value", "mentions"),
    [
        ("tomorrow", "requestedStartDate must be an RFC 3339 date-time"),
        ("2030-01-01T10:00:00", "requestedStartDate must carry a time zone"),
        (1800000000, "requestedStartDate must be an RFC 3339 date-time"),
        ("2099-01-01T10:00:00Z", "requestedStartDate can be at most 3653 days ahead"),
    ],
    ids=["words", "no offset", "a number", "beyond ten years"],
)
def test_a_requested_start_date_that_cannot_be_kept_is_refused(
    http: httpx.Client, value: object, mentions: str
) -> None:
    answer = post(http, seed(requestedStartDate=value))
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "INVALID_REQUEST"
    assert mentions in answer.json()["message"], answer.json()


def test_an_item_naming_another_offering_than_its_product_is_refused_as_tmf622_refuses_it(http: httpx.Client) -> None:
    # TMF622's place for the offering is the item; this API's, the item's product. Both naming different
    # offerings, the item's was dropped and the product's ordered.
    body = seed()
    body["productOrderItem"][0]["productOffering"] = {"id": "OFFER-ADDON-003"}
    answer = post(http, body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["message"] == (
        "productOrderItem[0].productOffering.id and productOrderItem[0].product.productOffering.id "
        "name different offerings"
    )
    body["productOrderItem"][0]["productOffering"] = "OFFER-ADDON-003"
    answer = post(http, body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["message"] == "productOrderItem[0].productOffering must be an object"


def test_an_item_naming_its_products_offering_again_is_an_order_as_without_it(http: httpx.Client) -> None:
    body = seed()
    body["productOrderItem"][0]["productOffering"] = {"id": "OFFER-DP-001"}
    answer = post(http, body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["productOrderItem"][0]["product"]["productOffering"] == {"id": "OFFER-DP-001"}
