"""esim-v1 wire edges found by an audit: deprecation signals, strict field formats, answers of last resort."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.api.support import (
    FUTURE,
    SEED_PRODUCT,
    completed_order,
    get_token,
    headers,
    new_esim_body,
    place,
    topup_body,
    unique_email,
    wait_for,
)

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    "spelling",
    [
        {"allowanceId": SEED_PRODUCT, "product_id": SEED_PRODUCT, "id": None},
        {"allowanceId": SEED_PRODUCT, "product_id": SEED_PRODUCT},
        {"allowanceId": SEED_PRODUCT},
    ],
    ids=["with-product_id", "with-product_id-and-id", "with-id"],
)
def test_allowance_id_is_signalled_whenever_sent(client: httpx.Client, reseller: str, spelling: dict[str, Any]) -> None:
    answer = place(client, reseller, new_esim_body(unique_email(), **spelling))
    assert answer.status_code == 201, answer.text
    assert answer.headers["Deprecation"] == "@1704067200"
    assert answer.headers["X-Deprecated-Fields"] == "subscriptions.allowanceId"


def test_a_null_allowance_id_is_not_signalled(client: httpx.Client, reseller: str) -> None:
    answer = place(client, reseller, new_esim_body(unique_email(), allowanceId=None))
    assert answer.status_code == 201, answer.text
    assert "Deprecation" not in answer.headers


def _deprecated_topup(**subscription: Any) -> dict[str, Any]:
    body = new_esim_body(unique_email(), **subscription)
    body["input"]["operationType"] = "TOPUP_ACTIVATION"
    body["input"]["esim"] = {"iccid": "8935100000000000000"}
    return body


@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        (_deprecated_topup(activationDate="2020-01-01T00:00:00Z"), 400, "operationType=TOPUP_ACTIVATION"),
        (_deprecated_topup(price="ten"), 400, "operationType=TOPUP_ACTIVATION"),
        (_deprecated_topup(), 422, "operationType=TOPUP_ACTIVATION"),
        (new_esim_body(unique_email(), allowanceId="no-such-product", id=None), 422, "subscriptions.allowanceId"),
        (
            new_esim_body(unique_email(), allowanceId=SEED_PRODUCT, activationDate="2020-01-01T00:00:00Z"),
            400,
            "subscriptions.allowanceId",
        ),
    ],
    ids=["past-date", "field-refused", "customer-must-exist", "unknown-product", "allowance-id-past-date"],
)
def test_deprecated_spellings_are_signalled_on_refusals_too(
    client: httpx.Client, reseller: str, body: dict[str, Any], status: int, fields: str
) -> None:
    answer = place(client, reseller, body)
    assert answer.status_code == status, answer.text
    assert answer.headers["Deprecation"] == "@1704067200"
    assert answer.headers["X-Deprecated-Fields"] == fields


@pytest.mark.parametrize(
    ("who", "status"),
    [(None, 401), ("not a token", 401), ("demo-channel-1", 403)],
    ids=["no-token", "bad-token", "no-esim-role"],
)
def test_deprecated_spellings_are_signalled_when_the_caller_is_refused(
    client: httpx.Client, who: str | None, status: int
) -> None:
    # The body is read (within the size limit) before the token is checked: what it used is known.
    token = get_token(client, who, f"{who}-secret") if who and who.startswith("demo-") else who
    body = _deprecated_topup(allowanceId=SEED_PRODUCT)
    answer = client.post("/esim/v1/order", json=body, headers=headers(token))
    assert answer.status_code == status, answer.text
    assert answer.headers["Deprecation"] == "@1704067200"
    assert answer.headers["X-Deprecated-Fields"] == "operationType=TOPUP_ACTIVATION, subscriptions.allowanceId"


@pytest.mark.parametrize("stamp", ["1800000000", "1800000000.5", "+1800000000", "-1", "0"])
def test_an_activation_date_as_a_numeric_string_is_refused(client: httpx.Client, reseller: str, stamp: str) -> None:
    answer = place(client, reseller, new_esim_body(unique_email(), activationDate=stamp))
    assert answer.status_code == 400, answer.text
    assert answer.json()["type"] == "INVALID_REQUEST_PARAMS"
    assert any("input.subscriptions[0].activationDate" in m for m in answer.json()["messages"])


@pytest.mark.parametrize(
    "spelling",
    [
        FUTURE,  # the seed's form
        FUTURE[:10],  # a date alone: 00:00 UTC
        FUTURE.removesuffix("Z"),  # no offset: UTC
        FUTURE.replace("T", " "),  # RFC 3339 §5.6 allows a space
        FUTURE.lower(),  # and lower-case t and z
        FUTURE.replace("Z", "+01:00"),
    ],
)
def test_activation_date_forms_partners_may_send_are_accepted(
    client: httpx.Client, reseller: str, spelling: str
) -> None:
    answer = place(client, reseller, new_esim_body(unique_email(), activationDate=spelling))
    assert answer.status_code == 201, answer.text


def _raw(body: dict[str, Any], old: bytes, new: bytes) -> bytes:
    content = json.dumps(body).encode()
    assert old in content
    return content.replace(old, new)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (b'"price": 10', b'"price": 1e400', "input.subscriptions[0].price"),
        (b'"price": 10', b'"price": -1e400', "input.subscriptions[0].price"),
        (b'"price": 10', b'"price": 1' + b"0" * 309, "input.subscriptions[0].price"),
        (b'"countryCode"', b'"note": 1e400, "countryCode"', "input.note"),
        (b'"model"', b'"sizes": [1, 1' + b"0" * 400 + b'], "model"', "input.device.sizes[1]"),
        # Past the 4,300 digits Python's int() reads: valid JSON all the same, refused as the others.
        (b'"price": 10', b'"price": ' + b"9" * 4301, "input.subscriptions[0].price"),
        (b'"price": 10', b'"price": -' + b"9" * 5000, "input.subscriptions[0].price"),
        (b'"countryCode"', b'"note": ' + b"9" * 4301 + b', "countryCode"', "input.note"),
    ],
    ids=[
        "price-1e400",
        "price-minus-1e400",
        "price-310-digits",
        "ignored-field",
        "ignored-list",
        "price-4301-digits",
        "price-minus-5000-digits",
        "ignored-4301-digits",
    ],
)
def test_numbers_beyond_a_double_are_refused_by_field(
    client: httpx.Client, reseller: str, old: bytes, new: bytes, field: str
) -> None:
    content = _raw(new_esim_body(unique_email()), old, new)
    answer = client.post("/esim/v1/order", content=content, headers=headers(reseller, **JSON))
    assert answer.status_code == 400, answer.text
    assert answer.json()["type"] == "INVALID_REQUEST_PARAMS"
    assert any(m.startswith(field + ":") for m in answer.json()["messages"]), answer.json()


@pytest.mark.parametrize(
    "new", [b'"price": 1e400, "x": NaN', b'"price": 1e400, "x": "\\ud800"'], ids=["nan", "lone-surrogate"]
)
def test_a_big_number_does_not_let_invalid_json_through(client: httpx.Client, reseller: str, new: bytes) -> None:
    content = _raw(new_esim_body(unique_email()), b'"price": 10', new)
    answer = client.post("/esim/v1/order", content=content, headers=headers(reseller, **JSON))
    assert answer.status_code == 400, answer.text
    assert answer.json() == {"type": "INVALID_HTTP_MESSAGE", "messages": ["request body is not valid JSON"]}


@pytest.mark.parametrize("price", ["1_0", "\u0661\u0660", " 10 ", "1e3", "10\n", "+10", ".5", "1.", "0x10"])
def test_a_price_string_is_plain_ascii_decimal(client: httpx.Client, reseller: str, price: str) -> None:
    answer = place(client, reseller, new_esim_body(unique_email(), price=price))
    assert answer.status_code == 400, answer.text
    assert answer.json()["type"] == "INVALID_REQUEST_PARAMS"
    assert any(m.startswith("input.subscriptions[0].price:") for m in answer.json()["messages"]), answer.json()


@pytest.mark.parametrize("price", ["10", "10.50", "0", 10, 10.5])
def test_a_price_as_decimal_text_or_number_is_accepted(client: httpx.Client, reseller: str, price: Any) -> None:
    answer = place(client, reseller, new_esim_body(unique_email(), price=price))
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/esim/v1/order/"), ("GET", "/esim/v1/order/some-order/"), ("GET", "/esim/v1/product/")],
)
def test_a_trailing_slash_is_not_found_not_redirected(
    client: httpx.Client, reseller: str, method: str, path: str
) -> None:
    # A redirect came before authentication, to a Location built from the client's Host header.
    answer = client.request(
        method, path, json=new_esim_body(unique_email()), headers=headers(reseller, Host="evil.example")
    )
    assert answer.status_code == 404, answer.text
    assert answer.json()["type"] == "NOT_FOUND"
    assert "location" not in answer.headers


@pytest.mark.parametrize("email", ["john@doe..com", f"john@{'a' * 64}.com"])
def test_an_email_with_an_empty_or_too_long_domain_label_is_refused(
    client: httpx.Client, reseller: str, email: str
) -> None:
    answer = place(client, reseller, new_esim_body(email))
    assert answer.status_code == 400, answer.text
    assert answer.json() == {
        "type": "INVALID_REQUEST_PARAMS",
        "messages": ["input.customer.email: must be a valid email address"],
    }


NUL = "\u0000"


@pytest.mark.parametrize(
    "change",
    [
        lambda i: i["customer"].update(email=f"jo{NUL}hn@doe.com"),
        lambda i: i["device"].update(model=f"iPh{NUL}one"),
        lambda i: i["device"].update(product_id=f"12{NUL}3"),
        lambda i: i["device"].update(type=f"ios{NUL}"),
        lambda i: i["subscriptions"][0].update(id=f"a3u3z{NUL}"),
        lambda i: i["subscriptions"][0].update(price=f"1{NUL}0"),
        lambda i: i.update(countryCode=f"P{NUL}"),
        lambda i: i.update(esim={"iccid": f"89{NUL}"}),
        lambda i: i.update(note=f"an ignored field {NUL}"),
        lambda i: i.update({f"key{NUL}": "an ignored field's name"}),
        lambda i: i["subscriptions"][0].update(extra=[{"deep": NUL}]),
    ],
    ids=["email", "model", "device-product", "type", "product", "price", "country", "iccid", "ignored", "key", "deep"],
)
def test_a_nul_character_anywhere_is_refused_not_an_internal_error(
    client: httpx.Client, reseller: str, change: Any
) -> None:
    body = new_esim_body(unique_email())
    change(body["input"])
    answer = place(client, reseller, body)
    assert answer.status_code == 400, answer.text
    assert set(answer.json()) == {"type", "messages"}
    assert answer.json()["type"] == "INVALID_REQUEST_PARAMS"


def test_an_iccid_is_counted_without_its_surrounding_spaces(client: httpx.Client, reseller: str) -> None:
    email = unique_email()
    iccid = completed_order(client, reseller, email)["output"]["iccid"]  # 19 digits
    answer = place(client, reseller, topup_body(email, f"  {iccid} \t "))
    assert answer.status_code == 201, answer.text
    order = wait_for(client, reseller, answer.json()["id"], lambda o: o["status"] != "FULFILLING")
    assert order["status"] == "COMPLETED" and order["output"]["iccid"] == iccid, order
    # 22 digits: a number of no eSIM of the customer's, not a field too long.
    answer = place(client, reseller, topup_body(email, f" {'1' * 22} "))
    assert answer.status_code == 422, answer.text
    assert answer.json()["type"] == "EMAIL_AND_ICCID_DO_NOT_MATCH"
