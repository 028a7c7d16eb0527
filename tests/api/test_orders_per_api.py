"""Each API shows only the orders of the operations it serves, also to a partner that orders through
several: esim-v1 its eSIM orders, tmf-productorder and TMF622 their line orders (which they share)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest

from tests.api.seed_001 import DATAPLAN
from tests.api.support import SEED_PRODUCT, RunningServer, get_token, headers, new_esim_body, place, unique_email
from tests.api.test_errors import assert_error

TMF622 = "/tmf-api/productOrderingManagement/v4/productOrder"
TMF_PRODUCTORDER = "/emida-ux-lcr/emida-ux/v1/CR/productOrder"


@dataclass
class Orders:
    token: str
    credentials: dict[str, str]  # tmf-productorder's headers: the credential itself, not a token
    line_order_id: str  # the order's own id, as esim-v1 names orders
    line_order_number: str  # as tmf-productorder and TMF622 name it
    esim_order_id: str


@pytest.fixture(scope="module")
def mixed(server: RunningServer) -> Orders:
    """A partner that is a RESELLER and a BUSINESS_CHANNEL (the CLI allows it), with an order of each."""
    partner_id = f"mixed-{uuid.uuid4().hex[:8]}"
    server.services.partners.create_partner(
        partner_id,
        name=partner_id,
        roles=["RESELLER", "BUSINESS_CHANNEL"],
        currencies=["USD"],
        product_ids=[SEED_PRODUCT],
        business_unit_ids=["CR"],
    )
    issued = server.services.partners.issue_credential(partner_id)
    with server.client() as http:
        token = get_token(http, issued.client_id, issued.client_secret)
        credentials = {"client_id": issued.client_id, "client_secret": issued.client_secret}
        line = http.post(
            TMF_PRODUCTORDER,
            content=DATAPLAN,
            headers={**credentials, "X-Correlation-ID": "mixed-1", "Content-Type": "application/json"},
        )
        assert line.status_code == 201, line.text
        esim = place(http, token, new_esim_body(unique_email()))
        assert esim.status_code == 201, esim.text
    number = line.json()["id"]
    with server.services.uow_factory(read_only=True) as uow:
        stored = uow.orders.get_by_reference(number)
    assert stored is not None
    return Orders(token, credentials, stored.id, number, esim.json()["id"])


@pytest.mark.parametrize("tail", ["", "/install-links", "/qrcode"])
def test_esim_v1_does_not_show_a_line_order(client: httpx.Client, mixed: Orders, tail: str) -> None:
    for _ in range(2):  # the second read: the order read is answered from the hot route's cache if any
        answer = client.get(f"/esim/v1/order/{mixed.line_order_id}{tail}", headers=headers(mixed.token))
        assert_error(answer, 404, "ORDER_NOT_FOUND")
    assert client.get(f"/esim/v1/order/{mixed.esim_order_id}", headers=headers(mixed.token)).status_code == 200


def test_the_line_order_apis_do_not_show_an_esim_order(client: httpx.Client, mixed: Orders) -> None:
    bearer = {"Authorization": f"Bearer {mixed.token}"}
    assert client.get(f"{TMF622}/{mixed.line_order_number}", headers=bearer).status_code == 200
    assert client.get(f"{TMF622}/{mixed.esim_order_id}", headers=bearer).status_code == 404
    listed = client.get(TMF622, headers=bearer)
    assert listed.status_code == 200, listed.text
    assert [order["id"] for order in listed.json()] == [mixed.line_order_number]
    signed = {**mixed.credentials, "X-Correlation-ID": "mixed-2"}
    assert client.get(f"{TMF_PRODUCTORDER}/{mixed.line_order_number}", headers=signed).status_code == 200
    assert client.get(f"{TMF_PRODUCTORDER}/{mixed.esim_order_id}", headers=signed).status_code == 404
