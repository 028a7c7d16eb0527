"""A partner's rate limit (`orderhub partner set-rate-limit`) on every API, one budget per partner: past
it, a 429 in the API's own error shape with Retry-After. Each sequence of requests goes to a fresh
application twice, once with the hot paths and once without (each with a rate limiter of its own; on
PostgreSQL the shared buckets are emptied between them): the answers must be identical.
onapi-order's own: tests/api/test_onapi.py, test_hot_paths_onapi.py."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from orderhub.bootstrap import Services
from orderhub.store.tables import rate_limit_buckets
from tests.api.hot_path_support import ask, demo_services, session
from tests.api.support import SEED_PRODUCT, new_esim_body

# New ids, order numbers and dates differ between the two applications' answers.
NEW = re.compile(
    rb"ORD-\d{14}-\d{4}|\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[-+]\d\d:\d\d)"
    rb"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)
Request = tuple[str, str, dict[str, Any]]

# A TMF refusal past the partner's limit, tmf-productorder's and TMF622's alike.
TMF_REFUSED = {
    "code": "TOO_MANY_REQUESTS",
    "reason": "Too Many Requests",
    "message": "too many requests: the partner's limit of requests a minute is used up; "
    "retry after the Retry-After delay",
    "status": "429",
}


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    with demo_services(tmp_path_factory.mktemp("rate-limits") / "orderhub.db", inventory_size=50) as built:
        yield built


def _comparable(answer: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, NEW.sub(b"<new>", v)) for k, v in answer.headers.raw if k.lower() != b"x-correlation-id"]
    return answer.status_code, headers, NEW.sub(b"<new>", answer.content)


def _alike(
    services: Services, requests: list[Request] | Callable[[], list[Request]], limits: dict[str, int]
) -> list[httpx.Response]:
    """The answers to ``requests`` (made anew for each application, when a function: new correlation ids)
    with the partners' ``limits`` set, the same with and without hot paths."""
    for partner, per_minute in limits.items():
        services.partners.set_rate_limit(partner, per_minute)
    try:
        fast = session(services, True, requests() if callable(requests) else requests, fresh=True)
        with services.engine.begin() as connection:
            connection.execute(sa.delete(rate_limit_buckets))
        slow = session(services, False, requests() if callable(requests) else requests, fresh=True)
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


# tmf-productorder ----------------------------------------------------------------------------------------

TMF = "/emida-ux-lcr/emida-ux/v1/CR/productOrder"


def _tmf(channel: str) -> dict[str, str]:
    # X-Correlation-ID is this API's idempotency key: a new one for each request.
    secret = f"{channel}-secret"
    correlation = str(uuid.uuid4())
    return {
        "client_id": channel,
        "client_secret": secret,
        "X-Correlation-ID": correlation,
        "Content-Type": "application/json",
    }


def _tmf_order(channel: str) -> Request:
    characteristics = [{"name": "MSISDN", "value": "69877689"}, {"name": "planType", "value": "Addon"}]
    item = {"product": {"productOffering": {"id": "OFFER-DP-001"}, "productCharacteristic": characteristics}}
    body = json.dumps({"category": "esimPrepaid", "productOrderItem": [item]}).encode()
    return ("POST", TMF, {"headers": _tmf(channel), "content": body})


def _tmf_get(channel: str, order: str) -> Request:
    return ("GET", f"{TMF}/{order}", {"headers": _tmf(channel)})


def test_a_channel_past_its_limit_gets_429_in_the_tmf_productorder_shape(services: Services) -> None:
    def requests() -> list[Request]:
        return [
            _tmf_order("demo-channel-1"),  # the hot route: POST and GET both count
            _tmf_get("demo-channel-1", "ORD-NOPE"),
            _tmf_order("demo-channel-1"),
            _tmf_get("demo-channel-1", "ORD-NOPE"),
            _tmf_order("demo-channel-1"),
            _tmf_order("demo-channel-2"),  # another partner: its own budget
        ]

    answers = _alike(services, requests, {"demo-channel-1": 3})
    assert [a.status_code for a in answers] == [201, 404, 201, 429, 429, 201]
    for refused in answers[3:5]:
        assert refused.json() == TMF_REFUSED
        assert _retry_after(refused) >= 1


def test_a_channel_with_no_limit_is_never_refused(services: Services) -> None:
    def requests() -> list[Request]:
        return [_tmf_order("demo-channel-2"), _tmf_get("demo-channel-2", "ORD-NOPE")] * 5

    answers = _alike(services, requests, {"demo-channel-1": 1})
    assert [a.status_code for a in answers] == [201, 404] * 5


