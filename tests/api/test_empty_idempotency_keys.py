"""An empty Idempotency-Key is refused (400, in the API's own shape) by every API that takes one, on its
hot route and its framework route alike, and nothing is stored: taken for no key, as tmf-productorder,
TMF622 and onapi-order did, a retry sent with it placed the order again. esim-v1 refused it already."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from orderhub.bootstrap import Services
from orderhub.store.tables import orders
from tests.api.hot_path_support import ask, demo_services
from tests.api.support import new_esim_body
from tests.api.test_hot_paths_onapi import ORDER as ONAPI
from tests.api.test_hot_paths_onapi import _headers as onapi_headers
from tests.api.test_hot_paths_onapi import onapi_order
from tests.api.test_rate_limits import TMF, TMF622, TMF622_ORDER, _tmf, _tmf_order, _token

EMPTY = {"Idempotency-Key": ""}


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    with demo_services(tmp_path_factory.mktemp("empty-keys") / "orderhub.db", inventory_size=20) as built:
        yield built


def _stored(services: Services) -> int:
    with services.engine.connect() as connection:
        return int(connection.scalar(sa.select(sa.func.count()).select_from(orders)))


def _refused(services: Services, method: str, path: str, **request: Any) -> list[Any]:
    """The answers of the hot and the framework route, both 400, with nothing stored."""
    before = _stored(services)
    answers = [ask(services, hot, method, path, **request) for hot in (True, False)]
    assert [answer.status_code for answer in answers] == [400, 400], [answer.text for answer in answers]
    assert answers[0].json() == answers[1].json()
    assert _stored(services) == before
    return [answer.json() for answer in answers]


def test_esim_v1(services: Services) -> None:
    token = _token(services, "demo-reseller-1")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "X-Correlation-ID": "k0"}
    body = json.dumps(new_esim_body("empty-key@example.com")).encode()
    answer, _ = _refused(services, "POST", "/esim/v1/order", headers={**headers, **EMPTY}, content=body)
    assert answer["type"] == "INVALID_REQUEST_PARAMS"


def test_tmf_productorder(services: Services) -> None:
    _, _, request = _tmf_order("demo-channel-1")
    headers = {**_tmf("demo-channel-1"), **EMPTY}
    answer, _ = _refused(services, "POST", TMF, headers=headers, content=request["content"])
    assert (answer["code"], answer["status"]) == ("INVALID_REQUEST", "400")
    assert "Idempotency-Key" in answer["message"] or "idempotency-key" in answer["message"]


def test_tmf622(services: Services) -> None:
    token = _token(services, "demo-channel-1")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **EMPTY}
    answer, _ = _refused(services, "POST", f"{TMF622}/productOrder", headers=headers, json=TMF622_ORDER)
    assert (answer["code"], answer["status"]) == ("INVALID_REQUEST", "400")
    assert "Idempotency-Key" in answer["message"] or "idempotency-key" in answer["message"]


def test_onapi_order(services: Services) -> None:
    headers = onapi_headers(**EMPTY)
    answer, _ = _refused(services, "POST", ONAPI, headers=headers, content=json.dumps(onapi_order()).encode())
    assert answer == {
        "cause": "Bad Idempotency-Key",
        "message": "The order is incorrect; please contact your provider.",
    }
