"""The hot routes (api.hot_paths) answer exactly as the FastAPI routes they stand in for.

Each request below goes to the application twice, once with the hot paths and once without, over the
same services and database; status, headers and body must be identical (ids of new orders aside).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from orderhub.bootstrap import Services
from tests.api.hot_path_support import ask, demo_services
from tests.api.seed_001 import DATAPLAN
from tests.api.support import SEED_PRODUCT, new_esim_body

UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
LONG_KEY = "k" * 256


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    with demo_services(tmp_path_factory.mktemp("hot") / "orderhub.db", inventory_size=50) as built:
        yield built


_TOKENS: dict[int, str] = {}


def _token(services: Services) -> str:
    """demo-reseller-1's token, issued once per module's services (a sign-in checks a slow hash)."""
    if id(services) not in _TOKENS:
        _TOKENS[id(services)] = _new_token(services)
    return _TOKENS[id(services)]


def _new_token(services: Services) -> str:
    answer = ask(
        services,
        False,
        "POST",
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "demo-reseller-1",
            "client_secret": "demo-reseller-1-secret",
        },
    )
    return str(answer.json()["access_token"])


def _comparable(answer: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in answer.headers.multi_items() if k != "x-correlation-id"]
    return answer.status_code, headers, UUID.sub(b"<uuid>", answer.content)


def _json_headers(token: str | None = None, **extra: str) -> dict[str, str]:
    headers = {"X-Correlation-ID": "hot-path-test", "Content-Type": "application/json", **extra}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _body(**subscription: Any) -> bytes:
    import json

    return json.dumps(new_esim_body("hot@example.com", **subscription)).encode()


POSTS: list[tuple[str, dict[str, Any]]] = [
    ("no correlation id", {"headers": {"Content-Type": "application/json"}, "content": b"{}"}),
    ("no token", {"headers": _json_headers(), "content": _body()}),
    ("bad token", {"headers": _json_headers("nope"), "content": _body()}),
    ("basic scheme", {"headers": {**_json_headers(), "Authorization": "Basic abc"}, "content": _body()}),
    ("invalid json before auth", {"headers": _json_headers(), "content": b"{not json"}),
    ("invalid json", {"headers": _json_headers("TOKEN"), "content": b'{"input": '}),
    ("empty body", {"headers": _json_headers("TOKEN"), "content": b""}),
    ("null body", {"headers": _json_headers("TOKEN"), "content": b"null"}),
    ("list body", {"headers": _json_headers("TOKEN"), "content": b"[]"}),
    ("string body", {"headers": _json_headers("TOKEN"), "content": b'"x"'}),
    ("nan price", {"headers": _json_headers("TOKEN"), "content": _body().replace(b'"price": 10', b'"price": NaN')}),
    (
        "huge int price",
        {"headers": _json_headers("TOKEN"), "content": _body().replace(b'"price": 10', b'"price": ' + b"9" * 30)},
    ),
    (
        "price beyond a double",
        {"headers": _json_headers("TOKEN"), "content": _body().replace(b'"price": 10', b'"price": 1e400')},
    ),
    (
        "310-digit price",
        {"headers": _json_headers("TOKEN"), "content": _body().replace(b'"price": 10', b'"price": 1' + b"0" * 309)},
    ),
    (
        "fraction past 14 digits",
        {
            "headers": _json_headers("TOKEN"),
            "content": _body().replace(b'"price": 10', b'"price": 9.99999999999999999'),
        },
    ),
    (
        "fraction past 4 decimals",
        {"headers": _json_headers("TOKEN"), "content": _body().replace(b'"price": 10', b'"price": 10.00001')},
    ),
    (
        "big number in an ignored field",
        {"headers": _json_headers("TOKEN"), "content": _body().replace(b'"price": 10', b'"price": 10, "x": 1e999')},
    ),
    (
        "big number and NaN",
        {"headers": _json_headers("TOKEN"), "content": _body().replace(b'"price": 10', b'"price": 1e400, "x": NaN')},
    ),
    (
        "NUL in a field",
        {"headers": _json_headers("TOKEN"), "content": _body().replace(b'"iPhone"', b'"iPh\\u0000one"')},
    ),
    (
        "NUL in an ignored key",
        {"headers": _json_headers("TOKEN"), "content": _body().replace(b'"price": 10', b'"price": 10, "\\u0000": 1')},
    ),
    ("latin-1 bytes", {"headers": _json_headers("TOKEN"), "content": b'{"input": "\xe9"}'}),
    ("utf-16 body", {"headers": _json_headers("TOKEN"), "content": '{"input": 1}'.encode("utf-16")}),
    ("missing input", {"headers": _json_headers("TOKEN"), "content": b"{}"}),
    ("wrong types", {"headers": _json_headers("TOKEN"), "content": b'{"input": {"operationType": 5, "customer": []}}'}),
    ("numeric date", {"headers": _json_headers("TOKEN"), "content": _body(activationDate=1700000000)}),
    ("numeric string date", {"headers": _json_headers("TOKEN"), "content": _body(activationDate="1800000000")}),
    ("arabic-indic price", {"headers": _json_headers("TOKEN"), "content": _body(price="\u0661\u0660")}),
    ("past date", {"headers": _json_headers("TOKEN"), "content": _body(activationDate="2020-01-01T00:00:00Z")}),
    ("unknown product", {"headers": _json_headers("TOKEN"), "content": _body(id="no-such-product")}),
    ("two product spellings", {"headers": _json_headers("TOKEN"), "content": _body(product_id="esim-world-1gb-7d")}),
    (
        "deprecated spelling and past date",
        {"headers": _json_headers("TOKEN"), "content": _body(allowanceId="x", activationDate="2020-01-01T00:00:00Z")},
    ),
    (
        "deprecated spelling and refused field",
        {"headers": _json_headers("TOKEN"), "content": _body(allowanceId="x", price="ten")},
    ),
    ("price without currency", {"headers": _json_headers("TOKEN"), "content": _body(currency=None)}),
    ("empty idempotency key", {"headers": _json_headers("TOKEN", **{"Idempotency-Key": ""}), "content": _body()}),
    (
        "long key and bad body",
        {"headers": _json_headers("TOKEN", **{"Idempotency-Key": LONG_KEY}), "content": b'{"input": {}}'},
    ),
    (
        "not json content type",
        {"headers": {**_json_headers("TOKEN"), "Content-Type": "text/plain"}, "content": _body()},
    ),
    ("too large", {"headers": _json_headers("TOKEN"), "content": b" " * 5000}),
    (
        "compressed body",
        {"headers": {**_json_headers("TOKEN"), "Content-Encoding": "gzip"}, "content": gzip.compress(_body())},
    ),
    (
        "topup of unknown customer",
        {"headers": _json_headers("TOKEN"), "content": _body().replace(b'"NEW_ESIM"', b'"TOPUP"')},
    ),
]


@pytest.mark.parametrize("case", [name for name, _ in POSTS])
def test_a_refused_order_is_answered_alike(services: Services, case: str) -> None:
    request = dict(POSTS)[case]
    token = _token(services)
    if request["headers"].get("Authorization") == "Bearer TOKEN":
        request = {**request, "headers": {**request["headers"], "Authorization": f"Bearer {token}"}}
    fast = ask(services, True, "POST", "/esim/v1/order", **request)
    slow = ask(services, False, "POST", "/esim/v1/order", **request)
    assert fast.status_code >= 400, fast.text
    assert _comparable(fast) == _comparable(slow)


@pytest.mark.parametrize("authorization", [None, "Bearer nope", "Basic abc", "CHANNEL"])
def test_a_refused_caller_is_told_of_deprecated_spellings_alike(services: Services, authorization: str | None) -> None:
    if authorization == "CHANNEL":  # a partner without an eSIM ordering role: 403
        form = {
            "grant_type": "client_credentials",
            "client_id": "demo-channel-1",
            "client_secret": "demo-channel-1-secret",
        }
        authorization = "Bearer " + ask(services, False, "POST", "/oauth2/token", data=form).json()["access_token"]
    extra = {"Authorization": authorization} if authorization else {}
    request = {"headers": _json_headers(**extra), "content": _body(allowanceId=SEED_PRODUCT, id=None)}
    fast = ask(services, True, "POST", "/esim/v1/order", **request)
    slow = ask(services, False, "POST", "/esim/v1/order", **request)
    assert fast.status_code in (401, 403), fast.text
    assert fast.headers["X-Deprecated-Fields"] == "subscriptions.allowanceId"
    assert _comparable(fast) == _comparable(slow)


def test_an_accepted_order_is_answered_alike(services: Services) -> None:
    token = _token(services)
    body = _body(allowanceId=SEED_PRODUCT, id=None)  # a deprecated spelling: Deprecation headers too
    for key in ("hot-1", "hot-1"):  # the second time, a replay
        fast = ask(
            services,
            True,
            "POST",
            "/esim/v1/order",
            headers=_json_headers(token, **{"Idempotency-Key": key}),
            content=body,
        )
        slow = ask(
            services,
            False,
            "POST",
            "/esim/v1/order",
            headers=_json_headers(token, **{"Idempotency-Key": key + "s"}),
            content=body,
        )
        assert fast.status_code == 201
        assert _comparable(fast) == _comparable(slow)


def test_an_order_priced_in_a_fraction_is_accepted_alike(services: Services) -> None:
    # A fraction is read again as written (hot_routes.body_to_check), by both routes.
    content = _body().replace(b'"price": 10', b'"price": 10.50')
    fast = ask(services, True, "POST", "/esim/v1/order", headers=_json_headers(_token(services)), content=content)
    slow = ask(services, False, "POST", "/esim/v1/order", headers=_json_headers(_token(services)), content=content)
    assert fast.status_code == 201, fast.text
    assert _comparable(fast) == _comparable(slow)


@pytest.mark.parametrize(
    "path",
    [
        "/esim/v1/order/{own}",
        "/esim/v1/order/{own}/",
        "/esim/v1/order/unknown",
        "/esim/v1/order/with%20space",
        "/esim/v1/order/{other}",
        "/esim/v1/order/a%0Ab",
        "/esim/v1/order/a%0Db",
    ],
)
def test_an_order_read_is_answered_alike(services: Services, path: str) -> None:
    token = _token(services)
    placed = ask(services, True, "POST", "/esim/v1/order", headers=_json_headers(token), content=_body()).json()
    other_token = ask(
        services,
        False,
        "POST",
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "demo-reseller-2",
            "client_secret": "demo-reseller-2-secret",
        },
    ).json()["access_token"]
    others = ask(
        services, True, "POST", "/esim/v1/order", headers=_json_headers(other_token), content=_body(currency="USD")
    ).json()
    url = path.format(own=placed["id"], other=others["id"])
    # The first read twice: the hot route answers a read it has answered before from its own cache.
    for headers in (
        _json_headers(token),
        _json_headers(token),
        _json_headers(None),
        {"Authorization": f"Bearer {token}"},
    ):
        fast = ask(services, True, "GET", url, headers=headers)
        slow = ask(services, False, "GET", url, headers=headers)
        assert _comparable(fast) == _comparable(slow)


def test_another_apis_order_is_not_found_alike(services: Services) -> None:
    # A partner that orders eSIMs and line products: esim-v1 shows it only its eSIM orders.
    services.partners.create_partner(
        "hot-mixed",
        name="hot-mixed",
        roles=["RESELLER", "BUSINESS_CHANNEL"],
        currencies=["USD"],
        product_ids=[SEED_PRODUCT],
        business_unit_ids=["CR"],
    )
    issued = services.partners.issue_credential("hot-mixed")
    credentials = {"client_id": issued.client_id, "client_secret": issued.client_secret}
    form = {"grant_type": "client_credentials", **credentials}
    token = ask(services, False, "POST", "/oauth2/token", data=form).json()["access_token"]
    line = ask(
        services,
        False,
        "POST",
        "/emida-ux/v1/CR/productOrder",
        headers={**credentials, "X-Correlation-ID": "hot-mixed", "Content-Type": "application/json"},
        content=DATAPLAN.encode(),
    )
    assert line.status_code == 201, line.text
    with services.uow_factory(read_only=True) as uow:
        order = uow.orders.get_by_reference(line.json()["id"])
    assert order is not None
    for _ in range(2):  # the second time, after the hot route had a chance to keep what it answered
        fast = ask(services, True, "GET", f"/esim/v1/order/{order.id}", headers=_json_headers(token))
        slow = ask(services, False, "GET", f"/esim/v1/order/{order.id}", headers=_json_headers(token))
        assert fast.status_code == 404, fast.text
        assert _comparable(fast) == _comparable(slow)


def test_the_served_openapi_document_is_the_frameworks(services: Services) -> None:
    fast = ask(services, True, "GET", "/esim/v1/openapi.json")
    slow = ask(services, False, "GET", "/esim/v1/openapi.json")
    assert fast.status_code == 200
    assert fast.json() == slow.json()
    assert set(fast.json()["paths"]) >= {"/order", "/order/{order_id}"}
