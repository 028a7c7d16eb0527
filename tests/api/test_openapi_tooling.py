"""Each served OpenAPI document as partners' tooling reads it (validators, client generators, mock servers,
gateways): valid OpenAPI 3.1, formats included; operationIds a generator can name functions after; every
example valid against its own schema; and the server it names the one partners reach, behind
ORDERHUB_PUBLIC_URL too. Validated with the OpenAPI 3.1 schema Schemathesis ships and checks documents
with, by jsonschema-rs (both in the test dependencies)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema_rs
import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_31

from tests.api.openapi_support import API_PREFIXES, document_of
from tests.api.support import RunningServer, running_server

APIS = sorted(API_PREFIXES)
PUBLIC_URL = "https://gateway.example.com/orderhub"


@pytest.fixture(scope="module")
def documents(server: RunningServer) -> dict[str, dict[str, Any]]:
    with server.client() as client:
        return {api: document_of(client, api) for api in APIS}


@pytest.mark.parametrize("api", APIS)
def test_each_document_is_valid_openapi_3_1(documents: dict[str, dict[str, Any]], api: str) -> None:
    # Formats too: an operationRef with a path template's braces in it is no URI reference, and
    # openapi-spec-validator's peers (Spectral's oas3-schema) refused the document over it.
    validator = jsonschema_rs.Draft202012Validator(OPENAPI_31, validate_formats=True)
    problems = [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(documents[api])]
    assert problems == []


@pytest.mark.parametrize("api", APIS)
def test_every_operation_has_its_own_operation_id_a_generator_can_name_a_function_after(
    documents: dict[str, dict[str, Any]], api: str
) -> None:
    ids = [operation.get("operationId") for _method, _path, operation in operations(documents[api])]
    assert [
        operation_id for operation_id in ids if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(operation_id))
    ] == []
    assert len(set(ids)) == len(ids)


# Generated clients name their methods after these: chosen (TM Forum's own names for TMF622 and, in its
# style, for the TMF622-style API), never the framework's defaults such as ``place_order_order_post``,
# which changed whenever a handler or a path did and so renamed partners' methods with it.
OPERATION_IDS = {
    "esim-v1": {
        "POST /order": "placeOrder",
        "GET /order/{order_id}": "getOrder",
        "GET /order/{order_id}/qrcode": "getOrderQrCode",
        "GET /order/{order_id}/install-links": "getOrderInstallLinks",
        "GET /product": "listProducts",
        "GET /product/{product_id}": "getProduct",
        "GET /sim/{iccid}": "getSim",
        "GET /sim/{iccid}/subscriptions": "listSimSubscriptions",
    },
    "tmf-productorder": {
        "POST /{business_id}/productOrder": "createProductOrder",
        "GET /{business_id}/productOrder/{order_id}": "retrieveProductOrder",
    },
    "tmf622": {
        "POST /productOrder": "createProductOrder",
        "GET /productOrder": "listProductOrder",
        "GET /productOrder/{order_id}": "retrieveProductOrder",
        "PATCH /productOrder/{order_id}": "patchProductOrder",
        "DELETE /productOrder/{order_id}": "deleteProductOrder",
        "POST /cancelProductOrder": "createCancelProductOrder",
        "GET /cancelProductOrder": "listCancelProductOrder",
        "GET /cancelProductOrder/{cancellation_id}": "retrieveCancelProductOrder",
        "POST /hub": "registerListener",
        "GET /hub/{listener_id}": "retrieveListener",
        "DELETE /hub/{listener_id}": "unregisterListener",
    },
    "onapi-order": {
        "GET /": "listEndpoints",
        "GET /sp_spec/products/": "listProducts",
        "POST /sp_spec/order/": "placeOrder",
    },
}


@pytest.mark.parametrize("api", APIS)
def test_each_operation_is_named_as_chosen(documents: dict[str, dict[str, Any]], api: str) -> None:
    named = {
        f"{method.upper()} {path}": operation.get("operationId")
        for method, path, operation in operations(documents[api])
    }
    assert named == OPERATION_IDS[api]


# Client generators name their classes after these (a body written out in place got names such as
# PlaceOrderOrderRequestCustomerDetails), so they are chosen: what partners know the things by, none of
# our own code's words (esim-v1's request models were named Wire* after the module holding them).
SCHEMA_NAMES = {
    "esim-v1": {
        "OrderRequest", "OrderInput", "Customer", "Device", "Subscription", "Esim", "OrderAccepted", "OrderResource",
        "OrderOutput", "OrderHistoryEntry", "OrderState", "InstallLinks", "ProductResource", "Price", "SimResource",
        "SubscriptionResource", "ErrorBody",
    },
    "tmf-productorder": {
        "ProductOrder_Create", "ProductOrder", "ProductOrderItem", "Product", "ProductOfferingRef", "Characteristic",
        "RelatedParty", "Error",
    },
    "tmf622": {
        "ProductOrder_Create", "ProductOrder_Update", "ProductOrder", "ProductOrderItem", "ProductOrderItem_Create",
        "ProductOrderRef", "ProductRefOrValue", "ProductOfferingRef", "Characteristic", "RelatedParty", "Note",
        "CancelProductOrder_Create", "CancelProductOrder", "EventSubscriptionInput", "EventSubscription", "Error",
    },
    "onapi-order": {
        "OrderRequest", "CustomerDetails", "InvoiceDetails", "ProductRef", "OrderAnswer", "Endpoint", "Product",
        "ErrorBody",
    },
}  # fmt: skip


@pytest.mark.parametrize("api", APIS)
def test_each_schema_is_named_as_chosen(documents: dict[str, dict[str, Any]], api: str) -> None:
    assert set(documents[api]["components"]["schemas"]) == SCHEMA_NAMES[api]


# The docs page groups operations by tag; client generators put each tag's in a module of its own (with
# none, everything was "default"). TMF622's are TM Forum's own.
TAGS = {
    "esim-v1": ["orders", "products", "sims"],
    "tmf-productorder": ["productOrder"],
    "tmf622": ["productOrder", "cancelProductOrder", "events subscription"],
    "onapi-order": ["order", "products", "endpoints"],
}


@pytest.mark.parametrize("api", APIS)
def test_every_operation_has_one_of_its_apis_tags(documents: dict[str, dict[str, Any]], api: str) -> None:
    document = documents[api]
    assert [tag["name"] for tag in document["tags"]] == TAGS[api]
    assert all(tag["description"] for tag in document["tags"])
    tagged = {(method, path): operation.get("tags") for method, path, operation in operations(document)}
    assert {key: tags for key, tags in tagged.items() if not (tags and len(tags) == 1)} == {}
    assert {tags[0] for tags in tagged.values() if tags} == set(TAGS[api])


@pytest.mark.parametrize("api", APIS)
def test_every_answer_says_what_it_is(documents: dict[str, dict[str, Any]], api: str) -> None:
    # esim-v1's answers were all the framework's "Successful Response".
    vague = [
        f"{method.upper()} {path} {status}"
        for method, path, operation in operations(documents[api])
        for status, response in operation["responses"].items()
        if response["description"] in ("", "Successful Response")
    ]
    assert vague == []


@pytest.mark.parametrize("api", APIS)
def test_no_schema_is_titled_after_its_name_by_the_framework(documents: dict[str, dict[str, Any]], api: str) -> None:
    # Pydantic and FastAPI titled properties, parameters and answers "Coaccessid", "Order Id", "Response
    # Listproducts": the document, its components (each titled by its name) and nothing else have titles.
    titled = {
        where
        for where, node in objects(documents[api], "")
        if isinstance(node.get("title"), str) and not re.search("/examples?(/|$)", where)  # data, not schemas
    }
    components = {f"/components/schemas/{name}" for name in documents[api]["components"]["schemas"]}
    assert titled - components == {"/info"}


def examples(document: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """Each example in ``document``: where it stands, the JSON pointer of the schema it illustrates, itself.
    A media type's, parameter's or header's ``example`` and ``examples`` (a map of Example Objects)
    illustrate its ``schema``; a schema's own ``examples`` (a list) and ``example`` illustrate the schema."""
    for where, node in objects(document, ""):
        if is_schema(where):
            listed = node.get("examples")
            for index, value in enumerate(listed if isinstance(listed, list) else []):
                yield f"{where}/examples/{index}", where, value
            if "example" in node:
                yield f"{where}/example", where, node["example"]
        elif isinstance(node.get("schema"), dict):
            if "example" in node:
                yield f"{where}/example", f"{where}/schema", node["example"]
            for name, example in (node.get("examples") or {}).items():
                if "value" in example:
                    yield f"{where}/examples/{name}", f"{where}/schema", example["value"]


