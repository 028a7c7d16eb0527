"""`orderhub worker --port`: the standalone worker's own /healthz, /readyz and /metrics, next to a
`serve --no-worker` on the same SQLite file (as in the multi-node deployment)."""

from __future__ import annotations

import re
import socket
import sqlite3
import uuid
from pathlib import Path

import httpx
import pytest

from tests.integration.support import (
    HOST,
    OrderhubProcess,
    OrderhubProcesses,
    client,
    free_port,
    get_order,
    get_token,
    place_order,
    run_cli,
    sqlite_url,
    wait_until,
)

pytestmark = pytest.mark.integration

FAULT_ENV = {"ORDERHUB_DB_WRITE_TIMEOUT_SECONDS": "1.0", "ORDERHUB_WORKER_POLL_SECONDS": "0.2"}


def _worker(procs: OrderhubProcesses, db_path: Path) -> tuple[OrderhubProcess, str]:
    """A standalone worker with its operations endpoint on a free loopback port, once /healthz answers."""
    port = free_port()
    worker = procs.spawn(["worker", "--db", sqlite_url(db_path), "--host", HOST, "--port", str(port)], env=FAULT_ENV)
    url = f"http://{HOST}:{port}"

    def healthy() -> bool:
        assert worker.popen.poll() is None, f"the worker exited:\n{worker.log()}"
        try:
            return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(healthy, timeout=30, interval=0.1, message="the worker's /healthz")
    return worker, url


def _finished_completed(metrics: str) -> float:
    found = re.search(
        r'^orderhub_orders_finished_total\{dialect="esim-v1",operation="NEW_ESIM",state="completed"\} (\S+)$',
        metrics,
        re.M,
    )
    return float(found.group(1)) if found else 0.0


def test_the_worker_serves_health_readiness_and_the_orders_it_finished(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    db_path = tmp_path / "ops.db"
    server = orderhub_procs.serve(db_path, extra_args=["--no-worker"])
    worker, worker_url = _worker(orderhub_procs, db_path)
    token = get_token(server.base_url)
    order_id = place_order(server.base_url, token, f"ops-{uuid.uuid4().hex[:8]}@example.com")

    wait_until(
        lambda: get_order(server.base_url, token, order_id)["status"] == "COMPLETED",
        timeout=20,
        message="the worker to complete the order",
    )
    with client(worker_url) as http:
        metrics = http.get("/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain")
        assert _finished_completed(metrics.text) == 1.0, metrics.text
        assert re.search(r'^orderhub_esim_profiles\{state="available"\} \d', metrics.text, re.M), metrics.text
        ready = http.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ready", "migration": ready.json()["migration"]}
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.get("/nothing").status_code == 404
    # The API process accepted the order, the worker finished it: each counts its own part.
    with client(server.base_url) as http:
        api_metrics = http.get("/metrics").text
    assert 'orderhub_orders_accepted_total{dialect="esim-v1"' in api_metrics
    assert _finished_completed(api_metrics) == 0.0
    assert worker.popen.poll() is None, worker.log()
    assert worker.terminate() == 0, worker.log()


def test_the_worker_is_not_ready_while_its_database_cannot_be_written_and_ready_again_after(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    db_path = tmp_path / "locked.db"
    orderhub_procs.serve(db_path, extra_args=["--no-worker"])
    _, worker_url = _worker(orderhub_procs, db_path)
    with client(worker_url) as http:
        assert http.get("/readyz").status_code == 200
        other = sqlite3.connect(db_path, isolation_level=None, timeout=10)
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        try:
            locked = http.get("/readyz")
            # Alive all the same: the worker comes round and waits for the database; a restart would not help.
            alive = http.get("/healthz")
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert locked.status_code == 503, locked.text
        assert locked.json()["status"] == "unavailable" and locked.json()["reason"]
        assert int(locked.headers["retry-after"]) >= 1
        assert alive.status_code == 200, alive.text
        wait_until(lambda: http.get("/readyz").status_code == 200, timeout=10, message="/readyz to be 200 again")


def test_the_worker_is_not_ready_when_its_database_file_is_deleted(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    db_path = tmp_path / "deleted.db"
    orderhub_procs.serve(db_path, extra_args=["--no-worker"])
    worker, worker_url = _worker(orderhub_procs, db_path)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    with client(worker_url) as http:
        ready = http.get("/readyz")
    assert ready.status_code == 503, ready.text
    assert "missing" in ready.json()["reason"]
    assert not db_path.exists(), "the worker must not start an empty database in its place"
    assert worker.popen.poll() is None, worker.log()


def test_a_worker_whose_port_is_taken_says_so_and_exits(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("worker", "--db", sqlite_url(tmp_path / "x.db"), "--port", str(port), cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
