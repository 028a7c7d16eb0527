"""onapi-order's REJECTED under an Idempotency-Key: a business answer (200), kept against the key as an
order is. The same key with the same body answers it again; with another body, 409; an input error
(400) keeps nothing, and neither does a refusal without a key. Runs on SQLite and, with
ORDERHUB_TEST_POSTGRES, on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from orderhub.services.access_setup import AccessAdmin
from tests.api.support import RunningServer, running_server
from tests.api.test_onapi import FIBRA, send, valid_body, when

NOT_FOUND = {"status": "REJECTED", "message": "The connection could not be found."}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("onapi-keys") / "orderhub.db") as running:
        yield running


@pytest.fixture
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


@pytest.fixture
def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def new_access_ref() -> str:
    return f"access-{uuid.uuid4().hex[:12]}"


def kept_refusals(server: RunningServer, key: str | None = None) -> list[tuple[str, str]]:
    """(key, reason code) of each refusal the keys keep (of ``key`` alone, if given)."""
    query = "SELECT key, refusal FROM idempotency_keys WHERE order_id IS NULL"
    with server.services.engine.connect() as connection:
        rows = connection.execute(sa.text(query)).all()
    return [(k, refusal) for k, refusal in rows if key is None or k == key]


def orders_on(server: RunningServer, ref: str) -> int:
    with server.services.engine.connect() as connection:
        return int(
            connection.execute(
                sa.text("SELECT count(*) FROM orders WHERE CAST(request AS TEXT) LIKE :ref"), {"ref": f'%"{ref}"%'}
            ).scalar_one()
        )


def test_a_rejected_order_keeps_its_idempotency_key(
    server: RunningServer, http: httpx.Client, key: dict[str, str]
) -> None:
    # The audit's case: A REJECTED, then B under the same key was created, then A again was 409.
    unknown = new_access_ref()
    refused = valid_body(unknown, requested=when(86400))
    first = send(http, refused, **key)
    assert first.status_code == 200, first.text
    assert first.json() == NOT_FOUND and "Idempotent-Replayed" not in first.headers
    again = send(http, refused, **key)
    assert again.status_code == 200, again.text
    assert again.json() == NOT_FOUND and again.headers["Idempotent-Replayed"] == "true"
    valid = valid_body("access-free-1", requested=when(86400), product="iptv", offering="basic")
    conflict = send(http, valid, **key)
    assert conflict.status_code == 409, conflict.text
    assert set(conflict.json()) == {"cause"}
    assert orders_on(server, "access-free-1") == 0
    # The access appears: the key still answers what its request got, as a key of an order would.
    AccessAdmin(server.services.uow_factory).add_access(unknown)
    kept = send(http, refused, **key)
    assert kept.json() == NOT_FOUND and kept.headers["Idempotent-Replayed"] == "true"
    assert orders_on(server, unknown) == 0
    assert kept_refusals(server, key["Idempotency-Key"]) == [(key["Idempotency-Key"], "access_not_found")]
    # Without the key (or with another) it is a new request, which passes now; the key still answers its own.
    assert send(http, refused).json()["status"] == "RECEIVED"
    assert send(http, refused, **key).json() == NOT_FOUND


def test_a_kept_refusal_is_answered_in_the_cos_language(http: httpx.Client, key: dict[str, str]) -> None:
    body = valid_body(new_access_ref(), requested=when(86400), co="Fibra", product="fiber-internet", offering="250-250")
    answers = [send(http, body, FIBRA, **key) for _ in range(2)]
    swedish = {"status": "REJECTED", "message": "Anslutningen kunde inte hittas."}
    assert [answer.json() for answer in answers] == [swedish, swedish]
    assert answers[1].headers["Idempotent-Replayed"] == "true"


def test_a_refusal_without_a_key_keeps_nothing(server: RunningServer, http: httpx.Client) -> None:
    before = kept_refusals(server)
    unknown = new_access_ref()
    body = valid_body(unknown, requested=when(86400))
    assert [send(http, body).json() for _ in range(2)] == [NOT_FOUND, NOT_FOUND]
    assert kept_refusals(server) == before
    AccessAdmin(server.services.uow_factory).add_access(unknown)
    assert send(http, body).json()["status"] == "RECEIVED"


def test_an_input_error_keeps_nothing_so_the_corrected_request_may_use_its_key(
    server: RunningServer, http: httpx.Client, key: dict[str, str]
) -> None:
    access = new_access_ref()
    AccessAdmin(server.services.uow_factory).add_access(access)
    wrong = valid_body(access, requested=when(86400))
    wrong["customerDetails"]["personalIdentityNumber"] = "19121212-1213"
    assert send(http, wrong, **key).status_code == 400
    corrected = send(http, valid_body(access, requested=when(86400)), **key)
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["status"] == "RECEIVED" and "Idempotent-Replayed" not in corrected.headers


def test_concurrent_refused_requests_with_one_key_get_one_answer(
    server: RunningServer, http: httpx.Client, key: dict[str, str]
) -> None:
    body = valid_body(new_access_ref(), requested=when(86400))
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: send(http, body, **key), range(20)))
    assert [(answer.status_code, answer.json()) for answer in answers] == [(200, NOT_FOUND)] * 20
    # One of them is the first, whose answer the key keeps; every other is its replay.
    assert sorted(answer.headers.get("Idempotent-Replayed", "") for answer in answers) == [""] + ["true"] * 19
    assert kept_refusals(server, key["Idempotency-Key"]) == [(key["Idempotency-Key"], "access_not_found")]


def test_a_kept_refusal_and_a_kept_order_survive_a_restart(tmp_path: Path) -> None:
    refused_key, placed_key = {"Idempotency-Key": "refused-1"}, {"Idempotency-Key": "placed-1"}
    refused = valid_body("no-such-access", requested=when(86400))
    placed = valid_body("access-free-2", requested=when(86400), product="iptv", offering="basic")
    path = tmp_path / "restart.db"
    with running_server(path) as server, server.client() as http:
        assert send(http, refused, **refused_key).json() == NOT_FOUND
        assert send(http, placed, **placed_key).json()["status"] == "RECEIVED"
    with running_server(path) as server, server.client() as http:
        assert send(http, refused, **refused_key).headers["Idempotent-Replayed"] == "true"
        assert send(http, placed, **refused_key).status_code == 409
        assert send(http, refused, **placed_key).status_code == 409
