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


def onapi_body(**customer: Any) -> dict[str, Any]:
    return {
        "coId": "Acme",
        "coAccessId": "access-free-9",
        "operation": "ACTIVATE",
        "orderDateTime": "2026-11-24T10:00:00Z",
        "requestedDateTime": "2099-01-01T00:00:00Z",  # refused: more than ten years ahead
        "products": [{"productId": "iptv", "offeringId": "basic"}],
        "customerDetails": {
            "identifiedCustomer": False,
            "customerFirstname": "Anna",
            "customerLastName": "Berg",
            **customer,
        },
    }


def onapi_request_schema(document: dict[str, Any]) -> dict[str, Any]:
    """The order's schema: a component of its own, named as a client generator names the class it makes."""
    body = document["paths"]["/sp_spec/order/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/OrderRequest"}
    schema: dict[str, Any] = document["components"]["schemas"]["OrderRequest"]
    return schema


def test_onapi_documents_the_e_mail_and_the_idempotency_key_as_checked(client: httpx.Client) -> None:
    document = document_of(client, "onapi-order")
    operation = document["paths"]["/sp_spec/order/"]["post"]
    request = onapi_request_schema(document)
    auth = ("demo-co-acme", "demo-co-acme-secret")
    not_an_address = onapi_body(customerEmail="anna-at-example")
    refused = client.post("/2.5/sp_spec/order/", json=not_an_address, auth=auth)
    assert refused.json()["cause"] == "Bad customerDetails.customerEmail"
    assert schema_problems(document, request, not_an_address) != []
    assert schema_problems(document, request, onapi_body(customerEmail="anna@example.se")) == []

    (key,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    longest = key["schema"]["maxLength"]
    for length, cause in ((longest, "Bad requestedDateTime"), (longest + 1, "Bad Idempotency-Key")):
        answer = client.post(
            "/2.5/sp_spec/order/", json=onapi_body(), auth=auth, headers={"Idempotency-Key": "k" * length}
        )
        assert (answer.status_code, answer.json()["cause"]) == (400, cause)
        assert answer_problems(document, "onapi-order", answer) == []


@pytest.mark.parametrize(
    ("moment", "taken"),
    [
        ("2021-05-03T20:31:15Z", True),  # the seed's
        ("2021-05-03t20:31:15.25z", True),
        ("2021-05-03T20:31:15+00:00", True),
        ("2021-05-03T20:31:15-00:00", True),  # RFC 3339's UTC from a sender that does not know its offset
        ("", False),  # Schemathesis sent it as schema-valid: the document said only "string"
        ("2021-05-03T20:31:15+02:00", False),
        ("2021-05-03 20:31:15Z", False),
        ("2021-05-03T20:31Z", False),
    ],
)
def test_onapi_documents_its_date_times_as_it_reads_them(client: httpx.Client, moment: str, taken: bool) -> None:
    document = document_of(client, "onapi-order")
    request = onapi_request_schema(document)
    body = onapi_body()
    body["orderDateTime"] = moment
    answer = client.post("/2.5/sp_spec/order/", json=body, auth=("demo-co-acme", "demo-co-acme-secret"))
    # orderDateTime is read before requestedDateTime, which is refused here (more than ten years ahead).
    assert answer.json()["cause"] == ("Bad requestedDateTime" if taken else "Bad orderDateTime"), answer.text
    assert (schema_problems(document, request, body) == []) is taken
    assert request["properties"]["orderDateTime"]["format"] == "date-time"
    assert request["properties"]["requestedDateTime"]["pattern"] == request["properties"]["orderDateTime"]["pattern"]


@pytest.mark.parametrize("field", ["customerFirstname", "streetName", "streetNumber"])
@pytest.mark.parametrize("text", ["Anna", " Anna ", "", "  ", "\u0085", "A\tB", "x" * 255, "x" * 256])
def test_onapi_documents_its_text_fields_as_it_reads_them(client: httpx.Client, field: str, text: str) -> None:
    # Schemathesis --checks all sent streetName "" as schema-valid (the document had no minLength): refused.
    document = document_of(client, "onapi-order")
    request = onapi_request_schema(document)
    body = onapi_body()
    body.update(requestedDateTime="2030-01-01T00:00:00Z", coAccessId="no-such-access")  # REJECTED, if taken
    details = body["customerDetails"]
    details["invoiceDetails"] = {"streetName": "Storgatan", "postalCode": "12345", "city": "Stockholm"}
    (details["invoiceDetails"] if field.startswith("street") else details)[field] = text
    answer = client.post("/2.5/sp_spec/order/", json=body, auth=("demo-co-acme", "demo-co-acme-secret"))
    refused = answer.status_code == 400
    assert answer.json()["cause"] == f"Bad customerDetails.{field}" if refused else answer.json()["status"], answer.text
    assert (schema_problems(document, request, body) != []) is refused


def test_onapi_lists_its_endpoints_as_documented_without_sign_in(client: httpx.Client) -> None:
    document = document_of(client, "onapi-order")
    assert "security" not in document["paths"]["/"]["get"]
    answer = client.get("/2.5/")
    assert answer.status_code == 200
    assert answer_problems(document, "onapi-order", answer) == []
    assert document["paths"]["/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["items"]
