"""ON-API's hot route (dialects/onapi/hot_routes.py) answers exactly as its FastAPI route does.

Each request below goes to the application twice, once with the hot paths and once without, over the
same services and database; status, headers and body must be identical.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from orderhub.bootstrap import Services
from orderhub.services.demo import demo_credentials
from orderhub.store.tables import rate_limit_buckets
from tests.api.hot_path_support import ask, demo_services, session

ORDER = "/2.5/sp_spec/order/"
ACME, FIBRA = demo_credentials()["onapi-order"][:2]


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    with demo_services(tmp_path_factory.mktemp("hot-onapi") / "orderhub.db", inventory_size=20) as built:
        yield built


def _comparable(answer: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in answer.headers.multi_items() if k != "x-correlation-id"]
    return answer.status_code, headers, answer.content


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _headers(operator: dict[str, Any] = ACME, **extra: str) -> dict[str, str]:
    authorization = _basic(str(operator["username"]), str(operator["password"]))
    return {"Authorization": authorization, "Content-Type": "application/json", **extra}


def _when(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def onapi_order(access: str = "access-free-5", co: str = "Acme", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "coId": co,
        "coAccessId": access,
        "operation": "ACTIVATE",
        "orderDateTime": "2021-05-03T20:31:15Z",
        "requestedDateTime": _when(-60),
        "products": [{"productId": "fiber-internet", "offeringId": "1000-1000"}],
        "customerDetails": {
            "identifiedCustomer": True,
            "personalIdentityNumber": "19121212-1212",
            "customerFirstname": "Anna",
            "customerLastName": "Berg",
            "customerPhone": "+46812345678",
            "customerMobilePhone": "+46701234567",
            "customerEmail": "anna@example.se",
            "invoiceDetails": {"postalCode": "12345", "city": "Stockholm", "streetName": "Storgatan"},
        },
    }
    body.update(fields)
    return body


def _content(body: Any) -> bytes:
    return json.dumps(body).encode()


REFUSED: list[tuple[str, dict[str, Any]]] = [
    ("no authorization", {"headers": {"Content-Type": "application/json"}, "content": _content(onapi_order())}),
    ("bearer scheme", {"headers": {**_headers(), "Authorization": "Bearer abc"}, "content": _content(onapi_order())}),
    ("bad base64", {"headers": {**_headers(), "Authorization": "Basic %%%"}, "content": _content(onapi_order())}),
    (
        "no colon",
        {"headers": {**_headers(), "Authorization": "Basic " + base64.b64encode(b"acme").decode()}, "content": b"{}"},
    ),
    (
        "wrong password",
        {"headers": {**_headers(), "Authorization": _basic("demo-co-acme", "nope")}, "content": b"{}"},
    ),
    (
        "not an operator",
        {
            "headers": {**_headers(), "Authorization": _basic("demo-channel-1", "demo-channel-1-secret")},
            "content": b"{}",
        },
    ),
    ("long idempotency key", {"headers": _headers(**{"Idempotency-Key": "k" * 256}), "content": b"{"}),
    ("empty body", {"headers": _headers(), "content": b""}),
    ("invalid json", {"headers": _headers(), "content": b'{"coId": '}),
    ("list body", {"headers": _headers(), "content": b"[]"}),
    ("invalid json, in swedish", {"headers": _headers(FIBRA), "content": b'{"coId": NaN}'}),
    ("nested past the bound", {"headers": _headers(FIBRA), "content": b"[" * 70 + b"]" * 70}),
    ("invalid json, no authorization", {"headers": {"Content-Type": "application/json"}, "content": b"{"}),
    ("string body", {"headers": _headers(), "content": b'"x"'}),
    ("null body", {"headers": _headers(), "content": b"null"}),
    ("missing fields", {"headers": _headers(), "content": b'{"coId": "Acme"}'}),
    ("seed personal number", {"headers": _headers(), "content": _content(onapi_order(customerDetails={}))}),
    (
        "swedish operator's error",
        {"headers": _headers(FIBRA), "content": _content(onapi_order(co="Fibra", products=[]))},
    ),
    ("another co's id", {"headers": _headers(), "content": _content(onapi_order(co="Fibra"))}),
    ("unknown access", {"headers": _headers(), "content": _content(onapi_order("no-such-access"))}),
    ("malformed date", {"headers": _headers(), "content": _content(onapi_order(requestedDateTime="tomorrow"))}),
    ("too far ahead", {"headers": _headers(), "content": _content(onapi_order(requestedDateTime=_when(86400 * 3654)))}),
    (
        "too far ahead, in swedish",
        {
            "headers": _headers(FIBRA),
            "content": _content(onapi_order(co="Fibra", requestedDateTime=_when(86400 * 3654))),
        },
    ),
    ("not json content type", {"headers": {**_headers(), "Content-Type": "text/plain"}, "content": b"{}"}),
    ("too large", {"headers": _headers(), "content": b" " * 5000}),
    (
        "compressed",
        {"headers": {**_headers(), "Content-Encoding": "gzip"}, "content": gzip.compress(_content(onapi_order()))},
    ),
    ("not offered", {"headers": _headers(), "content": _content(onapi_order(products=[{"productId": "x"}]))}),
    ("blocked access", {"headers": _headers(), "content": _content(onapi_order("access-blocked-1"))}),
    ("active access", {"headers": _headers(), "content": _content(onapi_order("access-active-1"))}),
    (
        "a nul in a name",
        {
            "headers": _headers(),
            "content": _content(
                onapi_order(customerDetails={**onapi_order()["customerDetails"], "customerFirstname": "A\u0000"})
            ),
        },
    ),
    (
        "a product twice",
        {"headers": _headers(), "content": _content(onapi_order(products=[onapi_order()["products"][0]] * 2))},
    ),
]


@pytest.mark.parametrize("case", [name for name, _ in REFUSED])
@pytest.mark.parametrize("path", [ORDER, ORDER.rstrip("/")])
def test_a_refused_order_is_answered_alike(services: Services, case: str, path: str) -> None:
    request = dict(REFUSED)[case]
    fast = ask(services, True, "POST", path, **request)
    slow = ask(services, False, "POST", path, **request)
    assert fast.status_code >= 400 or fast.json()["status"] == "REJECTED", fast.text
    assert _comparable(fast) == _comparable(slow)


@pytest.mark.parametrize(
    ("fast_access", "slow_access", "due"),
    [("access-free-1", "access-free-2", -60.0), ("access-free-3", "access-free-4", 86400.0)],
)
def test_an_order_and_its_replay_are_answered_alike(
    services: Services, fast_access: str, slow_access: str, due: float
) -> None:
    requested = _when(due)
    answers = {}
    for hot, access in ((True, fast_access), (False, slow_access)):
        body = _content(onapi_order(access, requestedDateTime=requested))
        request = {"headers": _headers(**{"Idempotency-Key": f"onapi-{access}"}), "content": body}
        answers[hot] = session(services, hot, [("POST", ORDER, request), ("POST", ORDER, request)])
    assert [answer.status_code for answer in answers[True]] == [200, 200]
    assert answers[True][0].json()["status"] == ("ACTIVATED" if due < 0 else "RECEIVED")
    assert [_comparable(answer) for answer in answers[True]] == [_comparable(answer) for answer in answers[False]]


def test_a_refusal_its_key_keeps_is_answered_alike(services: Services) -> None:
    answers = {}
    for hot in (True, False):
        headers = _headers(**{"Idempotency-Key": f"onapi-refused-{hot}"})
        refused = {"headers": headers, "content": _content(onapi_order("no-such-access"))}
        other = {"headers": headers, "content": _content(onapi_order(requestedDateTime=_when(86400)))}
        answers[hot] = session(
            services, hot, [("POST", ORDER, refused), ("POST", ORDER, refused), ("POST", ORDER, other)]
        )
    assert [answer.status_code for answer in answers[True]] == [200, 200, 409]
    assert answers[True][0].json()["status"] == "REJECTED" and answers[True][1].headers["Idempotent-Replayed"] == "true"
    assert [_comparable(answer) for answer in answers[True]] == [_comparable(answer) for answer in answers[False]]


@pytest.mark.parametrize(
    ("method", "path"), [("GET", ORDER), ("PUT", ORDER), ("POST", ORDER + "x"), ("POST", ORDER + "/"), ("HEAD", ORDER)]
)
def test_what_the_hot_route_does_not_claim_is_the_frameworks(services: Services, method: str, path: str) -> None:
    request = {"headers": _headers(), "content": _content(onapi_order())} if method != "HEAD" else {}
    fast = ask(services, True, method, path, **request)
    slow = ask(services, False, method, path, **request)
    assert _comparable(fast) == _comparable(slow)


def test_the_order_post_and_the_product_list_draw_on_one_rate_limit(services: Services) -> None:
    services.partners.set_rate_limit(str(FIBRA["partner"]), 3)
    try:
        products = ("GET", "/2.5/sp_spec/products/", {"headers": _headers(FIBRA)})
        # Valid JSON (a body the guard refuses never reaches the limit), refused by the route: 400.
        order = ("POST", ORDER, {"headers": _headers(FIBRA), "content": b"[]"})
        # Fresh applications: each with a rate limiter no earlier test has drawn on. On PostgreSQL two
        # applications draw on one bucket through the database, as two processes do: emptied between them.
        fast = session(services, True, [products, order, products, order], fresh=True)
        with services.engine.begin() as connection:
            connection.execute(sa.delete(rate_limit_buckets))
        slow = session(services, False, [products, order, products, order], fresh=True)
    finally:
        services.partners.set_rate_limit(str(FIBRA["partner"]), None)
    assert [answer.status_code for answer in fast] == [200, 400, 200, 429]
    assert int(fast[-1].headers["Retry-After"]) >= 1
    assert [_comparable(answer) for answer in fast] == [_comparable(answer) for answer in slow]


def test_the_hot_route_claims_the_two_order_paths_only(services: Services) -> None:
    # The comparisons above would pass with no hot route at all: this says the POST does take it.
    from orderhub.api.app import dialect_context
    from orderhub.dialects import ONAPI

    assert ONAPI.create_hot_routes is not None
    claims, _stack = ONAPI.create_hot_routes(dialect_context(services))
    claimed = [
        (m, p)
        for m in ("POST", "GET", "HEAD", "PUT")
        for p in (ORDER, ORDER[:-1], ORDER + "x", "/2.5/")
        if claims({"type": "http", "method": m, "path": p})
    ]
    assert claimed == [("POST", ORDER), ("POST", ORDER[:-1])]


def test_the_served_openapi_document_is_the_frameworks(services: Services) -> None:
    fast = ask(services, True, "GET", "/2.5/openapi.json")
    slow = ask(services, False, "GET", "/2.5/openapi.json")
    assert fast.status_code == 200
    assert fast.json() == slow.json()
    assert "/sp_spec/order/" in fast.json()["paths"]
