"""A GET of one order or cancellation reads its query as a listing does: `fields=state&fields=orderDate`
was answered with the last one alone, `fields=` with the whole resource (a listing: id and href), and
`foo=1` ignored; a listing refuses the first and the last (400)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.support import get_token, running_server
from tests.api.test_tmf622 import BASE, CHANNELS, auth, create, later, order_body


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with running_server(Path(tmp_path_factory.mktemp("queries")) / "o.db") as server, server.client() as client:
        yield client


@pytest.fixture(scope="module")
def token(http: httpx.Client) -> str:
    return get_token(http, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))


@pytest.fixture(scope="module")
def paths(http: httpx.Client, token: str) -> dict[str, tuple[str, str]]:
    """Each resource's path, and the listing with it alone (a pending order, then cancelled)."""
    order = create(http, token, order_body(requestedStartDate=later(3)))
    asked = http.post(f"{BASE}/cancelProductOrder", json={"productOrder": {"id": order["id"]}}, headers=auth(token))
    assert asked.status_code == 201, asked.text
    return {
        "productOrder": (f"{BASE}/productOrder/{order['id']}", f"{BASE}/productOrder?id={order['id']}"),
        "cancelProductOrder": (f"{BASE}/cancelProductOrder/{asked.json()['id']}", f"{BASE}/cancelProductOrder?limit=1"),
    }


@pytest.mark.parametrize("resource", ["productOrder", "cancelProductOrder"])
@pytest.mark.parametrize(
    ("query", "named"),
    [("fields=state&fields=creationDate", "fields is given more than once"), ("foo=1", "foo is not supported")],
)
def test_a_repeated_or_unknown_parameter_is_refused(
    http: httpx.Client, token: str, paths: dict[str, tuple[str, str]], resource: str, query: str, named: str
) -> None:
    path, _listing = paths[resource]
    answer = http.get(f"{path}?{query}", headers=auth(token))
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "INVALID_REQUEST" and named in answer.json()["message"], answer.text


@pytest.mark.parametrize("resource", ["productOrder", "cancelProductOrder"])
@pytest.mark.parametrize("fields", ["", "state", "state,href"])
def test_fields_shows_what_a_listing_shows_of_the_resource(
    http: httpx.Client, token: str, paths: dict[str, tuple[str, str]], resource: str, fields: str
) -> None:
    path, listing = paths[resource]
    one = http.get(path, params={"fields": fields}, headers=auth(token))
    listed = http.get(listing, params={"fields": fields}, headers=auth(token))
    assert one.status_code == listed.status_code == 200, (one.text, listed.text)
    assert [one.json()] == listed.json()
    assert set(one.json()) == {"id", "href", *filter(None, fields.split(","))}
