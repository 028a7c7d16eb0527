"""tmf-productorder's hot route (dialects/tmf_productorder/hot_routes.py) answers exactly as its FastAPI
route does.

Each request below goes to the application twice, once with the hot paths and once without, over the
same services and database; status, headers and body must be identical (new orders' numbers, dates and
ids aside).
"""

from __future__ import annotations

import gzip
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from orderhub.bootstrap import Services
from orderhub.domain.errors import TooManyAttempts
from orderhub.services import sign_ins
from orderhub.services.demo import demo_credentials
from orderhub.services.ports import DatabaseUnavailable
from tests.api.hot_path_support import ask, ask_fresh, demo_services

PATH = "/emida-ux-lcr/emida-ux/v1/CR/productOrder"
SHORT_PATH = "/emida-ux/v1/CR/productOrder"
ONE, TWO = demo_credentials()["tmf-productorder"][:2]
NEW = re.compile(
    rb"ORD-\d{14}-\d{4}|\d{4}-\d\d-\d\dT[0-9:.]+[-+]\d\d:\d\d|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    with demo_services(tmp_path_factory.mktemp("hot-tmf") / "orderhub.db", inventory_size=20) as built:
        yield built


@pytest.fixture(autouse=True)
def no_sign_in_lockout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The failed sign-ins of the cases below would lock the demo client out part way through, and a
    lockout's Retry-After counts down between the two apps' answers (it differs across a second
    boundary): the 429 is compared on its own, with a fixed delay."""
    monkeypatch.setattr(sign_ins, "FAILURES_PER_CLIENT_AND_SOURCE", 1_000_000)
    monkeypatch.setattr(sign_ins, "FAILURES_PER_CLIENT", 1_000_000)
    monkeypatch.setattr(sign_ins, "FAILURES_PER_SOURCE", 1_000_000)


def _masked(text: bytes) -> bytes:
    return NEW.sub(b"<new>", text)


def _comparable(answer: httpx.Response) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    # The echoed X-Correlation-ID stays in, in its place: only an id generated for a malformed one differs.
    headers = [(k, _masked(v)) for k, v in answer.headers.raw]
    return answer.status_code, headers, _masked(answer.content)


def _headers(channel: dict[str, Any] = ONE, correlation: str | None = "hot-tmf", **extra: str) -> dict[str, str]:
    headers = {
        "client_id": str(channel["client_id"]),
        "client_secret": str(channel["client_secret"]),
        "Content-Type": "application/json",
        **extra,
    }
    if correlation is not None:
        headers["X-Correlation-ID"] = correlation
    return headers


def _order(msisdn: str = "69877689", plan_type: str = "Addon", offering: str = "OFFER-DP-001", **top: Any) -> bytes:
    characteristics = [{"name": "MSISDN", "value": msisdn}, {"name": "planType", "value": plan_type}]
    item = {"product": {"productOffering": {"id": offering}, "productCharacteristic": characteristics}}
    return json.dumps({"category": "esimPrepaid", "productOrderItem": [item], **top}).encode()


def _without(name: str) -> dict[str, str]:
    return {k: v for k, v in _headers().items() if k != name}


REFUSED: list[tuple[str, dict[str, Any]]] = [
    ("no correlation id", {"headers": _headers(correlation=None), "content": _order()}),
    ("blank correlation id", {"headers": _headers(correlation="  "), "content": _order()}),
    ("long correlation id", {"headers": _headers(correlation="c" * 201), "content": _order()}),
    ("correlation id with a space", {"headers": _headers(correlation="a b"), "content": _order()}),
    ("no client_id", {"headers": _without("client_id"), "content": _order()}),
    ("short client_secret", {"headers": {**_headers(), "client_secret": "abc"}, "content": _order()}),
    ("wrong client_secret", {"headers": {**_headers(), "client_secret": "not-the-secret"}, "content": _order()}),
    ("unknown client", {"headers": {**_headers(), "client_id": "nobody-at-all"}, "content": _order()}),
    ("long idempotency key", {"headers": _headers(**{"Idempotency-Key": "k" * 256}), "content": _order()}),
    ("long key and bad body", {"headers": _headers(**{"Idempotency-Key": "k" * 256}), "content": b"{"}),
    (
        "long key and bad credentials",
        {"headers": {**_headers(), "client_secret": "not-it!", "Idempotency-Key": "k" * 256}, "content": _order()},
    ),
    ("bad credentials and bad body", {"headers": {**_headers(), "client_secret": "not-it!"}, "content": b"{"}),
    ("empty body", {"headers": _headers(), "content": b""}),
    ("invalid json", {"headers": _headers(), "content": b'{"category": '}),
    ("nan", {"headers": _headers(), "content": _order().replace(b'"esimPrepaid"', b"NaN")}),
    ("list body", {"headers": _headers(), "content": b"[]"}),
    ("string body", {"headers": _headers(), "content": b'"x"'}),
    ("null body", {"headers": _headers(), "content": b"null"}),
    ("no items", {"headers": _headers(), "content": b'{"category": "esimPrepaid"}'}),
    ("unknown offering", {"headers": _headers(), "content": _order(offering="OFFER-NOPE")}),
    ("wrong plan type", {"headers": _headers(), "content": _order(plan_type="Everything")}),
    ("unknown line", {"headers": _headers(), "content": _order(msisdn="11111111")}),
    ("not json content type", {"headers": {**_headers(), "Content-Type": "text/plain"}, "content": _order()}),
    ("too large", {"headers": _headers(), "content": b" " * 5000}),
    ("compressed", {"headers": {**_headers(), "Content-Encoding": "gzip"}, "content": gzip.compress(_order())}),
]


@pytest.mark.parametrize("case", [name for name, _ in REFUSED])
@pytest.mark.parametrize("path", [PATH, SHORT_PATH, PATH.replace("/CR/", "/XX/"), PATH.replace("/CR/", "/PA/")])
def test_a_refused_order_is_answered_alike(services: Services, case: str, path: str) -> None:
    request = dict(REFUSED)[case]
    fast = ask(services, True, "POST", path, **request)
    slow = ask(services, False, "POST", path, **request)
    assert fast.status_code >= 400, fast.text
    assert _comparable(fast) == _comparable(slow)


def test_a_business_unit_of_another_channel_is_refused_alike(services: Services) -> None:
    # demo-channel-2 orders under PA, demo-channel-1 does not.
    request = {"headers": _headers(ONE), "content": _order()}
    fast = ask(services, True, "POST", PATH.replace("/CR/", "/PA/"), **request)
    slow = ask(services, False, "POST", PATH.replace("/CR/", "/PA/"), **request)
    assert fast.status_code == 403 and _comparable(fast) == _comparable(slow)


@pytest.mark.parametrize("path", [PATH, SHORT_PATH])
def test_an_order_its_replay_and_a_conflicting_retry_are_answered_alike(services: Services, path: str) -> None:
    answers: dict[bool, list[httpx.Response]] = {True: [], False: []}
    for hot in (True, False):
        correlation = str(uuid.uuid4())  # one per app, masked as a new id in the comparison
        for body, key in ((_order(), "key"), (_order(), "key"), (_order(plan_type="DataPlan"), "other")):
            headers = _headers(TWO, correlation=correlation, **{"Idempotency-Key": f"{key}-{hot}-{path}"})
            answers[hot].append(ask(services, hot, "POST", path, headers=headers, content=body))
    fast, slow = answers[True], answers[False]
    assert [answer.status_code for answer in fast] == [201, 201, 409]
    assert fast[1].headers["Idempotent-Replayed"] == "true"
    assert fast[1].json() == fast[0].json()  # the first order again
    assert [_comparable(answer) for answer in fast] == [_comparable(answer) for answer in slow]


@pytest.mark.parametrize("business_id", ["C%0DR", "C%20R", "%C3%87R", "C%25R", "C:R"])
def test_odd_business_ids_the_route_takes_are_answered_alike(services: Services, business_id: str) -> None:
    path = PATH.replace("/CR/", f"/{business_id}/")
    request = {"headers": _headers(correlation=f"odd-{business_id}"), "content": _order()}
    fast = ask(services, True, "POST", path, **request)
    slow = ask(services, False, "POST", path, **request)
    assert fast.status_code == 404 and _comparable(fast) == _comparable(slow)


def _failing(exc: Exception) -> Any:
    async def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise exc

    return fail


@pytest.mark.parametrize(
    ("service", "method", "exc", "status"),
    [
        ("auth", "verify_client", TooManyAttempts("too many failed sign-ins; retry later", retry_after=42), 429),
        ("lines", "business_unit", DatabaseUnavailable("locked", retry_after=3), 503),
        ("ordering", "place", DatabaseUnavailable("locked", retry_after=2), 503),
        ("ordering", "place", RuntimeError("a bug"), 500),
        ("lines", "business_unit", RuntimeError("a bug"), 500),
    ],
)
def test_a_lockout_an_unavailable_database_and_a_bug_are_answered_alike(
    services: Services, monkeypatch: pytest.MonkeyPatch, service: str, method: str, exc: Exception, status: int
) -> None:
    monkeypatch.setattr(getattr(services, service), method, _failing(exc))
    request = {"headers": _headers(correlation=f"fail-{method}-{status}"), "content": _order()}
    # The configuration moves, as another process may move it: the caches must be checked again. On
    # PostgreSQL the hot route then takes the cached caller as far as the order's write, and calls the
    # failing service when its request starts over (services.auth.Caller).
    with services.uow_factory() as uow:
        uow.partners.bump_config_version()
        uow.commit()
    # Fresh applications, built after the patch: one built before may have taken the method already.
    fast = ask_fresh(services, True, "POST", PATH, **request)
    slow = ask_fresh(services, False, "POST", PATH, **request)
    assert fast.status_code == status and _comparable(fast) == _comparable(slow)


def test_a_source_locked_out_is_locked_out_alike(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    # The request's client address counts failed sign-ins in both apps: three from here lock it out.
    # The counts are the database's (services.sign_ins), not an application's: the module's apps will do.
    monkeypatch.setattr(sign_ins, "FAILURES_PER_SOURCE", 3)
    request = {"headers": {**_headers(correlation="locked"), "client_secret": "wrong-secret"}, "content": _order()}
    for _ in range(3):
        ask(services, False, "POST", PATH, **request)
    fast = ask(services, True, "POST", PATH, **request)
    slow = ask(services, False, "POST", PATH, **request)
    assert fast.status_code == 429
    # Retry-After counts down between the two answers: equal, or one second apart across a boundary.
    waits = [int(answer.headers["Retry-After"]) for answer in (fast, slow)]
    assert waits[0] - waits[1] in (0, 1)
    status, headers, body = _comparable(fast)
    headers = [(k, slow.headers["Retry-After"].encode() if k == b"retry-after" else v) for k, v in headers]
    assert (status, headers, body) == _comparable(slow)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", PATH + "/"),
        ("PUT", PATH),
        ("GET", PATH),
        ("POST", "/emida-ux-lcr/emida-ux/v1//productOrder"),
        # The app's mount does not take a newline inside the path: 404 without the route.
        ("POST", PATH.replace("/CR/", "/C%0AR/")),
        ("POST", PATH.replace("/CR/", "/CR%0A/")),
        ("POST", PATH + "%0A"),
    ],
)
def test_what_the_hot_route_does_not_claim_is_the_frameworks(services: Services, method: str, path: str) -> None:
    request = {"headers": _headers(correlation=f"{method}-{path}"), "content": _order()}
    fast = ask(services, True, method, path, **request)
    slow = ask(services, False, method, path, **request)
    assert _comparable(fast) == _comparable(slow)


@pytest.mark.parametrize("prefix", ["/emida-ux-lcr/emida-ux/v1", "/emida-ux/v1"])
def test_the_served_openapi_document_is_the_frameworks(services: Services, prefix: str) -> None:
    fast = ask(services, True, "GET", f"{prefix}/openapi.json")
    slow = ask(services, False, "GET", f"{prefix}/openapi.json")
    assert fast.status_code == 200
    assert _comparable(fast) == _comparable(slow)
    assert "/{business_id}/productOrder" in fast.json()["paths"]


@pytest.mark.parametrize(
    ("method", "path", "claimed"),
    [
        ("POST", PATH, True),
        ("POST", SHORT_PATH, True),
        ("POST", PATH + "/", False),
        ("POST", "/emida-ux-lcr/emida-ux/v1//productOrder", False),
        ("POST", "/emida-ux-lcr/emida-ux/v1/CR/x/productOrder", False),
        ("POST", "/emida-ux-lcr/emida-ux/v1/C\nR/productOrder", False),
        ("POST", "/emida-ux/v1/C\rR/productOrder", True),  # as the app's route does (odd business ids)
        ("GET", PATH, False),
        ("HEAD", PATH, False),
        ("POST", "/esim/v1/order", False),
    ],
)
def test_the_hot_route_claims_exactly_the_post_it_stands_in_for(
    services: Services, method: str, path: str, claimed: bool
) -> None:
    # The comparisons above would pass with no hot route at all: this says the POST does take it.
    from orderhub.api.app import dialect_context
    from orderhub.dialects import TMF_PRODUCTORDER

    assert TMF_PRODUCTORDER.create_hot_routes is not None
    claims, _stack = TMF_PRODUCTORDER.create_hot_routes(dialect_context(services))
    assert (claims({"type": "http", "method": method, "path": path}) is not None) is claimed
