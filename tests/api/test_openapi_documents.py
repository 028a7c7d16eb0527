"""Every served OpenAPI document stands on its own: each reference in it resolves within it. A client
generator (openapi-generator, Schemathesis) stops at, or skips, what it cannot resolve: a request body
whose model referred to ``#/$defs/...`` went untested by the fuzzer and unbuildable by partners."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

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
    """What a local reference (a JSON pointer into the document itself, percent-encoded as a URI fragment
    is: RFC 6901 section 6) points at; KeyError if nothing."""
    assert reference.startswith("#/"), reference
    target: Any = document
    for token in unquote(reference[2:]).split("/"):
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


# Each create and the operations that take the id it answers: a client generated from the document, or
# Schemathesis's stateful phase, follows the created resource there (without the links the fuzzer only
# ever asked for ids it made up, answered 404).
CREATED_RESOURCES = [
    ("/esim/v1/openapi.json", "/order", ["/order/{order_id}", "/order/{order_id}/qrcode",
                                         "/order/{order_id}/install-links"]),
    ("/emida-ux-lcr/emida-ux/v1/openapi.json", "/{business_id}/productOrder",
     ["/{business_id}/productOrder/{order_id}"]),
    ("/tmf-api/productOrderingManagement/v4/openapi.json", "/productOrder", ["/productOrder/{order_id}"]),
    ("/tmf-api/productOrderingManagement/v4/openapi.json", "/cancelProductOrder",
     ["/cancelProductOrder/{cancellation_id}"]),
    ("/tmf-api/productOrderingManagement/v4/openapi.json", "/hub", ["/hub/{listener_id}"]),
]  # fmt: skip


@pytest.mark.parametrize(("path", "create", "targets"), CREATED_RESOURCES)
def test_a_created_resource_is_linked_to_the_operations_that_take_its_id(
    client: httpx.Client, path: str, create: str, targets: list[str]
) -> None:
    document = client.get(path).json()
    links = document["paths"][create]["post"]["responses"]["201"]["links"]

    linked = set()
    for link in links.values():
        target = resolved(document, link["operationRef"])
        path_parameters = {p["name"] for p in target.get("parameters", []) if p["in"] == "path"}
        assert set(link["parameters"]) == path_parameters, link
        linked.add(unquote(link["operationRef"]).split("/")[2].replace("~1", "/"))
    assert linked == set(targets)
