"""The request body of a route that reads its JSON itself, described for its OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

_COMPONENTS = "#/components/schemas/"


def model_schemas(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s schema (by its aliases, as the wire spells its fields) and those of the models it nests,
    each under its model's name and referring to the others as the document's components.

    A client generator names its classes after them (``OrderRequest``, ``CustomerDetails``); written out in
    place, a nested model got a name made of the operation's and of every model around it. Pydantic's own
    references (``#/$defs/…``) would point at the document's root, where nothing is."""
    name = model.__name__
    schema = model.model_json_schema(by_alias=True, ref_template=_COMPONENTS + "{model}")
    nested: dict[str, Any] = schema.pop("$defs", {})
    if schema == {"$ref": _COMPONENTS + name}:  # a model that contains itself is one of its own $defs
        return nested
    if name in nested:
        raise ValueError(f"{name} is the name of a model it nests")
    return {name: schema, **nested}


def json_body(name: str) -> dict[str, Any]:
    """A required JSON request body of the document's component schema ``name``."""
    return {"required": True, "content": {"application/json": {"schema": {"$ref": _COMPONENTS + name}}}}
