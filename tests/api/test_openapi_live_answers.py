"""Live answers against the served documents: refusals every API gives (401, 405) carry the documented
body and headers, and what a document allows or refuses of a request is what its API takes or refuses."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import httpx
import pytest

from orderhub.dialects.tmf_productorder.schema import EXAMPLE
from tests.api.openapi_support import API_PREFIXES, answer_problems, document_of, response_problems, schema_problems

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


def tmf_headers(**changes: str) -> dict[str, str]:
    return {**TMF_CHANNEL, "X-Correlation-ID": str(uuid.uuid4()), **changes}


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


def test_tmf_productorder_documents_its_three_headers_as_required(client: httpx.Client) -> None:
    document = document_of(client, "tmf-productorder")
    for operation in (op for methods in document["paths"].values() for op in methods.values()):
        headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
        for name in ("client_id", "client_secret", "X-Correlation-ID"):
            assert headers[name]["required"] is True
        assert headers["client_id"]["schema"]["minLength"] == headers["client_secret"]["schema"]["minLength"] == 5
    short = client.post(
        "/emida-ux-lcr/emida-ux/v1/CR/productOrder", json=EXAMPLE, headers=tmf_headers(client_id="demo")
    )
    assert (short.status_code, short.json()["code"]) == (400, "MISSING_HEADER")
    assert answer_problems(document, "tmf-productorder", short) == []


def with_parties(*parties: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(EXAMPLE)
    body["productOrderItem"][0]["product"]["productCharacteristic"][1]["value"] = "Addon"
    body["relatedParty"] = list(parties)
    return body


def test_tmf_productorder_documents_a_related_party_as_it_is_taken(client: httpx.Client) -> None:
    document = document_of(client, "tmf-productorder")
    request = document["paths"]["/{business_id}/productOrder"]["post"]["requestBody"]["content"]["application/json"]
    # Every field of a related party is optional (the seed's "N"), none of them null.
    taken = client.post(
        "/emida-ux-lcr/emida-ux/v1/CR/productOrder", json=with_parties({"role": "Customer"}), headers=tmf_headers()
    )
    assert taken.status_code == 201, taken.text
    assert answer_problems(document, "tmf-productorder", taken) == []
    for nulled in ("name", "@referredType"):
        body = with_parties({"id": "900770050", "role": "Customer", nulled: None})
        refused = client.post("/emida-ux-lcr/emida-ux/v1/CR/productOrder", json=body, headers=tmf_headers())
        assert refused.status_code == 400, refused.text
        assert schema_problems(document, request["schema"], body) != []
