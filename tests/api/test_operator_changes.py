"""What the operator changes on a running server reaches each API's next request, in that API's words:
a partner changed in place (`orderhub partner update`), an offering withdrawn (`business-unit
remove-offering`, `access remove-offering`). Runs on SQLite and, with ORDERHUB_TEST_POSTGRES, on
PostgreSQL; the rules themselves are tested in-process (tests/integration/test_setup_rules.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from orderhub.domain.accesses import NetworkOffering
from orderhub.domain.catalog import Product, ProductKind
from orderhub.domain.lines import Offering, PlanType
from orderhub.services.access_setup import AccessAdmin
from orderhub.services.demo import demo_credentials
from orderhub.services.line_setup import LineAdmin
from tests.api.support import SEED_PRODUCT, RunningServer, get_token, headers, new_esim_body, place, running_server
from tests.api.test_onapi import ACME, auth, send, valid_body, when
from tests.api.test_tmf_productorder import assert_error, line_order, post

CHANNEL = demo_credentials()["tmf-productorder"][0]  # demo-channel-1, on business unit CR


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    # Its own server: these tests change partners and withdraw offerings.
    with running_server(tmp_path_factory.mktemp("changes") / "orderhub.db", worker_poll_seconds=0.2) as running:
        yield running


@pytest.fixture
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def test_a_partner_changed_in_place_is_served_as_changed_from_its_next_request(
    server: RunningServer, http: httpx.Client
) -> None:
    partners = server.services.partners
    # esim-v1: a reseller that starts selling in EUR, and stops selling in USD.
    partners.create_partner("euro-shop", name="Shop", roles=["RESELLER"], currencies=["USD"],
                            product_ids=[SEED_PRODUCT])  # fmt: skip
    partners.issue_credential("euro-shop", client_id="euro-shop-1", client_secret="euro-shop-1-secret")
    token = get_token(http, "euro-shop-1", "euro-shop-1-secret")
    in_dollars = place(http, token, new_esim_body(f"{uuid.uuid4().hex[:10]}@example.com"))
    assert in_dollars.status_code == 201, in_dollars.text
    partners.update_partner("euro-shop", currencies=["EUR"])
    # The same token: its partner is read again, the order priced in a dropped currency refused.
    refused = place(http, token, new_esim_body(f"{uuid.uuid4().hex[:10]}@example.com"))
    assert refused.status_code == 400 and refused.json()["type"] == "INVALID_REQUEST_PARAMS", refused.text
    assert "USD is not supported for this partner (supported: EUR)" in refused.json()["messages"][0]
    in_euros = place(http, token, new_esim_body(f"{uuid.uuid4().hex[:10]}@example.com", currency="EUR"))
    assert in_euros.status_code == 201, in_euros.text
    # An order placed before keeps the currency it was placed with.
    first = http.get(f"/esim/v1/order/{in_dollars.json()['id']}", headers=headers(token)).json()
    assert first["input"]["subscriptions"][0]["currency"] == "USD", first

    # onapi-order: a CO created without its coId is refused (403) until it has one; then its customers
    # read its new language.
    partners.create_partner("telco", name="Telco", roles=["COMMUNICATION_OPERATOR"], currencies=["SEK"])
    partners.issue_credential("telco", client_id="telco-1", client_secret="telco-1-secret")
    telco = {"username": "telco-1", "password": "telco-1-secret"}
    body = valid_body("access-free-1", co="Telco", product="fiber-internet", offering="250-250")
    assert send(http, body, telco).status_code == 403
    partners.update_partner("telco", co_id="Telco", language="sv")
    answer = send(http, body, telco)  # not allowed any offering yet: a business refusal, in Swedish
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "REJECTED", "message": "Den valda tjänsten finns inte på den här adressen."}


def test_a_withdrawn_offering_is_refused_from_the_next_order_as_an_unknown_one(
    server: RunningServer, http: httpx.Client
) -> None:
    lines, network = LineAdmin(server.services.uow_factory), AccessAdmin(server.services.uow_factory)
    # tmf-productorder: a data plan sold in CR, ordered on the demo's line with a plan, then withdrawn.
    server.services.catalog.add_product(Product("CR-DATA-1GB", "1 GB", ProductKind.LINE_OFFERING))
    lines.add_offering(Offering("CR", "CR-DATA-1GB", PlanType.DATA_PLAN, 7))
    sold = post(http, line_order("69877689", "DataPlan", "CR-DATA-1GB"), channel=CHANNEL)
    assert (sold.status_code, sold.json()["state"]) == (201, "completed"), sold.text
    assert lines.remove_offering("CR", "CR-DATA-1GB", PlanType.DATA_PLAN).removed is not None
    withdrawn = post(http, line_order("69877689", "DataPlan", "CR-DATA-1GB"), channel=CHANNEL)
    assert_error(withdrawn, 422, "OFFERING_NOT_AVAILABLE", "offering CR-DATA-1GB is not available as DataPlan")
    view = server.services.lines.line("CR", "69877689")  # the data plan it started runs on
    assert view is not None and any(p.product_id == "CR-DATA-1GB" and p.active(view.now) for p in view.products)

    # onapi-order: an offering Acme may order; one order runs now, one is received for in a few seconds.
    network.add_offering(NetworkOffering("fiber-internet", "2000-2000", "2000/2000 Mbit/s"))
    with server.services.uow_factory(read_only=True) as uow:
        granted = [(o.product_id, o.offering_id) for o in uow.accesses.offerings_for(str(ACME["partner"]))]
    network.allow(str(ACME["partner"]), [*granted, ("fiber-internet", "2000-2000")])
    now = send(http, valid_body("access-free-2", product="fiber-internet", offering="2000-2000"))
    assert now.json()["status"] == "ACTIVATED", now.text
    scheduled = valid_body("access-free-3", requested=when(3), product="fiber-internet", offering="2000-2000")
    assert send(http, scheduled).json()["status"] == "RECEIVED"

    removal = network.remove_offering("fiber-internet", "2000-2000")
    assert removal.disallowed == [ACME["partner"]] and len(removal.open_orders) == 1
    refused = send(http, valid_body("access-free-4", product="fiber-internet", offering="2000-2000"))
    assert refused.status_code == 200, refused.text
    assert refused.json() == {"status": "REJECTED", "message": "The selected service is not available at this address."}
    listed = http.get("/2.5/sp_spec/products/", auth=auth(ACME)).json()
    assert "2000-2000" not in {o["offeringId"] for p in listed for o in p["offerings"]}
    # The order received before it fails when due (it was activated before); the one activated runs on.
    deadline = time.monotonic() + 15
    while send(http, scheduled).json()["status"] == "RECEIVED" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert send(http, scheduled).json() == {
        "status": "REJECTED", "message": "The service could not be activated. Please contact customer service."
    }  # fmt: skip
    with server.services.uow_factory(read_only=True) as uow:
        access = uow.accesses.by_ref("access-free-2")
        assert access is not None and uow.accesses.active_products(access.id) == {"fiber-internet"}