def is_schema(where: str) -> bool:
    """Whether the object at ``where`` is a schema (not a schema's map of its properties)."""
    inside = where.startswith("/components/schemas/") or "/schema/" in where or where.endswith("/schema")
    return inside and not where.endswith("/properties")


def objects(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from objects(value, f"{where}/{key.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from objects(value, f"{where}/{index}")


@pytest.mark.parametrize("api", APIS)
def test_every_example_is_valid_against_its_schema(documents: dict[str, dict[str, Any]], api: str) -> None:
    # Mock servers answer with the examples, and generators' tests send them: one its own schema refuses
    # is a request the API refuses, or an answer no client generated from the document reads.
    document = documents[api]
    found = list(examples(document))
    invalid = []
    for where, schema_at, example in found:
        # The document is the schema's root, so that its references (#/components/schemas/…) resolve.
        rooted = {**document, "$ref": "#" + quote(schema_at, safe="/~")}
        validator = jsonschema_rs.Draft202012Validator(rooted, validate_formats=True)
        invalid += [f"{where}: {error.message}" for error in validator.iter_errors(example)]
    assert invalid == []
    if api in ("tmf-productorder", "tmf622"):
        assert found, "the request example is looked at"


@pytest.mark.parametrize("api", APIS)
def test_without_a_public_url_the_server_is_the_prefix_the_document_was_asked_under(
    documents: dict[str, dict[str, Any]], api: str
) -> None:
    assert documents[api]["servers"] == [{"url": API_PREFIXES[api]}]


def test_behind_a_public_url_each_document_names_it_as_its_server(tmp_path: Path) -> None:
    # A relative server resolves against the document's own address, without the public address's path
    # (/orderhub here, which TMF622's hrefs and onapi-order's documentation links have), and against
    # nothing at all in a copy of the document fed to a client generator.
    with running_server(tmp_path / "public.db", public_url=PUBLIC_URL) as server, server.client() as client:
        servers = {api: document_of(client, api)["servers"] for api in APIS}
        alias = client.get("/emida-ux/v1/openapi.json").json()["servers"]
    assert servers == {api: [{"url": PUBLIC_URL + prefix}] for api, prefix in API_PREFIXES.items()}
    assert alias == servers["tmf-productorder"]  # the documented base path, which the alias serves too


# A partner trying the API in its /docs page signs in there with its client_id and client_secret: behind
# ORDERHUB_PUBLIC_URL, the bearer APIs offer OAuth2's client-credentials flow beside the bearer scheme, so
# Swagger UI's Authorize (or a generated client) fetches the token itself from the tokenUrl. OpenAPI 3.1
# wants that URL absolute, so without a public address there is no flow to offer.
BEARER_APIS = ("esim-v1", "tmf622")
READ_ANY = {"esim-v1": "/product", "tmf622": "/productOrder"}
CLIENTS = {
    "esim-v1": ("demo-reseller-1", "demo-reseller-1-secret"),
    "tmf622": ("demo-channel-1", "demo-channel-1-secret"),
}
ONAPI_BASIC = "The communication operator's client id and secret, on every request"


def secured(document: dict[str, Any]) -> list[list[dict[str, list[str]]]]:
    return [operation["security"] for _method, _path, operation in operations(document) if "security" in operation]


@pytest.mark.parametrize("api", BEARER_APIS)
def test_without_a_public_url_a_bearer_api_offers_its_bearer_scheme(
    documents: dict[str, dict[str, Any]], api: str
) -> None:
    assert list(documents[api]["components"]["securitySchemes"]) == ["bearer"]
    assert secured(documents[api]) and all(security == [{"bearer": []}] for security in secured(documents[api]))


def test_behind_a_public_url_a_bearer_api_offers_the_client_credentials_flow_that_gets_its_token(
    tmp_path: Path,
) -> None:
    validator = jsonschema_rs.Draft202012Validator(OPENAPI_31, validate_formats=True)
    with running_server(tmp_path / "flow.db", public_url=PUBLIC_URL) as server, server.client() as http:
        for api in BEARER_APIS:
            document = document_of(http, api)
            assert validator.is_valid(document), api
            scheme = document["components"]["securitySchemes"]["oauth2"]
            flow = scheme["flows"]["clientCredentials"]
            assert scheme["type"] == "oauth2" and flow["scopes"] == {}
            assert flow["tokenUrl"] == flow["refreshUrl"] == PUBLIC_URL + "/oauth2/token"
            assert all(security == [{"bearer": []}, {"oauth2": []}] for security in secured(document)), api
            # What Swagger UI does with it, through a gateway that maps the public address to this server:
            # client credentials in HTTP Basic, an empty scope; the token it gets reads the API.
            answer = http.post(
                flow["tokenUrl"].removeprefix(PUBLIC_URL),
                data={"grant_type": "client_credentials", "scope": ""},
                auth=CLIENTS[api],
            )
            assert answer.status_code == 200, answer.text
            token = answer.json()["access_token"]
            path = document["servers"][0]["url"].removeprefix(PUBLIC_URL) + READ_ANY[api]
            read = http.get(path, headers={"Authorization": f"Bearer {token}", "X-Correlation-ID": "doc-1"})
            assert read.status_code == 200, read.text


def test_the_other_apis_offer_no_token_flow(documents: dict[str, dict[str, Any]]) -> None:
    # tmf-productorder takes its credentials as header fields (documented as its parameters), onapi-order
    # as HTTP Basic on every request, under a scheme named for what it is.
    assert "securitySchemes" not in documents["tmf-productorder"].get("components", {})
    assert documents["onapi-order"]["components"]["securitySchemes"] == {
        "basic": {"type": "http", "scheme": "basic", "description": ONAPI_BASIC}
    }


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation
