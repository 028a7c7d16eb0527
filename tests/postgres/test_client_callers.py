"""tmf-productorder and onapi-order POSTs on PostgreSQL take their caller from the process's caches and
have the order's write check it (services.auth.Caller), as esim-v1's does: no wait of their own for the
store's config version, and a change made by another process before the write is never ordered under.

Each POST goes to a hot application over one set of services (the API process); the changes are made
through another (another process on the same database), which this process hears of only through the
config version.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
import sqlalchemy as sa

from orderhub.api.app import create_app
from orderhub.bootstrap import Services
from orderhub.services.demo import demo_credentials
from orderhub.services.line_setup import LineAdmin
from tests.api.hot_path_support import running
from tests.api.support import SEED_PRODUCT
from tests.api.test_hot_paths_onapi import onapi_order

T = TypeVar("T")
TMF = "/emida-ux-lcr/emida-ux/v1/CR/productOrder"
ONAPI = "/2.5/sp_spec/order/"
CHANNEL = demo_credentials()["tmf-productorder"][0]
ACME = demo_credentials()["onapi-order"][0]


@pytest.fixture
def api(two_processes: tuple[Services, Services]) -> Services:
    """The API process whose requests are watched."""
    return two_processes[0]


@pytest.fixture
def other(two_processes: tuple[Services, Services]) -> Services:
    """Another process on the same database, where the operator's changes are made."""
    return two_processes[1]


