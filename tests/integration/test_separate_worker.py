"""`serve --no-worker` only accepts orders; a separate `orderhub worker` on the same database fulfils them."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.integration.support import OrderhubProcesses, get_order, get_token, place_order, sqlite_url, wait_until

pytestmark = pytest.mark.integration


def test_orders_wait_for_a_separate_worker_which_completes_them_and_stops_cleanly_on_sigterm(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    db_path = tmp_path / "x.db"
    server = orderhub_procs.serve(db_path, extra_args=["--no-worker"])
    token = get_token(server.base_url)
    order_id = place_order(server.base_url, token, f"no-worker-{uuid.uuid4().hex[:8]}@example.com")

    # Without a worker nothing fulfils the order: it stays FULFILLING.
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        body = get_order(server.base_url, token, order_id)
        assert body["status"] == "FULFILLING", body
        assert "output" not in body or body["output"] is None
        time.sleep(0.25)

    worker = orderhub_procs.spawn(["worker", "--db", sqlite_url(db_path)], env={"ORDERHUB_WORKER_POLL_SECONDS": "0.2"})

    def completed() -> dict | None:
        assert worker.popen.poll() is None, f"the worker exited early:\n{worker.log()}"
        body = get_order(server.base_url, token, order_id)
        assert body["status"] != "FAILED", body
        return body if body["status"] == "COMPLETED" else None

    body = wait_until(completed, timeout=20, message="the separate worker to complete the order")
    output = body["output"]
    assert output["iccid"].startswith("89")
    assert output["matchingId"]
    assert output["lpa_url"] == f"LPA:1${output['smdpUrl']}${output['matchingId']}"
    assert output["subscription_id"]

    # A second order is picked up by the running worker's poll as well.
    second = place_order(server.base_url, token, f"no-worker-{uuid.uuid4().hex[:8]}@example.com")

    def second_completed() -> dict | None:
        body = get_order(server.base_url, token, second)
        return body if body["status"] == "COMPLETED" else None

    second_body = wait_until(second_completed, timeout=20, message="the second order to complete")
    assert second_body["output"]["iccid"] != output["iccid"]

    try:
        exit_code = worker.terminate(timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the worker did not exit within 10 s of SIGTERM:\n{worker.log()}")
    assert exit_code == 0, f"worker exit code {exit_code} after SIGTERM:\n{worker.log()}"
    assert "stopped" in worker.log(), worker.log()
