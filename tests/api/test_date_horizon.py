"""How far ahead an order's date may lie. The seeds forbid only dates in the past, and whoever runs their
examples "with dates made future" turns 2019 or 2021 into a year well ahead: every dialect takes a date
up to ten years (3,653 days) ahead, stores it and renders it, and refuses one beyond with its own 400."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from orderhub.dialects.tmf622 import schema as tmf622_schema
from orderhub.services.demo import demo_credentials
from orderhub.store.fastsql import read_time
from tests.api.support import (
    RunningServer,
    get_token,
    headers,
    new_esim_body,
    place,
    running_server,
    topup_body,
    unique_email,
    wait_for,
)

HORIZON = timedelta(days=3653)
# Far enough from the edge that the server's clock, a moment later than the test's, is on the same side.
MARGIN = timedelta(minutes=10)
TMF622 = "/tmf-api/productOrderingManagement/v4/productOrder"
ONAPI = "/2.5/sp_spec/order/"


def ahead(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("horizon") / "orderhub.db", worker_poll_seconds=0.2) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


@pytest.fixture(scope="module")
def reseller(http: httpx.Client) -> str:
    return get_token(http, "demo-reseller-1", "demo-reseller-1-secret")


@pytest.fixture(scope="module")
def channel(http: httpx.Client) -> str:
    (first, *_rest) = demo_credentials()["tmf-productorder"]
    return get_token(http, str(first["client_id"]), str(first["client_secret"]))


def stored_due_at(server: RunningServer, order_id: str) -> datetime:
    with server.services.engine.connect() as connection:
        raw = connection.execute(
            sa.text("SELECT due_at FROM orders WHERE id = :i OR reference = :i"), {"i": order_id}
        ).scalar_one()
    due = read_time(raw)
    assert due is not None
    return due


# --- esim-v1: subscriptions[].activationDate ------------------------------------------------------


def test_esim_activation_just_under_ten_years_ahead_is_accepted_stored_and_topped_up(
    http: httpx.Client, reseller: str
) -> None:
    when = ahead(HORIZON - MARGIN)
    email = unique_email()
    answer = place(http, reseller, new_esim_body(email, activationDate=when))
    assert answer.status_code == 201, answer.text
    order = wait_for(http, reseller, answer.json()["id"], lambda o: o["status"] != "FULFILLING")
    assert order["status"] == "COMPLETED", order
    assert order["input"]["subscriptions"][0]["activationDate"] == when
    iccid = order["output"]["iccid"]

    body = topup_body(email, iccid)
    body["input"]["subscriptions"][0]["activationDate"] = when
    topup = place(http, reseller, body)
    assert topup.status_code == 201, topup.text
    assert wait_for(http, reseller, topup.json()["id"], lambda o: o["status"] != "FULFILLING")["status"] == "COMPLETED"

    sim = http.get(f"/esim/v1/sim/{iccid}/subscriptions", headers=headers(reseller))
    assert sim.status_code == 200, sim.text
    starting_then = [s for s in sim.json() if moment(s["startDate"]) == moment(when)]
    assert len(starting_then) == 2, sim.json()
    for subscription in starting_then:
        # The seed's product is valid 30 days: it ends 30 days after its start, ten years ahead.
        assert subscription["status"] == "PENDING"
        assert moment(subscription["endDate"]) == moment(when) + timedelta(days=30)


def test_esim_activation_just_over_ten_years_ahead_is_a_400(http: httpx.Client, reseller: str) -> None:
    answer = place(http, reseller, new_esim_body(unique_email(), activationDate=ahead(HORIZON + MARGIN)))
    assert answer.status_code == 400, answer.text
    assert answer.json() == {
        "type": "INVALID_REQUEST_PARAMS",
        "messages": ["input.subscriptions[0].activationDate: can be at most 3653 days ahead"],
    }


# --- TMF622 (line orders): requestedStartDate -----------------------------------------------------


def line_order(when: str) -> dict[str, Any]:
    return {"requestedStartDate": when, **copy.deepcopy(tmf622_schema.EXAMPLE)}  # the document's example


def tmf_auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Correlation-ID": str(uuid.uuid4())}


def test_tmf622_start_just_under_ten_years_ahead_is_pending_stored_and_rescheduled(
    server: RunningServer, http: httpx.Client, channel: str
) -> None:
    when = ahead(HORIZON - MARGIN)
    answer = http.post(TMF622, json=line_order(when), headers=tmf_auth(channel))
    assert answer.status_code == 201, answer.text
    order = answer.json()
    assert order["state"] == "pending" and moment(order["requestedStartDate"]) == moment(when)
    assert stored_due_at(server, order["id"]) == moment(when)
    again = http.get(f"{TMF622}/{order['id']}", headers=tmf_auth(channel)).json()
    assert again["state"] == "pending" and moment(again["requestedStartDate"]) == moment(when)

    later = ahead(HORIZON - 2 * MARGIN)
    patched = http.patch(f"{TMF622}/{order['id']}", json={"requestedStartDate": later}, headers=tmf_auth(channel))
    assert patched.status_code == 200, patched.text
    assert patched.json()["state"] == "pending" and moment(patched.json()["requestedStartDate"]) == moment(later)


def test_tmf622_start_just_over_ten_years_ahead_is_a_400(http: httpx.Client, channel: str) -> None:
    answer = http.post(TMF622, json=line_order(ahead(HORIZON + MARGIN)), headers=tmf_auth(channel))
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["code"] == "INVALID_REQUEST" and body["status"] == "400", body
    assert "requestedStartDate" in body["message"] and "at most 3653 days ahead" in body["message"], body


# --- onapi-order: requestedDateTime ---------------------------------------------------------------


def activation(access: str, when: str) -> dict[str, Any]:
    return {
        "coId": "Acme",
        "coAccessId": access,
        "operation": "ACTIVATE",
        "orderDateTime": ahead(timedelta(0)),
        "requestedDateTime": when,
        "products": [{"productId": "fiber-internet", "offeringId": "1000-1000"}],
        "customerDetails": {"identifiedCustomer": False, "customerFirstname": "Anna", "customerLastName": "Berg"},
    }


def test_onapi_activation_just_under_ten_years_ahead_is_received_and_stored_just_over_a_400(
    server: RunningServer, http: httpx.Client
) -> None:
    acme = ("demo-co-acme", "demo-co-acme-secret")
    when = ahead(HORIZON - MARGIN)
    answer = http.post(ONAPI, json=activation("access-free-7", when), auth=acme)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "RECEIVED" and when[:10] in answer.json()["message"], answer.json()
    with server.services.engine.connect() as connection:
        (order_id,) = connection.execute(
            sa.text("SELECT id FROM orders WHERE operation = 'ACTIVATE_SERVICE' AND CAST(request AS TEXT) LIKE :a"),
            {"a": '%"access-free-7"%'},
        ).one()
    assert stored_due_at(server, order_id) == moment(when)

    refused = http.post(ONAPI, json=activation("access-free-8", ahead(HORIZON + MARGIN)), auth=acme)
    assert refused.status_code == 400, refused.text
    assert refused.json()["cause"] == "Bad requestedDateTime" and refused.json()["message"], refused.json()
