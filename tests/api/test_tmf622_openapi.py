"""The TMF622 v4 document describes the API as it behaves: TM Forum's resource names, bearer tokens, the
listing's parameters and headers, a body for every change; and each answer of an order's whole life
(create, read, list, change, cancel, delete, listeners) is as the document says."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from orderhub.dialects.tmf622 import schema
from tests.api.openapi_support import answer_problems, document_of
from tests.api.support import get_token, running_server

BASE = "/tmf-api/productOrderingManagement/v4"
# The document's own request example (README's: the offering on the item, no category).
EXAMPLE: dict[str, Any] = schema.EXAMPLE


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    # Its own server: a listener is registered.
    with (
        running_server(tmp_path_factory.mktemp("tmf622-openapi") / "orderhub.db") as running,
        running.client() as client,
    ):
        client.headers["Authorization"] = f"Bearer {get_token(client, 'demo-channel-1', 'demo-channel-1-secret')}"
        yield client


@pytest.fixture(scope="module")
def document(http: httpx.Client) -> dict[str, Any]:
    return document_of(http, "tmf622")


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def test_resources_have_tmf622s_names(document: dict[str, Any]) -> None:
    assert set(document["components"]["schemas"]) >= {
        "ProductOrder_Create",
        "ProductOrder",
        "ProductOrder_Update",
        "CancelProductOrder_Create",
        "CancelProductOrder",
        "EventSubscriptionInput",
        "EventSubscription",
        "Error",
    }
    assert document["components"]["schemas"]["Error"]["required"] == ["code", "reason", "message", "status"]
    bodies = {(method, path) for method, path, operation in operations(document) if "requestBody" in operation}
    assert bodies == {
        ("post", "/productOrder"),
        ("patch", "/productOrder/{order_id}"),
        ("post", "/cancelProductOrder"),
        ("post", "/hub"),
    }


def test_every_operation_takes_a_bearer_token(document: dict[str, Any]) -> None:
    (scheme,) = document["components"]["securitySchemes"].values()
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for method, path, operation in operations(document):
        assert operation["security"] == [{"bearer": []}], (method, path)
        assert all(p["name"].lower() != "authorization" for p in operation.get("parameters", [])), (method, path)


def test_the_listing_documents_its_parameters_and_counts(document: dict[str, Any]) -> None:
    listing = document["paths"]["/productOrder"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {
        "offset",
        "limit",
        "fields",
        "id",
        "state",
        "orderDate",
        "externalId",
    }
    headers = listing["responses"]["200"]["headers"]
    assert headers["X-Total-Count"]["required"] and headers["X-Result-Count"]["required"]


def test_an_orders_whole_life_answers_as_documented(http: httpx.Client, document: dict[str, Any]) -> None:
    start = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S+02:00")
    body = copy.deepcopy(EXAMPLE)
    body |= {"requestedStartDate": start, "externalId": "x-1", "note": [{"text": "first", "date": start}]}
    answers = [created := http.post(f"{BASE}/productOrder", json=body)]
    assert created.status_code == 201, created.text
    order = created.json()
    one = f"{BASE}/productOrder/{order['id']}"
    answers += [
        http.get(one),
        http.get(one, params={"fields": "state"}),
        http.get(
            f"{BASE}/productOrder", params={"id": order["id"], "state": "pending", "orderDate": order["orderDate"]}
        ),
        http.get(f"{BASE}/productOrder", params={"limit": 5, "offset": 0, "fields": "state,orderDate"}),
        http.patch(
            one,
            content=b'{"description": "changed", "externalId": null}',
            headers={"Content-Type": "application/merge-patch+json"},
        ),
        http.patch(one, json={"state": "completed"}),
        http.delete(one),  # still open
    ]
    cancelled = http.post(
        f"{BASE}/cancelProductOrder", json={"productOrder": {"id": order["id"]}, "cancellationReason": "moved"}
    )
    answers += [
        cancelled,
        http.get(f"{BASE}/cancelProductOrder"),
        http.get(f"{BASE}/cancelProductOrder/{cancelled.json()['id']}", params={"fields": "state"}),
        http.delete(one),
        http.get(one),
    ]
    listener = http.post(
        f"{BASE}/hub",
        json={"callback": "https://listener.example.com/tmf", "query": "eventType=ProductOrderStateChangeEvent"},
    )
    answers += [
        listener,
        http.get(f"{BASE}/hub/{listener.json()['id']}"),
        http.delete(f"{BASE}/hub/{listener.json()['id']}"),
    ]

    assert [a.status_code for a in answers] == [
        201,
        200,
        200,
        200,
        200,
        200,
        400,
        409,
        201,
        200,
        200,
        204,
        404,
        201,
        200,
        204,
    ]
    assert [problem for answer in answers for problem in answer_problems(document, "tmf622", answer)] == []


def test_each_operation_has_tm_forums_operation_id(document: dict[str, Any]) -> None:
    """As TM Forum's own TMF622 v4 document names them: a client generated from that document and one
    generated from this have the same methods (they had FastAPI's names, ``list_orders_productOrder_get``)."""
    named = {(method, path): operation["operationId"] for method, path, operation in operations(document)}
    assert named == {
        ("post", "/productOrder"): "createProductOrder",
        ("get", "/productOrder"): "listProductOrder",
        ("get", "/productOrder/{order_id}"): "retrieveProductOrder",
        ("patch", "/productOrder/{order_id}"): "patchProductOrder",
        ("delete", "/productOrder/{order_id}"): "deleteProductOrder",
        ("post", "/cancelProductOrder"): "createCancelProductOrder",
        ("get", "/cancelProductOrder"): "listCancelProductOrder",
        ("get", "/cancelProductOrder/{cancellation_id}"): "retrieveCancelProductOrder",
        ("post", "/hub"): "registerListener",
        ("get", "/hub/{listener_id}"): "retrieveListener",
        ("delete", "/hub/{listener_id}"): "unregisterListener",
    }
