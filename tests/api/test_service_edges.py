"""Health, OpenAPI, empty inventory, internal errors and what the logs say (servers of their own)."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import httpx
import pytest

from orderhub.observability import JsonFormatter
from tests.api.support import (
    RunningServer,
    get_token,
    headers,
    new_esim_body,
    place,
    request_token,
    running_server,
    unique_email,
    wait_for,
)
from tests.api.test_errors import assert_error
from tests.api.test_onapi import ACME, valid_body
from tests.api.test_onapi import auth as onapi_auth
from tests.api.test_tmf_productorder import ONE, line_order, tmf_headers
from tests.api.test_tmf_productorder import post as post_line_order
from tests.databases import on_postgres


def test_health_and_readiness(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_openapi_document_describes_the_dialect(client: httpx.Client) -> None:
    document = client.get("/esim/v1/openapi.json").json()
    assert document["info"]["title"] == "orderhub esim-v1"
    for path in ("/order", "/order/{order_id}", "/order/{order_id}/qrcode", "/product", "/sim/{iccid}"):
        assert path in document["paths"], path
    request_schema = document["components"]["schemas"]["OrderInput"]
    assert set(request_schema["required"]) >= {"operationType", "customer", "device", "subscriptions"}
    assert "201" in document["paths"]["/order"]["post"]["responses"]
    assert client.get("/esim/v1/docs").status_code == 200


def test_empty_inventory_fails_the_order_with_a_reason(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    with (
        running_server(tmp_path / "empty.db", demo_inventory_size=1, low_stock_threshold=5) as server,
        server.client() as http,
    ):
        token = get_token(http, "demo-reseller-1", "demo-reseller-1-secret")
        first = place(http, token, new_esim_body(unique_email())).json()
        second = place(http, token, new_esim_body(unique_email())).json()
        done = wait_for(http, token, first["id"], lambda o: o["status"] != "FULFILLING")
        failed = wait_for(http, token, second["id"], lambda o: o["status"] != "FULFILLING")
        qr = http.get(f"/esim/v1/order/{second['id']}/qrcode", headers=headers(token))
        links = http.get(f"/esim/v1/order/{second['id']}/install-links", headers=headers(token))

    assert done["status"] == "COMPLETED"
    assert failed["status"] == "FAILED"
    assert "no eSIM profile available" in failed["failureReason"]
    assert failed["history"][-1]["status"] == "failed"
    assert "output" not in failed
    # It never completes: not "poll until COMPLETED" (409) but no activation code, because it FAILED.
    assert_error(qr, 422, "NO_ACTIVATION_CODE", "FAILED")
    assert_error(links, 422, "NO_ACTIVATION_CODE", "FAILED")
    assert any("inventory low" in r.getMessage() for r in caplog.records)


def drop_table(server: RunningServer, table: str) -> None:
    """Break the database under the running server (a bug's stand-in), whichever database it is."""
    with server.services.engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TABLE {table} CASCADE" if on_postgres() else f"DROP TABLE {table}")


def test_database_failure_is_an_internal_error_in_the_dialect_format(tmp_path: Path) -> None:
    with running_server(tmp_path / "broken.db") as server, server.client() as http:
        token = get_token(http, "demo-reseller-1", "demo-reseller-1-secret")
        order = place(http, token, new_esim_body(unique_email())).json()
        drop_table(server, "order_events")
        answer = http.get(f"/esim/v1/order/{order['id']}", headers=headers(token))

        assert_error(answer, 500, "INTERNAL_ERROR")
        assert http.get("/healthz").status_code == 200


def test_a_database_failure_is_a_500_in_the_tmf_and_on_api_formats_too(tmp_path: Path) -> None:
    # ON-API's common responses and TMF's error both include a 500: each in its API's own shape.
    with running_server(tmp_path / "broken.db") as server, server.client() as http:
        order = post_line_order(http, line_order("69877689", "Addon")).json()
        drop_table(server, "order_events")
        read = http.get(f"/emida-ux-lcr/emida-ux/v1/CR/productOrder/{order['id']}", headers=tmf_headers(ONE))
        assert read.status_code == 500, read.text
        assert read.json() == {"code": "INTERNAL_ERROR", "reason": "Internal Server Error",
                               "message": read.json()["message"], "status": "500"}  # fmt: skip
        drop_table(server, "access_services")
        onapi = http.post("/2.5/sp_spec/order/", json=valid_body("access-free-1"), auth=onapi_auth(ACME))
        assert onapi.status_code == 500, onapi.text
        assert set(onapi.json()) == {"cause"}, onapi.text


def test_a_token_endpoint_failure_answers_in_the_oauth_shape_and_keeps_the_connection(tmp_path: Path) -> None:
    with running_server(tmp_path / "broken.db") as server, server.client() as http:
        drop_table(server, "tokens")
        answer = request_token(http, "demo-reseller-1", "demo-reseller-1-secret")

        assert answer.status_code == 500, answer.text
        assert answer.json()["error"] == "server_error"
        assert answer.headers["x-correlation-id"]
        assert http.get("/healthz").status_code == 200  # the same keep-alive connection still serves


def test_logs_are_json_with_the_correlation_id_and_without_personal_data_or_secrets(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    email = "very.private.person@example.com"
    with running_server(tmp_path / "logs.db") as server, server.client() as http:
        token = get_token(http, "demo-reseller-1", "demo-reseller-1-secret")
        answer = http.post(
            "/esim/v1/order",
            json=new_esim_body(email),
            headers={"Authorization": f"Bearer {token}", "X-Correlation-ID": "trace-42"},
        )
        # A failing top-up puts the email into an error message: it must still be masked in the logs.
        body = new_esim_body(email)
        body["input"].update(operationType="TOPUP", esim={"iccid": "8935100000000000000"})
        http.post("/esim/v1/order", json=body, headers=headers(token))
        wait_for(http, token, answer.json()["id"], lambda o: o["status"] == "COMPLETED")

    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    joined = "\n".join(lines)
    entries = [json.loads(line) for line in lines]
    assert any(e.get("correlation_id") == "trace-42" and e["message"] == "POST /esim/v1/order 201" for e in entries)
    assert email not in joined
    assert "demo-reseller-1-secret" not in joined
    assert token not in joined


def test_metrics_count_requests_orders_and_inventory(client: httpx.Client, reseller: str) -> None:
    def sample(text: str, name: str) -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))

    before = client.get("/metrics").text
    answer = place(client, reseller, new_esim_body(unique_email()))
    wait_for(client, reseller, answer.json()["id"], lambda o: o["status"] == "COMPLETED")
    after = client.get("/metrics")

    assert after.headers["content-type"].startswith("text/plain")
    accepted = 'orderhub_orders_accepted_total{dialect="esim-v1",operation="NEW_ESIM"}'
    completed = 'orderhub_orders_finished_total{dialect="esim-v1",operation="NEW_ESIM",state="completed"}'
    created = 'orderhub_http_request_duration_seconds_count{api="esim-v1",method="POST",status="201"}'
    for name in (accepted, completed, created):
        assert sample(after.text, name) >= sample(before, name) + 1, name
    assert sample(after.text, 'orderhub_esim_profiles{state="available"}') > 0
    # Buckets from 1 ms: on an idle server most requests take less than the 5 ms the lowest used to be.
    assert 'orderhub_http_request_duration_seconds_bucket{api="esim-v1",le="0.001",method="POST",status="201"}' in (
        after.text
    )


