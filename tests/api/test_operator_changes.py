"""What the operator changes on a running server reaches each API's next request, in that API's words:
a partner changed in place (`orderhub partner update`). Runs on SQLite and, with ORDERHUB_TEST_POSTGRES,
on PostgreSQL; the rules themselves are tested in-process (tests/integration/test_setup_rules.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.api.support import SEED_PRODUCT, RunningServer, get_token, headers, new_esim_body, place, running_server
from tests.api.test_onapi import send, valid_body


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    # Its own server: these tests change partners.
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
