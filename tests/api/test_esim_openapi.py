"""The served esim-v1 OpenAPI document says what the server does (answers unchanged)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from orderhub.domain.order_states import OrderState
from tests.api.support import get_token, running_server


@pytest.fixture
def document(client: httpx.Client) -> dict[str, Any]:
    answer = client.get("/esim/v1/openapi.json")
    assert answer.status_code == 200
    return dict(answer.json())


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_history_statuses_are_listed(document: dict[str, Any]) -> None:
    # history is orderhub's own addition (the seed's Order resource has none): its statuses are the
    # canonical state names, and the document lists every one.
    entry = document["components"]["schemas"]["OrderHistoryEntry"]["properties"]["status"]
    assert set(resolve(document, entry)["enum"]) == {state.value for state in OrderState}


def test_the_correlation_id_is_a_required_header(document: dict[str, Any]) -> None:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            (header,) = [p for p in operation["parameters"] if p["name"] == "X-Correlation-ID"]
            assert header["in"] == "header"
            assert header["required"] is True, (method, path)
            assert "default" not in header["schema"], (method, path)


def test_device_type_lists_its_values(document: dict[str, Any]) -> None:
    device_type = document["components"]["schemas"]["Device"]["properties"]["type"]
    assert device_type["enum"] == ["iot", "ios", "android"]


def test_a_subscription_names_its_product_one_way_or_another(document: dict[str, Any]) -> None:
    subscription = document["components"]["schemas"]["Subscription"]
    assert sorted(tuple(choice["required"]) for choice in subscription["anyOf"]) == [
        ("allowanceId",),
        ("id",),
        ("product_id",),
    ]


def test_deprecated_spellings_are_marked_deprecated(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["Subscription"]["properties"]["allowanceId"]["deprecated"] is True
    assert "deprecated" not in schemas["Subscription"]["properties"]["product_id"]
    choices = schemas["OrderInput"]["properties"]["operationType"]["anyOf"]
    deprecated = [c for c in choices if c.get("deprecated")]
    assert [c["const"] for c in deprecated] == ["TOPUP_ACTIVATION"]
    assert {v for c in choices for v in c.get("enum", [c.get("const")])} == {"NEW_ESIM", "TOPUP", "TOPUP_ACTIVATION"}


def test_response_headers_are_declared(document: dict[str, Any]) -> None:
    responses = document["paths"]["/order"]["post"]["responses"]
    assert set(responses["201"]["headers"]) >= {
        "Deprecation",
        "X-Deprecated-Fields",
        "Idempotent-Replayed",
        "X-Correlation-ID",
    }
    for status in ("400", "401", "403", "422", "429"):
        assert set(responses[status]["headers"]) >= {"Deprecation", "X-Deprecated-Fields", "X-Correlation-ID"}
    # The partner's rate limit, on every operation: when to try again.
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert "Retry-After" in operation["responses"]["429"]["headers"], (method, path)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                assert "X-Correlation-ID" in response.get("headers", {}), (method, path, status)


def test_the_documents_example_orders_are_the_apis_own_and_each_is_accepted(tmp_path: Path) -> None:
    """A partner trying the document's examples (a docs page's "try it") gets 201s: the API's own new eSIM
    and top-up, dated ahead. The document had no example at all."""
    with running_server(tmp_path / "examples.db") as server, server.client() as http:
        document = http.get("/esim/v1/openapi.json").json()
        body = document["paths"]["/order"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        examples = resolve(document, body)["examples"]
        assert [example["input"]["operationType"] for example in examples] == ["NEW_ESIM", "TOPUP"]
        # In the seed's order, as a partner reads it (the schema generator sorted an example's keys).
        assert list(examples[0]["input"]) == ["operationType", "countryCode", "customer", "device", "subscriptions"]
        assert list(examples[0]["input"]["subscriptions"][0]) == ["id", "activationDate", "price", "currency"]
        token = get_token(http, "demo-reseller-1", "demo-reseller-1-secret")
        for example in examples:
            placed = http.post(
                "/esim/v1/order", json=example, headers={"Authorization": f"Bearer {token}", "X-Correlation-ID": "ex-1"}
            )
            assert placed.status_code == 201, placed.text


def test_the_idempotency_key_is_documented_as_spelt_and_read(document: dict[str, Any]) -> None:
    # FastAPI named it after the handler's argument (idempotency-key, "string | null"; a header is never
    # null) and said nothing of what it does.
    (key,) = [p for p in document["paths"]["/order"]["post"]["parameters"] if p["name"].lower() == "idempotency-key"]
    assert key["name"] == "Idempotency-Key" and key["in"] == "header" and key["required"] is False
    assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 255}
    assert "IDEMPOTENCY_KEY_REUSED" in key["description"]
