"""An e-mail or identity number whose "@" or separator a partner percent-encoded, in its X-Correlation-ID or a
path: test_zz_log_scan then finds it nowhere in the log in clear (it was logged whole: only a literal "@",
"-" or "+" was looked for)."""

from __future__ import annotations

import httpx

from tests.api.support import headers

ENCODED = "cust-anna.berg%40example.se"
ENCODED_NUMBER = "cust-19121212%2D1212"


def test_every_api_is_sent_encoded_personal_data_for_the_log_scan(client: httpx.Client, reseller: str) -> None:
    assert client.get("/esim/v1/product", headers=headers(reseller, **{"X-Correlation-ID": ENCODED})).status_code == 200
    # A path is decoded once before it is logged: %2540 is logged as %40.
    assert client.get("/esim/v1/order/anna%2540example.se", headers=headers(reseller)).status_code == 404
    answer = client.get("/esim/v1/product", headers=headers(reseller, **{"X-Correlation-ID": ENCODED_NUMBER}))
    assert answer.status_code == 200
    onapi = client.get("/2.5/sp_spec/products/", auth=("demo-co-acme", "demo-co-acme-secret"),
                       headers={"X-Correlation-ID": ENCODED})  # fmt: skip
    assert onapi.status_code == 200
    vendor = {"client_id": "demo-channel-1", "client_secret": "demo-channel-1-secret", "X-Correlation-ID": ENCODED}
    assert client.get("/emida-ux-lcr/emida-ux/v1/CR/productOrder/ORD-1", headers=vendor).status_code == 404
