"""No answer of orderhub's is kept by a browser or a cache on the way: they hold personal data (an order's
e-mail, a line's MSISDN), tokens and partner-specific catalogs, and every one is sniff-proof. The QR code
alone may be kept, by the partner's own client (private), for an hour."""

from __future__ import annotations

import base64

import httpx

from tests.api.support import completed_order, get_token, headers, new_esim_body, place, unique_email

CHANNEL = {"client_id": "demo-channel-1", "client_secret": "demo-channel-1-secret"}
NO_STORE = {"cache-control": "no-store", "x-content-type-options": "nosniff"}


def kept_how(answer: httpx.Response) -> dict[str, str | None]:
    return {name: answer.headers.get(name) for name in NO_STORE}


def test_esim_v1_answers_are_not_stored(client: httpx.Client, reseller: str) -> None:
    placed = place(client, reseller, new_esim_body(unique_email()))
    assert placed.status_code == 201
    answers = [
        placed,  # the hot route's answers
        client.get(f"/esim/v1/order/{placed.json()['id']}", headers=headers(reseller)),
        place(client, reseller, new_esim_body(unique_email(), currency="000")),
        client.get("/esim/v1/product", headers=headers(reseller)),  # the framework's
        client.get("/esim/v1/order/no-such-order", headers=headers(reseller)),
        client.get("/esim/v1/product", headers=headers(None)),
    ]
    assert [answer.status_code for answer in answers] == [201, 200, 400, 200, 404, 401]
    assert [kept_how(answer) for answer in answers] == [NO_STORE] * len(answers)


def test_the_qr_code_alone_may_be_kept_privately(client: httpx.Client, reseller: str) -> None:
    order = completed_order(client, reseller)
    image = client.get(f"/esim/v1/order/{order['id']}/qrcode", headers=headers(reseller))
    assert image.status_code == 200
    assert kept_how(image) == {"cache-control": "private, max-age=3600", "x-content-type-options": "nosniff"}


def test_the_other_apis_and_the_token_endpoint_answers_are_not_stored(client: httpx.Client) -> None:
    token = get_token(client, "demo-channel-1", "demo-channel-1-secret")
    basic = base64.b64encode(b"demo-co-acme:demo-co-acme-secret").decode()
    answers = [
        client.post("/oauth2/token", data={"grant_type": "client_credentials"}),
        client.get("/tmf-api/productOrderingManagement/v4/productOrder", headers={"Authorization": f"Bearer {token}"}),
        client.get(
            "/emida-ux-lcr/emida-ux/v1/CR/productOrder/ORD-none",
            headers={**CHANNEL, "X-Correlation-ID": "c-1"},
        ),
        client.get("/2.5/sp_spec/products/", headers={"Authorization": f"Basic {basic}"}),
        client.post("/2.5/sp_spec/order/", json={}, headers={"Authorization": f"Basic {basic}"}),
        client.get("/readyz"),
    ]
    assert [answer.status_code for answer in answers] == [401, 200, 404, 200, 400, 200]
    assert [kept_how(answer) for answer in answers] == [NO_STORE] * len(answers)
