"""A partner's rate limit (`orderhub partner set-rate-limit`) on every API, one budget per partner: past
it, a 429 in the API's own error shape with Retry-After. Each sequence of requests goes to a fresh
application twice, once with the hot paths and once without (each with a rate limiter of its own; on
PostgreSQL the shared buckets are emptied between them): the answers must be identical.
onapi-order's own: tests/api/test_onapi.py, test_hot_paths_onapi.py."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from orderhub.bootstrap import Services
from orderhub.store.tables import rate_limit_buckets
from tests.api.hot_path_support import ask, demo_services, session
from tests.api.support import new_esim_body

UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
Request = tuple[str, str, dict[str, Any]]


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    with demo_services(tmp_path_factory.mktemp("rate-limits") / "orderhub.db", inventory_size=50) as built:
        yield built


def _comparable(answer: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in answer.headers.multi_items() if k != "x-correlation-id"]
    return answer.status_code, headers, UUID.sub(b"<uuid>", answer.content)


def _alike(services: Services, requests: list[Request], limits: dict[str, int]) -> list[httpx.Response]:
    """The answers to ``requests`` with the partners' ``limits`` set, the same with and without hot paths."""
    for partner, per_minute in limits.items():
        services.partners.set_rate_limit(partner, per_minute)
    try:
        fast = session(services, True, requests, fresh=True)
        with services.engine.begin() as connection:
            connection.execute(sa.delete(rate_limit_buckets))
        slow = session(services, False, requests, fresh=True)
    finally:
        for partner in limits:
            services.partners.set_rate_limit(partner, None)
        with services.engine.begin() as connection:
            connection.execute(sa.delete(rate_limit_buckets))
    assert [_comparable(answer) for answer in fast] == [_comparable(answer) for answer in slow]
    return fast


def _token(services: Services, client_id: str) -> str:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": f"{client_id}-secret"}
    answer = ask(services, False, "POST", "/oauth2/token", data=form)
    return str(answer.json()["access_token"])


def _retry_after(answer: httpx.Response) -> int:
    return int(answer.headers["Retry-After"])


# esim-v1 -------------------------------------------------------------------------------------------------


def _esim(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Correlation-ID": "rate-limit", "Content-Type": "application/json"}


def _esim_order(token: str) -> Request:
    body = json.dumps(new_esim_body("rate@example.com")).encode()
    return ("POST", "/esim/v1/order", {"headers": _esim(token), "content": body})


def _esim_get(token: str, path: str) -> Request:
    return ("GET", f"/esim/v1{path}", {"headers": _esim(token)})


def test_an_esim_partner_past_its_limit_gets_429_in_the_esim_shape(services: Services) -> None:
    one, two = _token(services, "demo-reseller-1"), _token(services, "demo-reseller-2")
    requests = [
        _esim_get(one, "/product"),  # a framework route
        _esim_order(one),  # the hot routes: POST and GET both count
        _esim_get(one, "/order/no-such-order"),
        _esim_get(one, "/order/no-such-order"),
        _esim_order(one),
        _esim_get(one, "/product"),
        _esim_get(two, "/product"),  # another partner: its own budget
    ]
    answers = _alike(services, requests, {"demo-reseller-1": 3})
    assert [a.status_code for a in answers] == [200, 201, 404, 429, 429, 429, 200]
    for refused in answers[3:6]:
        assert refused.json() == {
            "type": "TOO_MANY_REQUESTS",
            "messages": [
                "too many requests: the partner's limit of requests a minute is used up; "
                "retry after the Retry-After delay"
            ],
        }
        assert _retry_after(refused) >= 1


def test_an_esim_partner_with_no_limit_is_never_refused(services: Services) -> None:
    token = _token(services, "demo-reseller-2")
    requests = [_esim_get(token, "/order/no-such-order"), _esim_get(token, "/product"), _esim_order(token)] * 5
    answers = _alike(services, requests, {"demo-reseller-1": 1})
    assert {a.status_code for a in answers} == {201, 200, 404}
