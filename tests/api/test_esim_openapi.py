"""The served esim-v1 OpenAPI document says what the server does (answers unchanged)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from orderhub.domain.orders import OrderState


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