@pytest.fixture
def waits(api: Services, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the API process waited on, in turn: "version" for a separate read of the config version,
    "write" for a write (which reads the version with its own statements)."""
    log: list[str] = []
    database = api.database
    read, write = database.config_version, database.write

    async def config_version() -> int:
        log.append("version")
        return await read()

    def logged_write(job: Any) -> Any:
        log.append("write")
        return write(job)

    monkeypatch.setattr(database, "config_version", config_version)
    monkeypatch.setattr(database, "write", logged_write)
    return log


def serve(services: Services, steps: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
    async def go() -> T:
        app = create_app(services, run_worker=False, hot_paths=True)
        transport = httpx.ASGITransport(app=app)
        async with running(app, True), httpx.AsyncClient(transport=transport, base_url="http://orderhub.test") as http:
            return await steps(http)

    return asyncio.run(go())


def tmf_post(http: httpx.AsyncClient) -> Awaitable[httpx.Response]:
    characteristics = [{"name": "MSISDN", "value": "69877689"}, {"name": "planType", "value": "Addon"}]
    item = {"product": {"productOffering": {"id": "OFFER-DP-001"}, "productCharacteristic": characteristics}}
    headers = {
        "client_id": str(CHANNEL["client_id"]),
        "client_secret": str(CHANNEL["client_secret"]),
        "X-Correlation-ID": uuid.uuid4().hex,
        "Content-Type": "application/json",
    }
    body = json.dumps({"category": "esimPrepaid", "productOrderItem": [item]})
    return http.post(TMF, headers=headers, content=body)


def onapi_post(http: httpx.AsyncClient, access: str, co: str = "Acme") -> Awaitable[httpx.Response]:
    basic = base64.b64encode(f"{ACME['username']}:{ACME['password']}".encode()).decode()
    body = onapi_order(
        access, co, requestedDateTime=(datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    headers = {"Authorization": f"Basic {basic}", "Content-Type": "application/json"}
    return http.post(ONAPI, headers=headers, content=json.dumps(body))


def orders_of(services: Services, partner_id: str) -> int:
    with services.engine.connect() as connection:
        query = sa.text("SELECT count(*) FROM orders WHERE partner_id = :p")
        return int(connection.execute(query, {"p": partner_id}).scalar_one())


def bump_config_version(services: Services) -> None:
    """As another process changed something that leaves the operator free to order."""
    with services.engine.begin() as connection:
        connection.execute(sa.text("UPDATE config_version SET version = version + 1 WHERE id = 1"))


def set_roles_behind_the_admins_back(services: Services, partner_id: str, roles: list[str]) -> None:
    """As a partner's roles changed in another process (the admin's rules would refuse this one)."""
    with services.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE partners SET roles = :r WHERE id = :p"), {"r": json.dumps(roles), "p": partner_id}
        )
        connection.execute(sa.text("UPDATE config_version SET version = version + 1 WHERE id = 1"))


def test_warm_tmf_and_onapi_posts_wait_for_no_config_version_before_their_write(
    api: Services, waits: list[str]
) -> None:
    async def steps(http: httpx.AsyncClient) -> list[list[str]]:
        seen = []
        for post in (
            tmf_post,
            tmf_post,
            lambda h: onapi_post(h, "access-free-1"),
            lambda h: onapi_post(h, "access-free-2"),
        ):
            waits.clear()
            answer = await post(http)
            assert answer.status_code in (200, 201), answer.text
            seen.append(list(waits))
        return seen

    cold_tmf, warm_tmf, cold_onapi, warm_onapi = serve(api, steps)
    assert cold_tmf[0] == "version" and cold_onapi[0] == "version"  # the caches filled
    assert warm_tmf == ["write"] and warm_onapi == ["write"]


@dataclass(frozen=True)
class Placed:
    """How a test places its ``n``-th order of one partner, and the status of one that goes through."""

    post: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]
    accepted: int
    partner: str


def refused_after_change(
    api: Services, other: Services, waits: list[str], placed: Placed, make: Callable[[Services], object]
) -> tuple[httpx.Response, list[str]]:
    """An order placed through ``api``; ``make`` done through ``other``; the next order's answer, and what
    ``api`` waited on for it. That order stored nothing."""

    async def steps(http: httpx.AsyncClient) -> tuple[httpx.Response, list[str]]:
        assert (await placed.post(http, 1)).status_code == placed.accepted
        before = orders_of(other, placed.partner)
        make(other)
        waits.clear()
        refused = await placed.post(http, 2)
        assert orders_of(other, placed.partner) == before
        return refused, list(waits)

    return serve(api, steps)


TMF_CHANGES: dict[str, tuple[Callable[[Services], object], int, str]] = {
    "credential revoked": (lambda s: s.partners.revoke_credential(str(CHANNEL["client_id"])), 401, "UNAUTHORIZED"),
    "business unit withdrawn": (
        lambda s: s.partners.set_business_units(str(CHANNEL["partner"]), ["PA"]),
        403,
        "FORBIDDEN",
    ),
    "roles changed": (
        lambda s: set_roles_behind_the_admins_back(s, str(CHANNEL["partner"]), ["RESELLER"]),
        403,
        "FORBIDDEN",
    ),
}


@pytest.mark.parametrize("change", TMF_CHANGES)
def test_a_tmf_change_before_the_write_is_refused_in_tmfs_shape_and_orders_nothing(
    api: Services, other: Services, waits: list[str], change: str
) -> None:
    make, status, code = TMF_CHANGES[change]
    placed = Placed(lambda http, _n: tmf_post(http), 201, str(CHANNEL["partner"]))
    refused, waited = refused_after_change(api, other, waits, placed, make)
    assert waited[0] == "write"  # the cached caller went as far as the write, whose check refused it
    assert refused.status_code == status, refused.text
    assert refused.json()["code"] == code


def test_a_tmf_order_that_starts_over_is_answered_in_its_business_units_timezone_as_checked_anew(
    api: Services, other: Services, waits: list[str]
) -> None:
    async def steps(http: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response, list[str]]:
        first = await tmf_post(http)
        LineAdmin(other.uow_factory).update_business_unit("CR", timezone="Asia/Tokyo")
        waits.clear()
        again = await tmf_post(http)
        return first, again, list(waits)

    first, again, waited = serve(api, steps)
    assert waited[:2] == ["write", "version"]  # started over
    assert first.status_code == again.status_code == 201, again.text
    assert not first.json()["orderDate"].endswith("+09:00")
    assert again.json()["orderDate"].endswith("+09:00")


ONAPI_CHANGES: dict[str, tuple[Callable[[Services], object], int, str]] = {
    "credential revoked": (lambda s: s.partners.revoke_credential(str(ACME["username"])), 401, "Bad credentials"),
    "roles changed": (
        lambda s: set_roles_behind_the_admins_back(s, str(ACME["partner"]), ["RESELLER"]),
        403,
        "Not a communication operator",
    ),
    "coId changed": (
        lambda s: s.partners.update_partner(str(ACME["partner"]), co_id="Acme2"),
        403,
        "coId Acme is not the authenticated communication operator",
    ),
}


@pytest.mark.parametrize("change", ONAPI_CHANGES)
def test_an_onapi_change_before_the_write_is_refused_in_onapis_shape_and_orders_nothing(
    api: Services, other: Services, waits: list[str], change: str
) -> None:
    make, status, cause = ONAPI_CHANGES[change]
    placed = Placed(lambda http, n: onapi_post(http, f"access-free-{n}"), 200, str(ACME["partner"]))
    refused, waited = refused_after_change(api, other, waits, placed, make)
    assert waited[0] == "write"
    assert refused.status_code == status, refused.text
    assert refused.json()["cause"] == cause


def test_an_onapi_request_that_starts_over_counts_once_against_the_rate_limit(
    api: Services, other: Services, waits: list[str]
) -> None:
    other.partners.set_rate_limit(str(ACME["partner"]), 3)

    async def steps(http: httpx.AsyncClient) -> list[tuple[int, list[str]]]:
        answers = []
        for n in range(1, 5):
            if n == 2:  # the configuration moves, the operator may still order: the request starts over
                bump_config_version(other)
            waits.clear()
            answer = await onapi_post(http, f"access-free-{n}")
            answers.append((answer.status_code, list(waits)))
        return answers

    answers = serve(api, steps)
    assert answers[1][1][:2] == ["write", "version"], answers  # started over, checked anew
    assert [status for status, _waited in answers] == [200, 200, 200, 429], answers


def test_a_tmf_request_that_starts_over_counts_once_against_the_rate_limit(
    api: Services, other: Services, waits: list[str]
) -> None:
    other.partners.set_rate_limit(str(CHANNEL["partner"]), 3)

    async def steps(http: httpx.AsyncClient) -> list[tuple[int, list[str]]]:
        answers = []
        for n in range(1, 5):
            if n == 2:  # the configuration moves, the channel may still order: the request starts over
                bump_config_version(other)
            waits.clear()
            answer = await tmf_post(http)
            answers.append((answer.status_code, list(waits)))
        return answers

    answers = serve(api, steps)
    assert answers[1][1][:2] == ["write", "version"], answers  # started over, checked anew
    assert [status for status, _waited in answers] == [201, 201, 201, 429], answers


def test_an_esim_order_from_the_token_cache_counts_once_and_a_refusal_on_it_is_judged_anew(
    api: Services, other: Services
) -> None:
    other.partners.set_rate_limit("demo-reseller-1", 2)

    async def steps(http: httpx.AsyncClient) -> list[int]:
        form = {"grant_type": "client_credentials", "client_id": "demo-reseller-1"}
        token = (await http.post("/oauth2/token", data={**form, "client_secret": "demo-reseller-1-secret"})).json()
        headers = {"Authorization": f"Bearer {token['access_token']}", "X-Correlation-ID": "rate-pg"}
        body = {
            "input": {
                "operationType": "NEW_ESIM",
                "countryCode": "PT",
                "customer": {"email": "rate-pg@example.com", "countryOfResidence": "US"},
                "device": {"product_id": "123456789", "model": "iPhone", "type": "ios"},
                "subscriptions": [{"id": SEED_PRODUCT, "activationDate": "2030-09-13T12:00:00Z"}],
            }
        }
        statuses = []
        for n in range(1, 6):
            if n == 2:  # the configuration moves: the order starts over, and is not counted again
                bump_config_version(other)
            if n == 4:  # another process raises the limit: the cached principal's refusal is judged anew
                other.partners.set_rate_limit("demo-reseller-1", 4)
            statuses.append((await http.post("/esim/v1/order", headers=headers, json=body)).status_code)
        return statuses

    assert serve(api, steps) == [201, 201, 429, 201, 201]
