"""TMF622 takes RFC 3339 date-times only, in every date it reads, as its errors say: Python's
fromisoformat took a space for the "T", week dates and ISO 8601's basic format, so "2027-01-01 00:00:00Z"
or "20270101T000000Z" made orders (201) where the answer to "tomorrow" said an RFC 3339 date-time was due."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.support import RunningServer, get_token, running_server
from tests.api.test_tmf622 import BASE, CHANNELS, auth, create, later, order_body

NEXT_YEAR = datetime.now(UTC).year + 1
# ISO 8601 that is not RFC 3339: a space for the "T", a week date, the basic format, no seconds, a comma
# before the fraction, an offset without its colon or its minutes.
NOT_RFC_3339 = [
    f"{NEXT_YEAR}-01-01 00:00:00Z",
    f"{NEXT_YEAR}-W01-1T00:00:00Z",
    f"{NEXT_YEAR}0101T000000Z",
    f"{NEXT_YEAR}-01-01T00:00Z",
    f"{NEXT_YEAR}-01-01T00:00:00,5Z",
    f"{NEXT_YEAR}-01-01T00:00:00+0200",
    f"{NEXT_YEAR}-01-01T00:00:00+02",
]
MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    server: RunningServer
    with running_server(Path(tmp_path_factory.mktemp("dates")) / "o.db") as server, server.client() as client:
        yield client


@pytest.fixture(scope="module")
def token(http: httpx.Client) -> str:
    return get_token(http, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))


def assert_refused(answer: httpx.Response, field: str) -> None:
    assert answer.status_code == 400, answer.text
    assert answer.json()["message"].startswith(f"{field} must be an RFC 3339 date-time"), answer.text


@pytest.mark.parametrize("written", NOT_RFC_3339)
def test_a_date_time_rfc_3339_does_not_spell_is_refused_in_every_date_field(
    http: httpx.Client, token: str, written: str
) -> None:
    past = written.replace(str(NEXT_YEAR), "2020")
    sent: list[tuple[str, dict[str, Any]]] = [
        ("requestedStartDate", order_body(requestedStartDate=written)),
        ("requestedCompletionDate", order_body(requestedCompletionDate=written)),
        ("note[0].date", order_body(note=[{"text": "call first", "date": written}])),
    ]
    for field, body in sent:
        assert_refused(http.post(f"{BASE}/productOrder", json=body, headers=auth(token)), field)
    pending = create(http, token, order_body(requestedStartDate=later(30)))
    path = f"{BASE}/productOrder/{pending['id']}"
    assert_refused(
        http.patch(path, json={"requestedStartDate": written}, headers=auth(token, **MERGE)), "requestedStartDate"
    )
    ask = {"productOrder": {"id": pending["id"]}, "requestedCancellationDate": past}
    assert_refused(http.post(f"{BASE}/cancelProductOrder", json=ask, headers=auth(token)), "requestedCancellationDate")
    listed = http.get(f"{BASE}/productOrder", params={"orderDate": past}, headers=auth(token))
    assert_refused(listed, "orderDate")
    assert http.get(path, headers=auth(token)).json()["state"] == "pending"  # nothing of it was taken


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        (f"{NEXT_YEAR}-01-01T00:00:00Z", f"{NEXT_YEAR}-01-01T00:00:00.000Z"),
        (f"{NEXT_YEAR}-01-01t02:00:00.123456789+02:00", f"{NEXT_YEAR}-01-01T00:00:00.123Z"),
        (f"{NEXT_YEAR}-01-01T00:00:00-00:00", f"{NEXT_YEAR}-01-01T00:00:00.000Z"),
    ],
)
def test_rfc_3339_date_times_are_taken_in_any_offset_and_case(
    http: httpx.Client, token: str, written: str, shown: str
) -> None:
    order = create(http, token, order_body(requestedStartDate=written))
    assert order["state"] == "pending" and order["requestedStartDate"] == shown


def test_a_date_time_without_an_offset_is_told_what_it_lacks(http: httpx.Client, token: str) -> None:
    answer = http.post(
        f"{BASE}/productOrder", json=order_body(requestedStartDate=f"{NEXT_YEAR}-01-01T00:00:00"), headers=auth(token)
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["message"] == "requestedStartDate must carry a time zone (Z or an offset)"
