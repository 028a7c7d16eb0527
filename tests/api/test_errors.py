"""Every bad input gets a 4xx in the esim-v1 envelope {"type", "messages"} that names what is wrong."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.api.support import (
    RunningServer,
    completed_order,
    headers,
    new_esim_body,
    place,
    topup_body,
    unique_email,
    wait_for,
)


def assert_error(answer: httpx.Response, status: int, type_: str, mentions: str | None = None) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"type", "messages"}
    assert body["type"] == type_
    assert body["messages"] and all(isinstance(m, str) for m in body["messages"])
    if mentions is not None:
        assert any(mentions in m for m in body["messages"]), body


def test_missing_correlation_id_is_refused(client: httpx.Client, reseller: str) -> None:
    answer = client.post("/esim/v1/order", json=new_esim_body(), headers={"Authorization": f"Bearer {reseller}"})
    assert_error(answer, 400, "INVALID_HTTP_MESSAGE", "x-correlation-id")


def test_correlation_id_is_echoed_on_errors_too(client: httpx.Client) -> None:
    answer = client.get("/esim/v1/order/x", headers={"X-Correlation-ID": "abc-123"})
    assert answer.headers["X-Correlation-ID"] == "abc-123"


def test_malformed_json(client: httpx.Client, reseller: str) -> None:
    answer = client.post(
        "/esim/v1/order",
        content=b'{"input": {',
        headers=headers(reseller, **{"Content-Type": "application/json"}),
    )
    assert_error(answer, 400, "INVALID_HTTP_MESSAGE", "JSON")


def test_empty_body(client: httpx.Client, reseller: str) -> None:
    answer = client.post("/esim/v1/order", headers=headers(reseller, **{"Content-Type": "application/json"}))
    assert_error(answer, 400, "INVALID_HTTP_MESSAGE")


def test_wrong_content_type(client: httpx.Client, reseller: str) -> None:
    answer = client.post(
        "/esim/v1/order",
        content=json.dumps(new_esim_body()),
        headers=headers(reseller, **{"Content-Type": "text/plain"}),
    )
    assert_error(answer, 415, "INVALID_HTTP_MESSAGE", "application/json")


def test_body_over_the_size_limit(client: httpx.Client, reseller: str) -> None:
    body = new_esim_body()
    body["input"]["device"]["model"] = "x" * 100_000
    answer = place(client, reseller, body)
    assert_error(answer, 413, "INVALID_HTTP_MESSAGE", "larger than")


def test_chunked_body_over_the_size_limit(client: httpx.Client, reseller: str) -> None:
    def chunks() -> Any:
        for _ in range(100):
            yield b"x" * 1024

    answer = client.post(
        "/esim/v1/order", content=chunks(), headers=headers(reseller, **{"Content-Type": "application/json"})
    )
    assert_error(answer, 413, "INVALID_HTTP_MESSAGE")


def test_body_that_is_not_an_object(client: httpx.Client, reseller: str) -> None:
    answer = client.post("/esim/v1/order", json=[1, 2], headers=headers(reseller))
    assert_error(answer, 400, "INVALID_REQUEST_PARAMS")


def mutated(change: Any) -> dict[str, Any]:
    body = new_esim_body(unique_email())
    change(body["input"])
    return body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda i: i.update(operationType="NEW_SIM"), "input.operationType"),
        (lambda i: i.pop("operationType"), "input.operationType"),
        (lambda i: i.pop("customer"), "input.customer"),
        (lambda i: i["customer"].pop("email"), "input.customer.email"),
        (lambda i: i["customer"].update(email="not-an-email"), "input.customer.email"),
        (lambda i: i.update(countryCode="Portugal"), "input.countryCode"),
        (lambda i: i["device"].update(type="windows"), "input.device.type"),
        (lambda i: i["device"].update(type=7), "input.device.type"),
        (lambda i: i.pop("device"), "input.device"),
        (lambda i: i.update(subscriptions=[]), "input.subscriptions"),
        (lambda i: i.update(subscriptions="a3u3z000000PZBhAAO"), "input.subscriptions"),
        (lambda i: i["subscriptions"][0].update(price="ten"), "input.subscriptions[0].price"),
        (lambda i: i["subscriptions"][0].update(activationDate="tomorrow"), "input.subscriptions[0].activationDate"),
        (lambda i: i["subscriptions"][0].pop("id"), "input.subscriptions[0].product_id"),
        (lambda i: i["subscriptions"][0].update(product_id="other"), "input.subscriptions[0].product_id"),
        (lambda i: i["subscriptions"][0].pop("currency"), "input.subscriptions[0].currency"),
        (lambda i: i["subscriptions"][0].pop("price"), "input.subscriptions[0].price"),
        (lambda i: i["subscriptions"][0].update(price=-1), "input.subscriptions[0].price"),
        (lambda i: i["subscriptions"][0].update(currency="JPY"), "input.subscriptions[0].currency"),
        (
            lambda i: i["subscriptions"][0].update(activationDate=(datetime.now(UTC) - timedelta(days=1)).isoformat()),
            "input.subscriptions[0].activationDate",
        ),
        (lambda i: i["subscriptions"].extend([dict(i["subscriptions"][0])] * 15), "input.subscriptions"),
        (lambda i: i["subscriptions"][0].update(activationDate=1893456000), "input.subscriptions[0].activationDate"),
        (
            lambda i: i["subscriptions"][0].update(activationDate="9999-12-31T23:59:59Z"),
            "input.subscriptions[0].activationDate",
        ),
    ],
    ids=[
        "unknown-operation",
        "missing-operation",
        "missing-customer",
        "missing-email",
        "bad-email",
        "bad-country",
        "unknown-device-type",
        "device-type-not-text",
        "missing-device",
        "no-subscriptions",
        "subscriptions-not-a-list",
        "price-not-a-number",
        "date-not-a-date",
        "no-product",
        "two-different-products",
        "price-without-currency",
        "currency-without-price",
        "negative-price",
        "currency-not-supported-by-partner",
        "activation-in-the-past",
        "more-than-15-subscriptions",
        "activation-date-as-a-number",
        "activation-date-far-ahead",
    ],
)
def test_invalid_request_params_name_the_field(client: httpx.Client, reseller: str, change: Any, field: str) -> None:
    answer = place(client, reseller, mutated(change))
    assert_error(answer, 400, "INVALID_REQUEST_PARAMS", field)


def test_seed_past_activation_date_is_refused(client: httpx.Client, reseller: str) -> None:
    answer = place(client, reseller, new_esim_body(activationDate="2019-09-13T12:00:00Z"))
    assert_error(answer, 400, "INVALID_REQUEST_PARAMS", "past")


def test_no_token(client: httpx.Client) -> None:
    answer = place(client, None, new_esim_body())  # type: ignore[arg-type]
    assert_error(answer, 401, "UNAUTHORISED")
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="esim-v1"'  # no token: no error code (RFC 6750 3.1)


def test_unknown_token(client: httpx.Client) -> None:
    answer = place(client, "not-a-token", new_esim_body())
    assert_error(answer, 401, "UNAUTHORISED")
    # A token that signs no one in says so, for clients that get a new one on invalid_token.
    assert answer.headers["WWW-Authenticate"] == (
        'Bearer realm="esim-v1", error="invalid_token", error_description="access token is invalid or expired"'
    )
    polled = client.get("/esim/v1/order/00000000-0000-7000-8000-000000000000", headers=headers("not-a-token"))
    assert polled.status_code == 401 and 'error="invalid_token"' in polled.headers["WWW-Authenticate"], polled.text


def test_order_not_found(client: httpx.Client, reseller: str) -> None:
    answer = client.get("/esim/v1/order/3a6acf89-1ccf-4611-9424-453930f57ef1", headers=headers(reseller))
    assert_error(answer, 404, "ORDER_NOT_FOUND")


def test_unknown_route_and_method(client: httpx.Client, reseller: str) -> None:
    assert_error(client.get("/esim/v1/orders", headers=headers(reseller)), 404, "NOT_FOUND")
    assert_error(client.delete("/esim/v1/order", headers=headers(reseller)), 405, "METHOD_NOT_ALLOWED")


def test_product_not_in_partner_catalog(client: httpx.Client, reseller: str) -> None:
    # esim-us-10gb-30d exists, but only in demo-reseller-2's catalog.
    answer = place(client, reseller, new_esim_body(id="esim-us-10gb-30d"))
    assert_error(answer, 422, "PRODUCT_NOT_FOUND", "esim-us-10gb-30d")
    answer = place(client, reseller, new_esim_body(id="no-such-product"))
    assert_error(answer, 422, "PRODUCT_NOT_FOUND")


def test_topup_needs_an_existing_customer(client: httpx.Client, reseller: str) -> None:
    answer = place(client, reseller, topup_body(unique_email(), "8935100000000000000"))
    assert_error(answer, 422, "CUSTOMER_MUST_EXIST")


def test_topup_iccid_must_belong_to_the_email(client: httpx.Client, reseller: str) -> None:
    owner, other = unique_email(), unique_email()
    iccid = completed_order(client, reseller, owner)["output"]["iccid"]
    completed_order(client, reseller, other)

    answer = place(client, reseller, topup_body(other, iccid))

    assert_error(answer, 422, "EMAIL_AND_ICCID_DO_NOT_MATCH")


def test_a_customer_is_found_by_email_whatever_its_case(
    server: RunningServer, client: httpx.Client, reseller: str
) -> None:
    # As a partner's systems may spell it: the sign-up form as typed, the CRM lower-cased.
    typed = f"Jane.Doe-{uuid.uuid4().hex[:6]}@Example.COM"
    first = completed_order(client, reseller, typed)["output"]["iccid"]
    second = completed_order(client, reseller, typed.upper())["output"]["iccid"]
    with server.services.uow_factory(read_only=True) as uow:
        owners = {uow.profiles.get(iccid).customer_id for iccid in (first, second)}  # type: ignore[union-attr]
    assert len(owners) == 1, "one customer, not one per spelling"

    for email, iccid in [(typed.lower(), first), (typed, second), (typed.swapcase(), first)]:
        answer = place(client, reseller, topup_body(email, iccid))
        assert answer.status_code == 201, answer.text
        done = wait_for(client, reseller, answer.json()["id"], lambda o: o["status"] != "FULFILLING")
        assert done["status"] == "COMPLETED" and done["output"]["iccid"] == iccid, done


def test_topup_needs_esim_iccid(client: httpx.Client, reseller: str) -> None:
    email = unique_email()
    completed_order(client, reseller, email)
    body = topup_body(email, "x")
    del body["input"]["esim"]
    assert_error(place(client, reseller, body), 400, "INVALID_REQUEST_PARAMS", "input.esim.iccid")


def test_topup_device_type_is_ios_or_android_only(client: httpx.Client, reseller: str) -> None:
    email = unique_email()
    iccid = completed_order(client, reseller, email)["output"]["iccid"]
    body = topup_body(email, iccid)
    body["input"]["device"]["type"] = "iot"
    assert_error(place(client, reseller, body), 400, "INVALID_REQUEST_PARAMS", "input.device.type")


@pytest.mark.parametrize("device_type", ["iot", "ios", "android"])
def test_new_esim_accepts_each_device_type_of_the_seed(client: httpx.Client, reseller: str, device_type: str) -> None:
    body = new_esim_body(unique_email())
    body["input"]["device"]["type"] = device_type
    assert place(client, reseller, body).status_code == 201


def johns_topup(change: Any) -> dict[str, Any]:
    """The seed's top-up of the demo's john@doe.com and his eSIM 123456789, changed (each is refused)."""
    body = topup_body("john@doe.com", "123456789")
    change(body["input"])
    return body


def _past() -> str:
    return (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


# Seed 000 lists the same rules for TOPUP as for NEW_ESIM, and two of its own: each holds for a top-up.
@pytest.mark.parametrize(
    ("change", "status", "type_", "mentions"),
    [
        (lambda i: i["subscriptions"][0].update(activationDate=_past()), 400, "INVALID_REQUEST_PARAMS", "past"),
        (lambda i: i["subscriptions"][0].pop("currency"), 400, "INVALID_REQUEST_PARAMS", "[0].currency"),
        (lambda i: i["subscriptions"][0].pop("price"), 400, "INVALID_REQUEST_PARAMS", "[0].price"),
        (lambda i: i["subscriptions"][0].update(currency="JPY"), 400, "INVALID_REQUEST_PARAMS", "JPY"),
        (lambda i: i["subscriptions"][0].update(id="esim-us-10gb-30d"), 422, "PRODUCT_NOT_FOUND", "esim-us-10gb"),
        (lambda i: i.update(esim={}), 400, "INVALID_REQUEST_PARAMS", "input.esim.iccid"),
        (lambda i: i.update(esim=None), 400, "INVALID_REQUEST_PARAMS", "input.esim.iccid"),
        (lambda i: i["esim"].update(iccid=None), 400, "INVALID_REQUEST_PARAMS", "input.esim.iccid"),
    ],
    ids=[
        "past-date",
        "price-alone",
        "currency-alone",
        "currency-not-the-partners",
        "product-not-in-catalog",
        "esim-without-iccid",
        "esim-null",
        "iccid-null",
    ],
)
def test_the_seeds_rules_refuse_a_topup_as_they_refuse_a_new_esim(
    client: httpx.Client, reseller: str, change: Any, status: int, type_: str, mentions: str
) -> None:
    assert_error(place(client, reseller, johns_topup(change)), status, type_, mentions)


@pytest.mark.parametrize(
    ("device_type", "product", "deprecated"),
    [("ios", "product_id", None), ("android", "id", None), ("android", "allowanceId", "subscriptions.allowanceId")],
)
def test_a_topup_takes_the_seeds_device_types_and_product_spellings(
    client: httpx.Client, reseller: str, device_type: str, product: str, deprecated: str | None
) -> None:
    email = unique_email()
    iccid = completed_order(client, reseller, email)["output"]["iccid"]
    body = topup_body(email, iccid)
    body["input"]["device"]["type"] = device_type
    subscription = body["input"]["subscriptions"][0]
    subscription[product] = subscription.pop("id")

    answer = place(client, reseller, body)

    assert answer.status_code == 201, answer.text
    assert answer.headers.get("X-Deprecated-Fields") == deprecated
    assert ("Deprecation" in answer.headers) == (deprecated is not None)
    done = wait_for(client, reseller, answer.json()["id"], lambda o: o["status"] != "FULFILLING")
    assert done["status"] == "COMPLETED" and done["output"]["iccid"] == iccid, done


def test_at_most_15_active_subscriptions_per_iccid(client: httpx.Client, reseller: str) -> None:
    email = unique_email()
    iccid = completed_order(client, reseller, email)["output"]["iccid"]
    body = topup_body(email, iccid)
    body["input"]["subscriptions"] = body["input"]["subscriptions"] * 14
    assert place(client, reseller, body).status_code == 201  # 1 + 14 = 15

    answer = place(client, reseller, topup_body(email, iccid))

    assert_error(answer, 422, "SUBSCRIPTION_LIMIT_REACHED", "15")