def test_a_partner_on_esim_v1_and_tmf_productorder_draws_on_one_budget(services: Services) -> None:
    # A partner that orders eSIMs and line products (RESELLER and BUSINESS_CHANNEL), with one credential.
    services.partners.create_partner(
        "rate-mixed",
        name="rate-mixed",
        roles=["RESELLER", "BUSINESS_CHANNEL"],
        currencies=["USD"],
        product_ids=[SEED_PRODUCT],
        business_unit_ids=["CR"],
    )
    issued = services.partners.issue_credential("rate-mixed")
    form = {"grant_type": "client_credentials", "client_id": issued.client_id, "client_secret": issued.client_secret}
    token = ask(services, False, "POST", "/oauth2/token", data=form).json()["access_token"]
    channel = {"client_id": issued.client_id, "client_secret": issued.client_secret, "X-Correlation-ID": "rate-mixed"}
    esim, tmf = _esim_get(token, "/product"), ("GET", f"{TMF}/ORD-NOPE", {"headers": channel})
    answers = _alike(services, [esim, tmf, esim, tmf, esim], {"rate-mixed": 3})
    assert [a.status_code for a in answers] == [200, 404, 200, 429, 429]
    assert answers[3].json()["code"] == answers[4].json()["type"] == "TOO_MANY_REQUESTS"


# TMF622 --------------------------------------------------------------------------------------------------

TMF622 = "/tmf-api/productOrderingManagement/v4"
TMF622_ORDER = {
    "productOrderItem": [
        {
            "id": "1",
            "action": "add",
            "productOffering": {"id": "OFFER-DP-001"},
            "product": {
                "productCharacteristic": [
                    {"name": "MSISDN", "value": "69877689"},
                    {"name": "planType", "value": "Addon"},
                ]
            },
        }
    ],
}


def _tmf622(token: str, method: str, path: str, body: Any = None) -> Request:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return (method, f"{TMF622}{path}", {"headers": headers, **({} if body is None else {"json": body})})


def _every_tmf622_operation(token: str) -> list[Request]:
    return [
        _tmf622(token, "POST", "/productOrder", TMF622_ORDER),
        _tmf622(token, "GET", "/productOrder?externalId=none"),
        _tmf622(token, "GET", "/productOrder/nope"),
        _tmf622(token, "PATCH", "/productOrder/nope", {"requestedStartDate": "2030-01-01T00:00:00Z"}),
        _tmf622(token, "DELETE", "/productOrder/nope"),
        _tmf622(token, "POST", "/cancelProductOrder", {"productOrder": {"id": "nope"}}),
        _tmf622(token, "GET", "/cancelProductOrder"),
        _tmf622(token, "GET", "/cancelProductOrder/nope"),
        _tmf622(token, "POST", "/hub", {"callback": "https://listener.example.com/events"}),
        _tmf622(token, "GET", "/hub/nope"),
        _tmf622(token, "DELETE", "/hub/nope"),
    ]


def test_a_channel_past_its_limit_gets_429_in_the_tmf622_shape_on_every_operation(services: Services) -> None:
    one, two = _token(services, "demo-channel-1"), _token(services, "demo-channel-2")
    requests = [
        *_every_tmf622_operation(one)[:3],
        *_every_tmf622_operation(one),
        _tmf622(two, "GET", "/productOrder?externalId=none"),
    ]
    answers = _alike(services, requests, {"demo-channel-1": 3})
    assert [a.status_code for a in answers] == [201, 200, 404, *[429] * 11, 200]
    for refused in answers[3:14]:
        assert refused.json() == TMF_REFUSED
        assert _retry_after(refused) >= 1


def test_a_channel_with_no_limit_is_never_refused_on_tmf622(services: Services) -> None:
    token = _token(services, "demo-channel-2")
    answers = _alike(services, _every_tmf622_operation(token)[1:] * 2, {"demo-channel-1": 1})
    assert 429 not in [a.status_code for a in answers]


def test_a_channels_tmf_productorder_and_tmf622_requests_draw_on_one_budget(services: Services) -> None:
    token = _token(services, "demo-channel-1")

    def requests() -> list[Request]:
        tmf622 = _tmf622(token, "GET", "/productOrder?externalId=none")
        return [_tmf_get("demo-channel-1", "ORD-NOPE"), tmf622, _tmf_order("demo-channel-1"), tmf622]

    answers = _alike(services, requests, {"demo-channel-1": 3})
    assert [a.status_code for a in answers] == [404, 200, 201, 429]
    assert answers[3].json()["code"] == "TOO_MANY_REQUESTS" and _retry_after(answers[3]) >= 1