def test_finished_orders_are_counted_by_the_api_that_placed_them(client: httpx.Client, reseller: str) -> None:
    """tmf-productorder and TMF622 both place LINE_PRODUCTS orders: only the dialect tells whose fail."""
    before = client.get("/metrics").text
    esim = place(client, reseller, new_esim_body(unique_email()))
    wait_for(client, reseller, esim.json()["id"], lambda o: o["status"] == "COMPLETED")
    line = post_line_order(client, line_order("69877689", "DataPlan"))
    assert line.status_code == 201 and line.json()["state"] == "completed", line.text
    after = client.get("/metrics").text

    for dialect, operation in (("esim-v1", "NEW_ESIM"), ("tmf-productorder", "LINE_PRODUCTS")):
        series = f'orderhub_orders_finished_total{{dialect="{dialect}",operation="{operation}",state="completed"}}'
        assert _sample(after, series) >= _sample(before, series) + 1, (series, after)


def _sample(metrics: str, series: str) -> float:
    """The value of one labelled series of a scrape, 0 when it is not there yet."""
    found = re.search(rf"^{re.escape(series)} (\S+)$", metrics, re.M)
    return float(found.group(1)) if found else 0.0


def test_worker_log_lines_carry_the_orders_correlation_id(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    with running_server(tmp_path / "one.db", demo_inventory_size=0) as server, server.client() as http:
        token = get_token(http, "demo-reseller-1", "demo-reseller-1-secret")
        answer = http.post(
            "/esim/v1/order",
            json=new_esim_body(),
            headers={"Authorization": f"Bearer {token}", "X-Correlation-ID": "trace-77"},
        )
        wait_for(http, token, answer.json()["id"], lambda o: o["status"] == "FAILED")

    failures = [r for r in caplog.records if r.name == "orderhub.fulfilment" and "failed" in r.getMessage()]
    assert failures
    assert all(getattr(r, "correlation_id", None) == "trace-77" for r in failures)
