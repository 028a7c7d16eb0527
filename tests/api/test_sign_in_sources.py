"""Failed sign-ins are counted per client id at a source address: wrong secrets sent from one address
lock that client id out there, not its holder at another address; and at an address where the holder
signed in lately, not even wrong secrets from many others do. The guesser's address is another loopback
one (127.0.0.2 and on), its client socket bound to it; the holder's is 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from orderhub.services import sign_ins
from orderhub.store.types import UtcDateTime
from tests.api.support import RunningServer, request_token, running_server
from tests.http_clients import TLS

RESELLER, RESELLER_SECRET = "demo-reseller-1", "demo-reseller-1-secret"
CHANNEL, CHANNEL_SECRET = "demo-channel-1", "demo-channel-1-secret"
CO, CO_SECRET = "demo-co-acme", "demo-co-acme-secret"
TMF_ORDER = "/emida-ux/v1/CR/productOrder/ORD-1"
ONAPI_PRODUCTS = "/2.5/sp_spec/products/"


@contextmanager
def client_from(server: RunningServer, address: str) -> Iterator[httpx.Client]:
    transport = httpx.HTTPTransport(local_address=address, verify=TLS)
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


def guess_from_many_sources(server: RunningServer, sources: int, guesses: int) -> list[int]:
    """``guesses`` wrong secrets for the reseller's client id from each of ``sources`` addresses of their
    own (127.0.0.2 on): the status of each answer."""
    answers = []
    for index in range(sources):
        with client_from(server, f"127.0.0.{index + 2}") as guesser:
            answers += [request_token(guesser, RESELLER, "wrong-secret").status_code for _ in range(guesses)]
    return answers


def test_guesses_from_many_sources_do_not_lock_the_holder_out_where_it_signed_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The client id's limit from all sources lowered from 200 to 20: each failure costs a real hash.
    monkeypatch.setattr(sign_ins, "FAILURES_PER_CLIENT", 20)
    per_source, per_client = sign_ins.FAILURES_PER_CLIENT_AND_SOURCE, sign_ins.FAILURES_PER_CLIENT
    sources = per_client // per_source + 1  # the last finds the client id's failures at their limit
    with running_server(tmp_path / "known.db") as server, server.client() as holder:
        assert request_token(holder, RESELLER, RESELLER_SECRET).status_code == 200
        answers = guess_from_many_sources(server, sources, per_source)
        assert answers == [401] * per_client + [429] * per_source
        assert request_token(holder, RESELLER, RESELLER_SECRET).status_code == 200
        # An address the holder never signed in from is refused until the guesses stop, as before.
        with client_from(server, f"127.0.0.{sources + 2}") as newcomer:
            refused = request_token(newcomer, RESELLER, RESELLER_SECRET)
        assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60


def signed_in_days_ago(server: RunningServer, days: int) -> None:
    """Dates the last sign-in of the one source known (the holder's) ``days`` ago."""
    moved = sa.text("UPDATE sign_in_sources SET signed_in_at = :at").bindparams(sa.bindparam("at", type_=UtcDateTime))
    with server.services.engine.begin() as connection:
        assert connection.execute(moved, {"at": datetime.now(UTC) - timedelta(days=days)}).rowcount == 1


def sources_kept(server: RunningServer) -> int:
    with server.services.engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT count(*) FROM sign_in_sources")).scalar_one())


# In the two tests below the client id's limit from all sources is lowered from 200, so that three
# sources reach it.


def test_a_source_last_signed_in_from_31_days_ago_is_known_no_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sign_ins, "FAILURES_PER_CLIENT", 6)
    with running_server(tmp_path / "forgotten.db") as server, server.client() as holder:
        assert request_token(holder, RESELLER, RESELLER_SECRET).status_code == 200
        signed_in_days_ago(server, 29)
        assert guess_from_many_sources(server, 3, 2) == [401] * 6
        assert request_token(holder, RESELLER, RESELLER_SECRET).status_code == 200  # known still
        signed_in_days_ago(server, 31)
        assert request_token(holder, RESELLER, RESELLER_SECRET).status_code == 429
        # The next failure recorded, of any client id, deletes what is too old to make a source known.
        with client_from(server, "127.0.0.9") as other:
            assert request_token(other, "made-up", "wrong-secret").status_code == 401
        assert sources_kept(server) == 0


def test_wrong_secrets_from_a_known_source_are_still_limited_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sign_ins, "FAILURES_PER_CLIENT", 6)
    limit = sign_ins.FAILURES_PER_CLIENT_AND_SOURCE
    with running_server(tmp_path / "known-limit.db") as server, server.client() as holder:
        assert request_token(holder, RESELLER, RESELLER_SECRET).status_code == 200
        assert guess_from_many_sources(server, 3, 2) == [401] * 6
        # Checked (401), not refused for the guesses elsewhere, up to the client id's limit at the source.
        assert [request_token(holder, RESELLER, "wrong-secret").status_code for _ in range(limit)] == [401] * limit
        refused = request_token(holder, RESELLER, RESELLER_SECRET)
        assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
