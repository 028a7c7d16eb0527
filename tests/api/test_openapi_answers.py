"""What every served OpenAPI document says each operation answers is what the API can answer: the error
statuses it can send there and no others, a schema for every JSON answer, the headers its answers carry,
and none of the framework's validation bodies, which no API sends."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.openapi_support import API_PREFIXES, document_of
from tests.api.support import RunningServer

# Every API: 405 (a method the path does not take, with Allow) and 500 (a bug) anywhere; 503 (the database)
# wherever the database is read. Only a body (POST, PATCH) can be late (408), too large (413) or of another
# type (415). Every request of a partner counts against its rate limit (429), on every API; an API that
# signs in a client's secret on every request counts failed sign-ins too (429).
_ESIM_ANY = {400, 401, 403, 405, 429, 500, 503}
_ESIM_ONE = _ESIM_ANY | {404}
_TMF_ANY = {400, 401, 403, 404, 405, 429, 500, 503}
_TMF622_ONE = {401, 403, 404, 405, 429, 500, 503}
_TMF622_LIST = {400, 401, 403, 405, 429, 500, 503}
_BODY = {400, 408, 413, 415}
_ONAPI_SIGNED_IN = {401, 403, 405, 429, 500, 503}
ERRORS: dict[str, dict[tuple[str, str], set[int]]] = {
    "esim-v1": {
        ("post", "/order"): _ESIM_ANY | _BODY | {422},
        ("get", "/order/{order_id}"): _ESIM_ONE,
        ("get", "/order/{order_id}/qrcode"): _ESIM_ONE | {409, 422},
        ("get", "/order/{order_id}/install-links"): _ESIM_ONE | {409, 422},
        ("get", "/product"): _ESIM_ANY,
        ("get", "/product/{product_id}"): _ESIM_ONE,
        ("get", "/sim/{iccid}"): _ESIM_ONE,
        ("get", "/sim/{iccid}/subscriptions"): _ESIM_ONE,
    },
    "tmf-productorder": {
        ("post", "/{business_id}/productOrder"): _TMF_ANY | _BODY | {409, 422},
        ("get", "/{business_id}/productOrder/{order_id}"): _TMF_ANY,
    },
    "tmf622": {
        ("post", "/productOrder"): _TMF622_ONE | _BODY | {409, 422},
        ("get", "/productOrder"): _TMF622_LIST,
        ("get", "/productOrder/{order_id}"): _TMF622_ONE | {400},
        ("patch", "/productOrder/{order_id}"): _TMF622_ONE | _BODY | {409},
        ("delete", "/productOrder/{order_id}"): _TMF622_ONE | {409},
        ("post", "/cancelProductOrder"): _TMF622_ONE | _BODY,
        ("get", "/cancelProductOrder"): _TMF622_LIST,
        ("get", "/cancelProductOrder/{cancellation_id}"): _TMF622_ONE | {400},
        ("post", "/hub"): _TMF622_LIST | _BODY,
        ("get", "/hub/{listener_id}"): _TMF622_ONE,
        ("delete", "/hub/{listener_id}"): _TMF622_ONE,
    },
    "onapi-order": {
        ("get", "/"): {405, 500},  # no sign-in, no database
        ("get", "/sp_spec/products/"): _ONAPI_SIGNED_IN,
        ("post", "/sp_spec/order/"): _ONAPI_SIGNED_IN | _BODY | {409},
    },
}
# The headers an error answer always carries, per API.
ERROR_HEADERS: dict[str, dict[int, str]] = {
    "esim-v1": {401: "WWW-Authenticate", 405: "Allow", 429: "Retry-After", 503: "Retry-After"},
    "tmf-productorder": {405: "Allow", 429: "Retry-After", 503: "Retry-After"},
    "tmf622": {401: "WWW-Authenticate", 405: "Allow", 429: "Retry-After", 503: "Retry-After"},
    "onapi-order": {401: "WWW-Authenticate", 405: "Allow", 429: "Retry-After", 503: "Retry-After"},
}


@pytest.fixture(scope="module")
def documents(server: RunningServer) -> dict[str, dict[str, Any]]:
    with server.client() as http:
        return {api: document_of(http, api) for api in API_PREFIXES}


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method, path): op for path, methods in document["paths"].items() for method, op in methods.items()}


def test_every_api_has_its_list() -> None:
    assert set(ERRORS) == set(ERROR_HEADERS) == set(API_PREFIXES)


@pytest.mark.parametrize("api", ERRORS)
def test_no_document_describes_the_frameworks_validation_errors(client: httpx.Client, api: str) -> None:
    text = client.get(f"{API_PREFIXES[api]}/openapi.json").text
    assert "HTTPValidationError" not in text
    assert "ValidationError" not in text


@pytest.mark.parametrize("api", ERRORS)
def test_each_operation_lists_the_errors_it_can_answer(documents: dict[str, dict[str, Any]], api: str) -> None:
    listed = {
        key: {int(status) for status in operation["responses"] if int(status) >= 400}
        for key, operation in operations(documents[api]).items()
    }
    assert listed == ERRORS[api]


@pytest.mark.parametrize("api", ERRORS)
def test_every_json_answer_has_a_schema(documents: dict[str, dict[str, Any]], api: str) -> None:
    without = [
        f"{method} {path} {status}"
        for (method, path), operation in operations(documents[api]).items()
        for status, response in operation["responses"].items()
        if "application/json" in response.get("content", {})
        and not response["content"]["application/json"].get("schema")
    ]
    assert without == []
    successes = [
        (method, path, status)
        for (method, path), operation in operations(documents[api]).items()
        for status, response in operation["responses"].items()
        if status.startswith("2") and status != "204" and not response.get("content")
    ]
    assert successes == []


@pytest.mark.parametrize("api", ERRORS)
def test_error_answers_declare_their_headers(documents: dict[str, dict[str, Any]], api: str) -> None:
    missing = [
        f"{method} {path} {status}: {name}"
        for (method, path), operation in operations(documents[api]).items()
        for status, name in ERROR_HEADERS[api].items()
        if str(status) in operation["responses"]
        and not operation["responses"][str(status)].get("headers", {}).get(name, {}).get("required")
    ]
    assert missing == []
