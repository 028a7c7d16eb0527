"""A client secret signs in as issued, and as nothing else that happens to hash alike."""

from __future__ import annotations

import base64
import uuid

import httpx
import pytest

from tests.api.support import RunningServer, headers, request_token


def issued(server: RunningServer, roles: list[str], **partner: str) -> tuple[str, str]:
    partner_id = f"p-{uuid.uuid4().hex[:8]}"
    server.services.partners.create_partner(partner_id, name=partner_id, roles=roles, currencies=["USD"], **partner)
    credential = server.services.partners.issue_credential(partner_id)
    return credential.client_id, credential.client_secret


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


# scrypt keys HMAC with the secret, which pads a short key with zero bytes: these hashed as the secret.
@pytest.mark.parametrize("suffix", ["\x00", "\x00\x00\x00"])
def test_a_secret_followed_by_nul_characters_is_a_wrong_secret(
    server: RunningServer, client: httpx.Client, suffix: str
) -> None:
    client_id, secret = issued(server, ["RESELLER"])
    form = request_token(client, client_id, secret + suffix)
    assert form.status_code == 401 and form.json()["error"] == "invalid_client"
    by_basic = client.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret + suffix)
    )
    assert by_basic.status_code == 401 and by_basic.json()["error"] == "invalid_client"
    right = request_token(client, client_id, secret)
    assert right.status_code == 200
    assert client.get("/esim/v1/product", headers=headers(right.json()["access_token"])).status_code == 200


def test_onapi_basic_credentials_with_a_nul_after_the_secret_are_bad_credentials(
    server: RunningServer, client: httpx.Client
) -> None:
    co_id = f"co{uuid.uuid4().hex[:8]}"
    client_id, secret = issued(server, ["COMMUNICATION_OPERATOR"], co_id=co_id)
    refused = client.get("/2.5/sp_spec/products/", headers=basic(client_id, secret + "\x00"))
    assert refused.status_code == 401 and refused.json() == {"cause": "Bad credentials"}
    assert client.get("/2.5/sp_spec/products/", headers=basic(client_id, secret)).status_code == 200
