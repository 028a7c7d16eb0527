"""The request body of a route that reads its JSON itself, described for its OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

_DEFS = "#/$defs/"


def json_request_body(model: type[BaseModel], example: dict[str, Any] | None = None) -> dict[str, Any]:
    """``openapi_extra`` saying the body is ``model`` (by its aliases), with its nested models inline.

    Pydantic's schema keeps nested models in its own ``$defs`` and refers to them as ``#/$defs/…``,
    which in an OpenAPI document points at the document's root, where nothing is: client generators
    stopped there and the fuzzer skipped the body's nested parts."""
    schema = model.model_json_schema(by_alias=True)
    content: dict[str, Any] = {"schema": _inline(schema, schema.pop("$defs", {}), ())}
    if example is not None:
        content["example"] = example
    return {"requestBody": {"required": True, "content": {"application/json": content}}}


def _inline(node: Any, definitions: dict[str, Any], within: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(item, definitions, within) for item in node]
    if not isinstance(node, dict):
        return node
    reference = node.get("$ref")
    if isinstance(reference, str) and reference.startswith(_DEFS):
        name = reference[len(_DEFS) :]
        if name in within:  # a model that contains itself cannot be written out inline
            raise ValueError(f"{name} refers to itself: give it a place in the document's components")
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        return _inline({**definitions[name], **siblings}, definitions, (*within, name))
    return {key: _inline(value, definitions, within) for key, value in node.items()}
