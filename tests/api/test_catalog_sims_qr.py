"""Products of a partner's catalog, eSIM state with subscriptions, QR codes and install links."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlparse

import httpx
import zxingcpp
from PIL import Image

from orderhub.domain.esim import ProfileState
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
from tests.api.test_errors import assert_error


def test_products_are_the_partners_catalog(client: httpx.Client, tokens: dict[str, str]) -> None:
    one = client.get("/esim/v1/product", headers=headers(tokens["demo-reseller-1"])).json()
    two = client.get("/esim/v1/product", headers=headers(tokens["demo-reseller-2"])).json()

    assert {p["id"] for p in one} == {"a3u3z000000PZBhAAO", "esim-world-1gb-7d", "esim-pt-unlimited-1d"}
    assert {p["id"] for p in two} == {"a3u3z000000PZBhAAO", "esim-us-10gb-30d"}
    seed_product = next(p for p in one if p["id"] == "a3u3z000000PZBhAAO")
    assert seed_product["validityDays"] == 30
    assert {"price": "10", "currency": "USD"} in seed_product["prices"]


def test_currency_filter_keeps_products_priced_in_it(client: httpx.Client, reseller: str) -> None:
    answer = client.get("/esim/v1/product", params={"currency": "USD"}, headers=headers(reseller))
    assert answer.status_code == 200
    products = answer.json()
    assert {p["id"] for p in products} == {"a3u3z000000PZBhAAO", "esim-world-1gb-7d"}
    assert all([price["currency"] for price in p["prices"]] == ["USD"] for p in products)


def test_currency_filter_with_a_currency_the_partner_does_not_use(client: httpx.Client, reseller: str) -> None:
    answer = client.get("/esim/v1/product", params={"currency": "GBP"}, headers=headers(reseller))
    assert_error(answer, 400, "INVALID_REQUEST_PARAMS", "GBP")
    answer = client.get("/esim/v1/product", params={"currency": "DOLLARS"}, headers=headers(reseller))
    assert_error(answer, 400, "INVALID_REQUEST_PARAMS", "currency")


def test_one_product(client: httpx.Client, reseller: str) -> None:
    answer = client.get("/esim/v1/product/esim-world-1gb-7d", params={"currency": "EUR"}, headers=headers(reseller))
    assert answer.status_code == 200
    assert answer.json()["prices"] == [{"price": "7.49", "currency": "EUR"}]
    other_partners = client.get("/esim/v1/product/esim-us-10gb-30d", headers=headers(reseller))
    assert_error(other_partners, 404, "PRODUCT_NOT_FOUND")


def test_a_product_without_a_price_in_the_currency_says_so_and_may_be_ordered_in_it(
    client: httpx.Client, reseller: str
) -> None:
    # esim-pt-unlimited-1d is priced in EUR alone; demo-reseller-1 uses USD and EUR.
    answer = client.get("/esim/v1/product/esim-pt-unlimited-1d", params={"currency": "USD"}, headers=headers(reseller))
    assert answer.status_code == 404, answer.text
    assert answer.json() == {
        "type": "PRODUCT_NOT_FOUND",
        "messages": ["product esim-pt-unlimited-1d is in your catalog but has no price in USD"],
    }
    # The price of an order is the partner's own: any currency it uses will do.
    ordered = place(client, reseller, new_esim_body(unique_email(), id="esim-pt-unlimited-1d", currency="USD"))
    assert ordered.status_code == 201, ordered.text


def test_a_query_parameter_given_twice_is_refused_not_read_as_its_last_value(
    client: httpx.Client, reseller: str
) -> None:
    order = completed_order(client, reseller, unique_email())
    for path, params in [
        ("/esim/v1/product", [("currency", "USD"), ("currency", "EUR")]),
        ("/esim/v1/product/a3u3z000000PZBhAAO", [("currency", "EUR"), ("currency", "USD")]),
        (f"/esim/v1/order/{order['id']}/qrcode", [("format", "png"), ("format", "svg")]),
    ]:
        answer = client.get(path, params=params, headers=headers(reseller))
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json() == {
            "type": "INVALID_REQUEST_PARAMS",
            "messages": [f"{params[0][0]} is given more than once"],
        }, path
        # Once the caller is known: without credentials it is the 401 of any request.
        anonymous = client.get(path, params=params, headers={"X-Correlation-ID": "anonymous"})
        assert anonymous.status_code == 401, (path, anonymous.text)
        once = client.get(path, params=params[:1], headers=headers(reseller))
        assert once.status_code == 200, (path, once.text)


def test_sim_state_and_subscriptions(server: RunningServer, client: httpx.Client, reseller: str) -> None:
    email = unique_email()
    order = completed_order(client, reseller, email)
    iccid = order["output"]["iccid"]
    topup = place(client, reseller, topup_body(email, iccid)).json()
    wait_for(client, reseller, topup["id"], lambda o: o["status"] == "COMPLETED")

    sim = client.get(f"/esim/v1/sim/{iccid}", headers=headers(reseller)).json()
    assert sim["iccid"] == iccid
    assert sim["status"] == "Released"
    assert sim["smdpUrl"] == order["output"]["smdpUrl"]
    assert [s["orderId"] for s in sim["subscriptions"]] == [order["id"], topup["id"]]
    listed = client.get(f"/esim/v1/sim/{iccid}/subscriptions", headers=headers(reseller)).json()
    assert listed == sim["subscriptions"]

    server.services.inventory.set_profile_state(iccid, ProfileState.INSTALLED)
    assert client.get(f"/esim/v1/sim/{iccid}", headers=headers(reseller)).json()["status"] == "Installed"


def test_unknown_sim(client: httpx.Client, reseller: str) -> None:
    assert_error(client.get("/esim/v1/sim/8935100000000000000", headers=headers(reseller)), 404, "SIM_NOT_FOUND")


def test_qr_code_png_scans_to_the_activation_code(client: httpx.Client, reseller: str) -> None:
    order = completed_order(client, reseller)
    answer = client.get(f"/esim/v1/order/{order['id']}/qrcode", params={"format": "png"}, headers=headers(reseller))

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(answer.content)))
    assert [d.text for d in decoded] == [order["output"]["lpa_url"]]
    assert decoded[0].format == zxingcpp.BarcodeFormat.QRCode


def test_qr_code_svg(client: httpx.Client, reseller: str) -> None:
    order = completed_order(client, reseller)
    answer = client.get(f"/esim/v1/order/{order['id']}/qrcode", params={"format": "svg"}, headers=headers(reseller))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in answer.content


def test_qr_code_bad_format(client: httpx.Client, reseller: str) -> None:
    order = completed_order(client, reseller)
    answer = client.get(f"/esim/v1/order/{order['id']}/qrcode", params={"format": "gif"}, headers=headers(reseller))
    assert_error(answer, 400, "INVALID_REQUEST_PARAMS", "format")


def test_install_links_carry_the_percent_encoded_activation_code(client: httpx.Client, reseller: str) -> None:
    order = completed_order(client, reseller)
    links = client.get(f"/esim/v1/order/{order['id']}/install-links", headers=headers(reseller)).json()

    lpa = order["output"]["lpa_url"]
    assert links["lpa_url"] == lpa
    assert links["ios"].startswith("https://esimsetup.apple.com/esim_qrcode_provisioning?carddata=LPA%3A1%24")
    assert parse_qs(urlparse(links["ios"]).query)["carddata"] == [lpa]
    assert links["android"].startswith("https://esimsetup.android.com/esim_qrcode_provisioning?carddata=")
    assert parse_qs(urlparse(links["android"]).query)["carddata"] == [lpa]


def test_a_topup_has_no_qr_code(client: httpx.Client, reseller: str) -> None:
    email = unique_email()
    iccid = completed_order(client, reseller, email)["output"]["iccid"]
    topup = place(client, reseller, topup_body(email, iccid)).json()
    wait_for(client, reseller, topup["id"], lambda o: o["status"] == "COMPLETED")
    answer = client.get(f"/esim/v1/order/{topup['id']}/qrcode", headers=headers(reseller))
    assert_error(answer, 422, "NO_ACTIVATION_CODE")
