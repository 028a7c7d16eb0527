"""OAuth2 tokens, roles, revocation, and partners never seeing each other's data."""

from __future__ import annotations

import base64
import uuid

import httpx

from tests.api.support import (
    SEED_PRODUCT,
    RunningServer,
    completed_order,
    get_token,
    headers,
    new_esim_body,
    place,
    request_token,
    unique_email,
    wait_for,
)
from tests.api.test_errors import assert_error


def new_partner(server: RunningServer, roles: list[str], manager: str | None = None) -> tuple[str, str, str]:
    partner_id = f"p-{uuid.uuid4().hex[:8]}"
    server.services.partners.create_partner(
        partner_id,
        name=partner_id,
        roles=roles,
        currencies=["USD"],
        product_ids=["a3u3z000000PZBhAAO"],
        manager_id=manager,
    )
    issued = server.services.partners.issue_credential(partner_id)
    return partner_id, issued.client_id, issued.client_secret


def test_token_by_form_answers_the_oauth2_shape(client: httpx.Client) -> None:
    answer = request_token(client, "demo-reseller-1", "demo-reseller-1-secret")
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    assert body["access_token"] and body["refresh_token"]
    assert answer.headers["Cache-Control"] == "no-store"


def test_token_by_http_basic(client: httpx.Client) -> None:
    basic = base64.b64encode(b"demo-reseller-2:demo-reseller-2-secret").decode()
    answer = client.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert answer.status_code == 200
    assert client.get("/esim/v1/product", headers=headers(answer.json()["access_token"])).status_code == 200


def test_wrong_secret_is_invalid_client(client: httpx.Client) -> None:
    answer = request_token(client, "demo-reseller-1", "guess")
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_unsupported_grant_and_missing_grant(client: httpx.Client) -> None:
    assert client.post("/oauth2/token", data={"grant_type": "password"}).json()["error"] == "unsupported_grant_type"
    assert client.post("/oauth2/token", data={}).json()["error"] == "invalid_request"
    assert client.post("/oauth2/token", json={"grant_type": "client_credentials"}).status_code == 400


RESELLER_1 = {"client_id": "demo-reseller-1", "client_secret": "demo-reseller-1-secret"}


def refresh(client: httpx.Client, token: str, **credentials: str) -> httpx.Response:
    return client.post("/oauth2/token", data={"grant_type": "refresh_token", "refresh_token": token, **credentials})


def test_refresh_token_gives_a_new_pair_and_a_replay_revokes_every_token_issued_from_it(client: httpx.Client) -> None:
    first = request_token(client, "demo-reseller-1", "demo-reseller-1-secret").json()
    refreshed = refresh(client, first["refresh_token"], **RESELLER_1)
    assert refreshed.status_code == 200
    new_token = refreshed.json()["access_token"]
    assert new_token != first["access_token"]
    assert client.get("/esim/v1/product", headers=headers(new_token)).status_code == 200

    # The first refresh token again: a replay. Every token of that sign-in stops working.
    again = refresh(client, first["refresh_token"], **RESELLER_1)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert "revoked" in again.json()["error_description"]
    assert client.get("/esim/v1/product", headers=headers(new_token)).status_code == 401
    assert client.get("/esim/v1/product", headers=headers(first["access_token"])).status_code == 401
    assert refresh(client, refreshed.json()["refresh_token"], **RESELLER_1).status_code == 400


def test_refreshing_needs_the_clients_own_credentials(client: httpx.Client) -> None:
    token = request_token(client, "demo-reseller-1", "demo-reseller-1-secret").json()["refresh_token"]
    assert refresh(client, token).status_code == 401
    assert refresh(client, token, client_id="demo-reseller-1", client_secret="wrong-secret").status_code == 401
    other = refresh(client, token, client_id="demo-reseller-2", client_secret="demo-reseller-2-secret")
    assert other.status_code == 400 and other.json()["error"] == "invalid_grant"
    assert refresh(client, token, **RESELLER_1).status_code == 200


def test_revoked_credential_stops_its_tokens(server: RunningServer, client: httpx.Client) -> None:
    _partner, client_id, secret = new_partner(server, ["RESELLER"])
    token = get_token(client, client_id, secret)
    assert client.get("/esim/v1/product", headers=headers(token)).status_code == 200

    assert server.services.partners.revoke_credential(client_id)

    assert_error(client.get("/esim/v1/product", headers=headers(token)), 401, "UNAUTHORISED")
    answer = request_token(client, client_id, secret)
    assert answer.status_code == 401


def test_an_order_after_a_revocation_is_refused_with_a_token_that_ordered_before(
    server: RunningServer, client: httpx.Client
) -> None:
    # On PostgreSQL an order's credentials are taken from the cache and checked in the order's write
    # (services.auth.Caller): the revocation must still stop the very next order, a retry included.
    _partner, client_id, secret = new_partner(server, ["RESELLER"])
    token = get_token(client, client_id, secret)
    first = place(client, token, new_esim_body(unique_email()), **{"Idempotency-Key": "before-revocation"})
    assert first.status_code == 201, first.text

    assert server.services.partners.revoke_credential(client_id)

    assert_error(place(client, token, new_esim_body(unique_email())), 401, "UNAUTHORISED")
    retry = place(client, token, new_esim_body(), **{"Idempotency-Key": "before-revocation"})
    assert_error(retry, 401, "UNAUTHORISED")


