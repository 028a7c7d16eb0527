"""Every served OpenAPI document stands on its own: each reference in it resolves within it. A client
generator (openapi-generator, Schemathesis) stops at, or skips, what it cannot resolve: a request body
whose model referred to ``#/$defs/...`` went untested by the fuzzer and unbuildable by partners."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

DOCUMENTS = [
    "/esim/v1/openapi.json",
    "/emida-ux-lcr/emida-ux/v1/openapi.json",
    "/tmf-api/productOrderingManagement/v4/openapi.json",
    "/2.5/openapi.json",
]


def references(node: Any, where: str = "#") -> Iterator[tuple[str, str]]:
    """Each ``$ref`` in the document and where it stands."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield where, node["$ref"]
        for key, value in node.items():
            yield from references(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from references(value, f"{where}/{index}")


def resolved(document: dict[str, Any], reference: str) -> Any:
    """What a local reference (a JSON pointer into the document itself) points at; KeyError if nothing."""
    assert reference.startswith("#/"), reference
    target: Any = document
    for token in reference[2:].split("/"):
        target = target[token.replace("~1", "/").replace("~0", "~")]
    return target


@pytest.mark.parametrize("path", DOCUMENTS)
def test_every_reference_resolves_within_its_document(client: httpx.Client, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 200
    document = answer.json()

    unresolved = []
    for where, reference in references(document):
        try:
            resolved(document, reference)
        except (KeyError, IndexError, TypeError):
            unresolved.append(f"{where}: {reference}")
    assert unresolved == []
    assert "$defs" not in answer.text  # definitions live in components/schemas, or inline
