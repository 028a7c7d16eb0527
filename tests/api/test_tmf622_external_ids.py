"""A TMF622 partner finds its orders by the externalId it gave them (`GET /productOrder?externalId=`), as a
partner reconciling its own order ids with orderhub's does: any of several, each compared whole, after a
PATCH by the new one only, another partner's never; an externalId of any length is taken and found."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.support import get_token, running_server
from tests.api.test_tmf622 import BASE, CHANNELS, auth, create, later, order_body


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with running_server(Path(tmp_path_factory.mktemp("external")) / "o.db") as server, server.client() as client:
        yield client


@pytest.fixture(scope="module")
def tokens(http: httpx.Client) -> list[str]:
    return [get_token(http, str(c["client_id"]), str(c["client_secret"])) for c in CHANNELS]


def found(http: httpx.Client, token: str, external_ids: str, **params: Any) -> list[str]:
    answer = http.get(f"{BASE}/productOrder", params={"externalId": external_ids, **params}, headers=auth(token))
    assert answer.status_code == 200, answer.text
    ids = [order["id"] for order in answer.json()]
    assert answer.headers["X-Total-Count"] == str(len(ids)), answer.headers
    return sorted(ids)


def test_orders_are_found_by_any_of_the_external_ids_given(http: httpx.Client, tokens: list[str]) -> None:
    first = create(http, tokens[0], order_body(externalId="PO-2026-0001"))["id"]
    second = create(http, tokens[0], order_body(externalId="PO-2026-0002"))["id"]
    create(http, tokens[0], order_body())  # none given

    assert found(http, tokens[0], "PO-2026-0001") == [first]
    assert found(http, tokens[0], "PO-2026-0001,PO-2026-0002") == sorted([first, second])
    assert found(http, tokens[0], "PO-2026-000") == []  # compared whole
    assert found(http, tokens[0], "PO-2026-0002", state="completed") == [second]  # with the other filters
    assert found(http, tokens[0], "PO-2026-0002", state="failed") == []
    shown = http.get(
        f"{BASE}/productOrder", params={"externalId": "PO-2026-0001", "fields": "externalId"}, headers=auth(tokens[0])
    )
    assert shown.json() == [{"id": first, "href": shown.json()[0]["href"], "externalId": "PO-2026-0001"}]


def test_a_patched_external_id_finds_the_order_and_the_old_one_no_longer_does(
    http: httpx.Client, tokens: list[str]
) -> None:
    order = create(http, tokens[0], order_body(externalId="PO-OLD", requestedStartDate=later(3)))["id"]
    patched = http.patch(f"{BASE}/productOrder/{order}", json={"externalId": "PO-NEW"}, headers=auth(tokens[0]))
    assert patched.status_code == 200, patched.text

    assert found(http, tokens[0], "PO-NEW") == [order]
    assert found(http, tokens[0], "PO-OLD") == []
    removed = http.patch(f"{BASE}/productOrder/{order}", json={"externalId": None}, headers=auth(tokens[0]))
    assert removed.status_code == 200, removed.text
    assert found(http, tokens[0], "PO-NEW") == []


def test_another_partners_orders_are_never_found_by_their_external_id(http: httpx.Client, tokens: list[str]) -> None:
    create(http, tokens[0], order_body(externalId="PO-SHARED-NAME"))
    assert found(http, tokens[1], "PO-SHARED-NAME") == []


def test_an_external_id_of_any_length_is_taken_and_found(http: httpx.Client, tokens: list[str]) -> None:
    """Past what a PostgreSQL B-tree index holds (~2.7 kB) an index on the value itself refused the order."""
    long_id = "PO-" + "x" * 6000
    order = create(http, tokens[0], order_body(externalId=long_id))["id"]
    assert found(http, tokens[0], long_id) == [order]
    assert found(http, tokens[0], "PO-é-ünïcode") == []
    accented = create(http, tokens[0], order_body(externalId="PO-é-ünïcode"))["id"]
    assert found(http, tokens[0], "PO-é-ünïcode") == [accented]