def test_a_partners_products_apply_from_its_next_order_either_way(server: RunningServer, client: httpx.Client) -> None:
    partner_id, client_id, secret = new_partner(server, ["RESELLER"])
    token = get_token(client, client_id, secret)
    assert place(client, token, new_esim_body(unique_email())).status_code == 201

    server.services.partners.set_products(partner_id, [])
    refused = place(client, token, new_esim_body(unique_email()))
    assert_error(refused, 422, "PRODUCT_NOT_FOUND", "not in your product catalog")

    # The principal cached without the product must not refuse the order once the product is back.
    server.services.partners.set_products(partner_id, [SEED_PRODUCT])
    again = place(client, token, new_esim_body(unique_email()))
    assert again.status_code == 201, again.text
    assert wait_for(client, token, again.json()["id"], lambda o: o["status"] != "FULFILLING")["status"] == "COMPLETED"


def test_partner_without_an_esim_role_is_denied(server: RunningServer, client: httpx.Client) -> None:
    _partner, client_id, secret = new_partner(server, ["COMMUNICATION_OPERATOR"])
    token = get_token(client, client_id, secret)
    assert_error(place(client, token, new_esim_body()), 403, "ACCESS_DENIED")
    assert_error(client.get("/esim/v1/product", headers=headers(token)), 403, "ACCESS_DENIED")


def test_reseller_cannot_see_another_resellers_order_or_sim(client: httpx.Client, tokens: dict[str, str]) -> None:
    order = completed_order(client, tokens["demo-reseller-1"])
    other = tokens["demo-reseller-2"]

    assert_error(client.get(f"/esim/v1/order/{order['id']}", headers=headers(other)), 404, "ORDER_NOT_FOUND")
    assert_error(client.get(f"/esim/v1/order/{order['id']}/qrcode", headers=headers(other)), 404, "ORDER_NOT_FOUND")
    assert_error(client.get(f"/esim/v1/sim/{order['output']['iccid']}", headers=headers(other)), 404, "SIM_NOT_FOUND")


def test_reseller_cannot_top_up_another_resellers_customer(client: httpx.Client, tokens: dict[str, str]) -> None:
    email = f"shared-{uuid.uuid4().hex[:8]}@example.com"
    order = completed_order(client, tokens["demo-reseller-1"], email)
    body = new_esim_body(email)
    body["input"].update(operationType="TOPUP", esim={"iccid": order["output"]["iccid"]})
    assert_error(place(client, tokens["demo-reseller-2"], body), 422, "CUSTOMER_MUST_EXIST")


def test_account_manager_sees_its_resellers_orders_and_sims(client: httpx.Client, tokens: dict[str, str]) -> None:
    order = completed_order(client, tokens["demo-reseller-1"])
    manager = tokens["demo-account-manager"]

    seen = client.get(f"/esim/v1/order/{order['id']}", headers=headers(manager))
    assert seen.status_code == 200
    assert seen.json()["output"]["iccid"] == order["output"]["iccid"]
    assert client.get(f"/esim/v1/sim/{order['output']['iccid']}", headers=headers(manager)).status_code == 200


def test_account_manager_does_not_see_resellers_it_does_not_manage(
    server: RunningServer, client: httpx.Client, tokens: dict[str, str]
) -> None:
    _partner, client_id, secret = new_partner(server, ["RESELLER"])
    order = completed_order(client, get_token(client, client_id, secret))
    answer = client.get(f"/esim/v1/order/{order['id']}", headers=headers(tokens["demo-account-manager"]))
    assert_error(answer, 404, "ORDER_NOT_FOUND")


def test_account_manager_orders_are_not_visible_to_its_resellers(client: httpx.Client, tokens: dict[str, str]) -> None:
    order = completed_order(client, tokens["demo-account-manager"])
    answer = client.get(f"/esim/v1/order/{order['id']}", headers=headers(tokens["demo-reseller-1"]))
    assert_error(answer, 404, "ORDER_NOT_FOUND")


def test_an_account_manager_tops_up_the_esim_of_the_right_reseller_when_emails_repeat(
    client: httpx.Client, tokens: dict[str, str]
) -> None:
    email = f"twice-{uuid.uuid4().hex[:8]}@example.com"
    completed_order(client, tokens["demo-reseller-1"], email)  # the older customer with that e-mail
    second = completed_order(client, tokens["demo-reseller-2"], email)
    body = new_esim_body(email)
    body["input"].update(operationType="TOPUP", esim={"iccid": second["output"]["iccid"]})
    answer = place(client, tokens["demo-account-manager"], body)
    assert answer.status_code == 201, answer.text
