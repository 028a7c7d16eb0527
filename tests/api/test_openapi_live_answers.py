"""Live answers against the served documents: refusals every API gives (401, 405) carry the documented
body and headers, and what a document allows or refuses of a request is what its API takes or refuses."""

from __future__ import annotations

import httpx
import pytest

from tests.api.openapi_support import API_PREFIXES, answer_problems, document_of, response_problems

CORRELATION = {"X-Correlation-ID": "openapi-live"}
TMF_CHANNEL = {"client_id": "demo-channel-1", "client_secret": "demo-channel-1-secret"}
UNAUTHENTICATED = {
    "esim-v1": ("/product", CORRELATION),
    "tmf-productorder": ("/CR/productOrder/ORD-1", {**TMF_CHANNEL, "client_secret": "wrong-secret", **CORRELATION}),
    "tmf622": ("/productOrder", {}),
    "onapi-order": ("/sp_spec/products/", {}),
}
# A documented path, and a method it does not take.
UNTAKEN = {
    "esim-v1": ("PUT", "/order/x", "/order/{order_id}"),
    "tmf-productorder": ("PUT", "/CR/productOrder", "/{business_id}/productOrder"),
    "tmf622": ("PUT", "/hub/x", "/hub/{listener_id}"),
    "onapi-order": ("PUT", "/sp_spec/products/", "/sp_spec/products/"),
}


@pytest.mark.parametrize("api", API_PREFIXES)
def test_a_refused_sign_in_is_answered_as_documented(client: httpx.Client, api: str) -> None:
    path, headers = UNAUTHENTICATED[api]
    answer = client.get(API_PREFIXES[api] + path, headers=headers)
    assert answer.status_code == 401
    assert answer_problems(document_of(client, api), api, answer) == []


@pytest.mark.parametrize("api", API_PREFIXES)
def test_a_method_the_path_does_not_take_is_answered_as_documented(client: httpx.Client, api: str) -> None:
    method, path, template = UNTAKEN[api]
    answer = client.request(method, API_PREFIXES[api] + path, headers=CORRELATION)
    assert answer.status_code == 405
    document = document_of(client, api)
    for operation in document["paths"][template].values():
        assert response_problems(document, operation["responses"]["405"], answer, f"{method} {path}") == []
