"""A request body's models, as the OpenAPI documents carry them: each a component schema under its own name."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from orderhub.web.request_bodies import json_body, model_schemas


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


def test_each_nested_model_is_a_component_the_others_refer_to() -> None:
    schemas = model_schemas(Order)

    assert set(schemas) == {"Order", "Customer", "Address"}
    assert "$defs" not in str(schemas)
    assert schemas["Order"]["properties"]["customer"] == {"$ref": "#/components/schemas/Customer"}
    assert "billedTo" in schemas["Order"]["properties"]  # by alias, as the wire spells it
    address = schemas["Customer"]["properties"]["address"]
    assert address["description"] == "Where invoices go"  # what stood beside the reference stays
    assert {"$ref": "#/components/schemas/Address"} in address["anyOf"]
    assert schemas["Customer"]["properties"]["previous"]["items"] == {"$ref": "#/components/schemas/Address"}
    assert schemas["Address"]["properties"]["city"]["maxLength"] == 255


def test_a_model_that_contains_itself_refers_to_its_own_component() -> None:
    schemas = model_schemas(Node)
    assert schemas["Node"]["properties"]["children"]["items"] == {"$ref": "#/components/schemas/Node"}


def test_the_body_refers_to_the_component_it_names() -> None:
    assert json_body("Order") == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}},
    }


def test_a_model_named_as_one_it_nests_is_refused() -> None:
    outer = type("Address", (BaseModel,), {"__annotations__": {"inner": Address}, "__module__": __name__})
    with pytest.raises(ValueError, match="Address is the name of a model it nests"):
        model_schemas(outer)
