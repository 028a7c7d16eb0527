"""Orders placed over HTTP through three APIs of a demo server, each request with its X-Correlation-ID: one
id sent by two partners on two APIs, one of the tmf-productorder order that begins like it, and one the
server made for a request that sent none, as its access line shows it. What `orderhub order list
--correlation-id` is tried on (SQLite in test_order_list.py, PostgreSQL in tests/postgres/test_order_list.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from tests.integration.erasure_orders import CHANNEL, CO, ONAPI, ONAPI_CUSTOMER, VENDOR, line_item, post_esim
from tests.integration.support import OrderhubProcess, client, get_token, wait_until

SHARED = "case-4711"  # an esim-v1 order's and an onapi-order order's: two partners, two APIs
VENDOR_ID = f"{SHARED}-vendor"  # the tmf-productorder order's: SHARED is not it, though it begins with it


@dataclass(frozen=True)
class CorrelatedOrders:
    esim: str  # esim-v1 NEW_ESIM of demo-reseller-1, sent with SHARED
    vendor: str  # tmf-productorder's order of demo-channel-1 (its number), sent with VENDOR_ID
    # And two onapi-order orders of demo-co-acme (their answers name no order): one sent with SHARED after
    # the eSIM's, and one sent with no id, whose id (the server's) is this, read from its access line.
    generated: str


def place_correlated_orders(server: OrderhubProcess) -> CorrelatedOrders:
    with client(server.base_url) as http:
        token = get_token(server.base_url)
        esim = post_esim(http, token, "NEW_ESIM", "case@example.com", **{"X-Correlation-ID": SHARED})
        assert esim.status_code == 201, esim.text
        vendor = http.post(VENDOR, json={"category": "esimPrepaid", "productOrderItem": [line_item("DataPlan")]},
                           headers={**CHANNEL, "X-Correlation-ID": VENDOR_ID})  # fmt: skip
        assert vendor.status_code == 201, vendor.text
        past = "2026-01-01T00:00:00Z"  # activated before the answer
        for access, sent in (("access-free-1", {"X-Correlation-ID": SHARED}), ("access-free-2", {})):
            onapi = http.post(ONAPI, auth=CO, headers=sent, json={
                "coId": "Acme", "coAccessId": access, "operation": "ACTIVATE", "orderDateTime": past,
                "requestedDateTime": past, "products": [{"productId": "fiber-internet", "offeringId": "1000-1000"}],
                "customerDetails": ONAPI_CUSTOMER,
            })  # fmt: skip
            assert onapi.json()["status"] == "ACTIVATED", onapi.text

    def onapi_lines() -> list[dict[str, object]]:
        lines = [json.loads(line) for line in server.log(10**7).splitlines() if line.startswith("{")]
        return [line for line in lines if line.get("logger") == "orderhub.access" and line.get("path") == ONAPI]

    wait_until(lambda: len(onapi_lines()) == 2, timeout=10, message="the onapi-order orders' access lines")
    (generated,) = [line["correlation_id"] for line in onapi_lines() if line["correlation_id"] != SHARED]
    return CorrelatedOrders(esim.json()["id"], vendor.json()["id"], str(generated))
