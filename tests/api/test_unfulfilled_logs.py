"""Every order that ends failed or partial says so in one warning line, as the operator reads the logs:
its id, its state, the reason (masked) and the correlation id of the request that placed it."""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from orderhub.domain.lines import PlanType
from orderhub.observability import JsonFormatter
from orderhub.services.access_setup import AccessAdmin
from orderhub.services.demo import demo_credentials
from orderhub.services.line_setup import LineAdmin
from tests.api.support import running_server
from tests.api.test_onapi import send, valid_body
from tests.api.test_tmf_productorder import line_order, post

CHANNEL = demo_credentials()["tmf-productorder"][0]
# Left to the worker (here: run by the test), so the offering can be withdrawn in between.
LATER = {"fulfil_inline": False, "final_answer_budget_seconds": 0.1, "run_worker": False}


def warnings_about(order_id: str, caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    formatter = JsonFormatter()
    lines = [json.loads(formatter.format(r)) for r in caplog.records if r.levelno == logging.WARNING]
    return [line for line in lines if line["message"].startswith(f"order {order_id} ")]


def test_an_onapi_order_whose_offering_was_withdrawn_logs_its_failure(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with running_server(tmp_path / "onapi.db", **LATER) as server, server.client() as http:
        body = valid_body("access-free-1", product="iptv", offering="basic")
        received = send(http, body, **{"X-Correlation-ID": "co-trace-anna@example.se"})
        assert received.json()["status"] == "RECEIVED", received.text
        with server.services.uow_factory(read_only=True) as uow:
            (order_id,) = uow.orders.due_order_ids(datetime.now(UTC), 10)
        AccessAdmin(server.services.uow_factory).remove_offering("iptv", "basic")
        assert server.services.fulfilment.run_due("test-worker", 10) == 1
    (line,) = warnings_about(order_id, caplog)
    assert line["message"].startswith(f"order {order_id} failed: item 1: offering iptv/basic")
    assert line["correlation_id"] == "c***@example.se"


def test_a_line_order_with_one_item_of_two_failed_logs_that_it_is_partial(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body = line_order("69877689", "DataPlan")
    body["productOrderItem"].append(copy.deepcopy(line_order("69877689", "Plan")["productOrderItem"][0]))
    with running_server(tmp_path / "tmf.db", **LATER) as server, server.client() as http:
        placed = post(http, body, channel=CHANNEL, **{"X-Correlation-ID": "tmf-trace-7"})
        assert placed.status_code == 201, placed.text
        with server.services.uow_factory(read_only=True) as uow:
            (order_id,) = uow.orders.due_order_ids(datetime.now(UTC), 10)
        LineAdmin(server.services.uow_factory).remove_offering("CR", "OFFER-DP-001", PlanType.DATA_PLAN)
        assert server.services.fulfilment.run_due("test-worker", 10) == 1
    (line,) = warnings_about(order_id, caplog)
    assert line["message"] == (f"order {order_id} partial: item 1: offering OFFER-DP-001 is no longer sold as DataPlan")
    assert line["correlation_id"] == "tmf-trace-7"
