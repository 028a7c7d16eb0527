"""The low-stock warning comes when a burst of new eSIMs takes the stock below the threshold or empties
it, within a second of it, not at whatever new eSIM order comes next (which may be much later)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest

from orderhub.observability import JsonFormatter
from tests.api.support import get_token, new_esim_body, place, running_server, unique_email


def test_a_run_out_within_a_second_of_the_last_check_is_warned_of_without_another_order(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    stock = {"demo_inventory_size": 12, "low_stock_threshold": 8}
    with running_server(tmp_path / "stock.db", **stock) as server, server.client() as http:
        token = get_token(http, "demo-reseller-1", "demo-reseller-1-secret")
        # Here in well under a second: the first order's count saw 11, the rest came before the next count.
        answers = [place(http, token, new_esim_body(unique_email())) for _ in range(19)]
        assert all(answer.status_code == 201 for answer in answers), [a.text for a in answers]

        def warnings() -> list[dict[str, object]]:
            lines = [JsonFormatter().format(r) for r in caplog.records if r.levelno == logging.WARNING]
            return [json.loads(line) for line in lines if "inventory low" in line]

        run_out = "eSIM inventory low: 0 profiles available (threshold 8)"
        # No request in between: the warning of the run-out comes by itself. (On a loaded machine the
        # burst may span a count, which warns of what was left then: the run-out's warning comes after.)
        # Due a second after the last count; the deadline is room for a loaded machine, not the second:
        # without the trailing count the warning would never come.
        deadline = time.monotonic() + 15
        while run_out not in [said["message"] for said in warnings()] and time.monotonic() < deadline:
            time.sleep(0.05)
    assert run_out in [said["message"] for said in warnings()], warnings()
