"""``ORDERHUB_METRICS_TOKEN``: /metrics answers a scrape only with the token, when one is set (per-API order
counts are a business's volumes, which no partner should read off a port the APIs share)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.support import RunningServer, running_server

TOKEN = "scrape-token-0123456789abcdef"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("metrics") / "orderhub.db", metrics_token=TOKEN) as running:
        yield running


WRONG = [None, "Bearer wrong-token-0123456789abcd", f"bearer{TOKEN}", TOKEN, f"Basic {TOKEN}", b"Bearer \xe9"]


@pytest.mark.parametrize("authorization", WRONG)
def test_a_scrape_without_the_token_is_refused_401(guarded: RunningServer, authorization: str | bytes | None) -> None:
    value = authorization.encode() if isinstance(authorization, str) else authorization
    headers = {b"Authorization": value} if value else {}
    with guarded.client() as http:
        refused = http.get("/metrics", headers=headers)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer realm="orderhub-metrics"'
    assert "orderhub_" not in refused.text


def test_a_scrape_with_the_token_reads_the_metrics_and_the_probes_need_none(guarded: RunningServer) -> None:
    with guarded.client() as http:
        scraped = http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert scraped.status_code == 200 and "orderhub_http_request_duration_seconds" in scraped.text
        assert http.get("/healthz").status_code == 200 and http.get("/readyz").status_code == 200


def test_without_a_token_metrics_are_open_as_before(client: httpx.Client) -> None:
    assert client.get("/metrics").status_code == 200
