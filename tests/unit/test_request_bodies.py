"""A request body's schema, as the OpenAPI documents carry it: nested models written out in place."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, Field

from orderhub.web.request_bodies import json_request_body


class Address(BaseModel):
    city: str = Field(max_length=255)


class Customer(BaseModel):
    address: Address | None = Field(None, description="Where invoices go")
    previous: list[Address] = []


class Order(BaseModel):
    customer: Customer
    billed_to: Address = Field(alias="billedTo")


class Node(BaseModel):
    children: list[Node] = []


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    body = json_request_body(model, {"example": True})["requestBody"]
    assert body["required"] is True and body["content"]["application/json"]["example"] == {"example": True}
    return dict(body["content"]["application/json"]["schema"])


def test_nested_models_are_written_out_where_they_are_used() -> None:
    schema = schema_of(Order)

    assert "$defs" not in str(schema) and "$ref" not in str(schema)
    customer = schema["properties"]["customer"]
    assert customer["title"] == "Customer"
    address = customer["properties"]["address"]
    assert address["description"] == "Where invoices go"  # what stood beside the reference stays
    assert {"type": "object", "title": "Address"}.items() <= address["anyOf"][0].items()
    assert address["anyOf"][0]["properties"]["city"]["maxLength"] == 255
    assert customer["properties"]["previous"]["items"]["properties"]["city"]["type"] == "string"
    assert "billedTo" in schema["properties"]  # by alias, as the wire spells it


def test_a_model_that_contains_itself_is_refused_rather_than_written_out_forever() -> None:
    with pytest.raises(ValueError, match="Node refers to itself"):
        json_request_body(Node)
