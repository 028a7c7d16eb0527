"""An id with a NUL character (``%00`` in a path or a query) names nothing: each API answers it not found,
in its own shape, as for any unknown id. On PostgreSQL, whose text cannot hold a NUL, the look-up was
refused (DataError) and every such request was a 500; SQLite found nothing. Run both ways."""

from __future__ import annotations

import httpx
import pytest

from tests.api.support import RunningServer, get_token

TMF622 = "/tmf-api/productOrderingManagement/v4"
VENDOR = "/emida-ux-lcr/emida-ux/v1"
ESIM_ERROR = {"type", "messages"}
TMF_ERROR = {"code", "reason", "message", "status"}


@pytest.fixture(scope="module")
def channel_token(server: RunningServer) -> str:
    with server.client() as http:
        return get_token(http, "demo-channel-2", "demo-channel-2-secret")


@pytest.mark.parametrize(
    "path",
    ["/esim/v1/order/a%00", "/esim/v1/order/a%00/qrcode", "/esim/v1/order/a%00/install-links",
     "/esim/v1/sim/89%00", "/esim/v1/sim/89%00/subscriptions"],
)  # fmt: skip
def test_esim_v1_answers_an_id_with_a_nul_not_found(client: httpx.Client, reseller: str, path: str) -> None:
    answer = client.get(path, headers={"Authorization": f"Bearer {reseller}", "X-Correlation-ID": "nul-1"})
    assert answer.status_code == 404, answer.text
    assert set(answer.json()) == ESIM_ERROR


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/productOrder/ORD-1%00"), ("PATCH", "/productOrder/ORD-1%00"), ("DELETE", "/productOrder/ORD-1%00"),
     ("GET", "/cancelProductOrder/a%00"), ("GET", "/hub/a%00"), ("DELETE", "/hub/a%00")],
)  # fmt: skip
def test_tmf622_answers_an_id_with_a_nul_not_found(
    client: httpx.Client, channel_token: str, method: str, path: str
) -> None:
    body = {"description": "x"} if method == "PATCH" else None
    answer = client.request(method, TMF622 + path, json=body, headers={"Authorization": f"Bearer {channel_token}"})
    assert answer.status_code == 404, answer.text
    assert set(answer.json()) == TMF_ERROR


def test_tmf622_lists_no_order_for_an_id_filter_with_a_nul(client: httpx.Client, channel_token: str) -> None:
    for ids in ("ORD-1%00", "a%00b,ORD-1"):
        answer = client.get(f"{TMF622}/productOrder?id={ids}", headers={"Authorization": f"Bearer {channel_token}"})
        assert answer.status_code == 200, answer.text
        assert answer.json() == [] and answer.headers["X-Total-Count"] == "0"


@pytest.mark.parametrize(("method", "path"), [("GET", "/CR/productOrder/ORD-1%00"), ("GET", "/C%00R/productOrder/x"),
                                              ("POST", "/C%00R/productOrder")])  # fmt: skip
def test_tmf_productorder_answers_an_id_with_a_nul_not_found(client: httpx.Client, method: str, path: str) -> None:
    channel = {"client_id": "demo-channel-2", "client_secret": "demo-channel-2-secret", "X-Correlation-ID": "nul-2"}
    body = {"category": "esimPrepaid"} if method == "POST" else None
    answer = client.request(method, VENDOR + path, json=body, headers=channel)
    assert answer.status_code == 404, answer.text
    assert set(answer.json()) == TMF_ERROR
