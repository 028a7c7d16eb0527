"""esim-v1 prices sent as JSON numbers: checked as written (orjson reads a fraction as the nearest
double, so 9.99999999999999999 passed as 10.0), echoed by value."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.api.support import headers, new_esim_body, unique_email, wait_for

JSON = {"Content-Type": "application/json"}
PRICE = "input.subscriptions[0].price: Decimal input should have "


def _post_price(client: httpx.Client, token: str, price: bytes) -> httpx.Response:
    content = json.dumps(new_esim_body(unique_email())).encode()
    assert b'"price": 10,' in content
    content = content.replace(b'"price": 10,', b'"price": ' + price + b",")
    return client.post("/esim/v1/order", content=content, headers=headers(token, **JSON))


@pytest.mark.parametrize(
    ("price", "problem"),
    [
        (b"9.99999999999999999", "no more than 14 digits in total"),
        (b"10.00000000000000001", "no more than 14 digits in total"),
        (b"1." + b"9" * 5000, "no more than 14 digits in total"),
        (b"10.00001", "no more than 4 decimal places"),
        (b"1E-5", "no more than 4 decimal places"),
    ],
    ids=["rounds-to-10", "ten-and-a-bit", "5000-nines", "5-decimals", "exponent-5-decimals"],
)
def test_a_number_price_is_checked_as_written(client: httpx.Client, reseller: str, price: bytes, problem: str) -> None:
    answer = _post_price(client, reseller, price)
    assert answer.status_code == 400, answer.text
    assert answer.json() == {"type": "INVALID_REQUEST_PARAMS", "messages": [PRICE + problem]}


@pytest.mark.parametrize(
    ("price", "echoed"),
    [(b"10.0000", 10.0), (b"1.05E1", 10.5), (b"10.50", 10.5), (b"9999999999.9999", 9999999999.9999)],
)
def test_a_number_price_within_the_limits_is_accepted_and_echoed_by_value(
    client: httpx.Client, reseller: str, price: bytes, echoed: float
) -> None:
    answer = _post_price(client, reseller, price)
    assert answer.status_code == 201, answer.text
    order = wait_for(client, reseller, answer.json()["id"], lambda o: o["status"] != "FULFILLING")
    shown = client.get(f"/esim/v1/order/{order['id']}", headers=headers(reseller)).content
    assert b'"price":' + repr(echoed).encode() + b"," in shown
