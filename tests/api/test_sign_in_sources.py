"""Failed sign-ins are counted per client id at a source address: wrong secrets sent from one address
lock that client id out there, not its holder at another address. The guesser's address is another
loopback one (127.0.0.2 and on), its client socket bound to it; the holder's is 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from orderhub.services import sign_ins
from tests.api.support import RunningServer, request_token, running_server

RESELLER, RESELLER_SECRET = "demo-reseller-1", "demo-reseller-1-secret"
CHANNEL, CHANNEL_SECRET = "demo-channel-1", "demo-channel-1-secret"
CO, CO_SECRET = "demo-co-acme", "demo-co-acme-secret"
TMF_ORDER = "/emida-ux/v1/CR/productOrder/ORD-1"
ONAPI_PRODUCTS = "/2.5/sp_spec/products/"


@contextmanager
def client_from(server: RunningServer, address: str) -> Iterator[httpx.Client]:
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=server.base_url, timeout=30, transport=transport) as http:
        yield http


def tmf(http: httpx.Client, secret: str) -> int:
    headers = {"client_id": CHANNEL, "client_secret": secret, "X-Correlation-ID": "sources-1"}
    return http.get(TMF_ORDER, headers=headers).status_code


def onapi(http: httpx.Client, secret: str) -> int:
    return http.get(ONAPI_PRODUCTS, auth=(CO, secret)).status_code


def test_wrong_secrets_from_one_source_do_not_lock_the_holder_out_at_another(tmp_path: Path) -> None:
    limit = sign_ins.FAILURES_PER_CLIENT_AND_SOURCE
    with (
        running_server(tmp_path / "sources.db") as server,
        client_from(server, "127.0.0.2") as guesser,
        server.client() as holder,
    ):
        # The token endpoint.
        assert [request_token(guesser, RESELLER, "wrong-secret").status_code for _ in range(limit)] == [401] * limit
        refused = request_token(guesser, RESELLER, RESELLER_SECRET)
        assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
        assert request_token(holder, RESELLER, RESELLER_SECRET).status_code == 200
        assert request_token(guesser, RESELLER, "wrong-secret").status_code == 429  # still refused there
        # tmf-productorder (its client id and secret in headers): the holder's order is unknown, not refused.
        assert [tmf(guesser, "wrong-secret") for _ in range(limit)] == [401] * limit
        assert tmf(guesser, "wrong-secret") == 429
        assert tmf(holder, CHANNEL_SECRET) == 404
        # onapi-order (HTTP Basic), checked before its one minute's cache of verified credentials holds it.
        assert [onapi(guesser, "wrong-secret") for _ in range(limit)] == [401] * limit
        assert onapi(guesser, CO_SECRET) == 429
        assert onapi(holder, CO_SECRET) == 200
        assert onapi(guesser, "wrong-secret") == 429


def test_a_client_id_guessed_from_many_sources_is_refused_everywhere_past_its_own_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Lowered from 200, so that three sources reach it (the services' tests hold the real number).
    monkeypatch.setattr(sign_ins, "FAILURES_PER_CLIENT", 6)
    with running_server(tmp_path / "many.db") as server, server.client() as holder:
        for address in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
            with client_from(server, address) as guesser:
                assert [request_token(guesser, RESELLER, "wrong-secret").status_code for _ in range(2)] == [401] * 2
        refused = request_token(holder, RESELLER, RESELLER_SECRET)
        assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.json() == {
            "error": "invalid_client",
            "error_description": "too many failed sign-ins; retry later",
        }
        assert refused.headers["Cache-Control"] == "no-store"
        # Other client ids are not refused for it.
        assert request_token(holder, "demo-reseller-2", "demo-reseller-2-secret").status_code == 200
