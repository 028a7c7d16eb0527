"""Database faults under a real server process on a real SQLite file: fast 503s, and healing on its own.

Each test breaks the database while orders arrive, checks that every request is answered quickly in
the dialect's shape (503 + Retry-After, never a 500 or a hang), that /readyz tells, and then that the
same process, without a restart, takes orders again and every order that got a 201 completes.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.integration.support import (
    OrderhubProcess,
    OrderhubProcesses,
    api_headers,
    client,
    get_token,
    new_esim_body,
    wait_until,
)

pytestmark = pytest.mark.integration

WRITE_TIMEOUT = 1.0
# Every answer during a fault comes within the write bound plus generous scheduling slack.
ANSWER_WITHIN = WRITE_TIMEOUT + 2.0
FAULT_ENV = {"ORDERHUB_DB_WRITE_TIMEOUT_SECONDS": str(WRITE_TIMEOUT)}


def _post_orders(
    server: OrderhubProcess, token: str, count: int, threads: int = 16
) -> list[tuple[httpx.Response, float]]:
    def one(_: int) -> tuple[httpx.Response, float]:
        with client(server.base_url, timeout=30) as http:
            started = time.monotonic()
            body = new_esim_body(f"fault-{uuid.uuid4().hex[:10]}@example.com")
            answer = http.post("/esim/v1/order", json=body, headers=api_headers(token))
            return answer, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, range(count)))


def _assert_unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.json()["type"] == "SERVICE_UNAVAILABLE"
    assert answer.json()["messages"]
    assert int(answer.headers["retry-after"]) >= 1


def _ready(server: OrderhubProcess) -> int:
    with client(server.base_url, timeout=10) as http:
        return http.get("/readyz").status_code


def _all_complete(server: OrderhubProcess, token: str, order_ids: list[str]) -> None:
    pending = set(order_ids)

    def done() -> bool:
        with client(server.base_url) as http:
            for order_id in sorted(pending):
                body = http.get(f"/esim/v1/order/{order_id}", headers=api_headers(token)).json()
                assert body["status"] != "FAILED", body
                if body["status"] == "COMPLETED":
                    pending.discard(order_id)
        return not pending

    wait_until(done, timeout=30, interval=0.3, message=f"{len(order_ids)} accepted orders to complete")


def _accepted(results: list[tuple[httpx.Response, float]]) -> list[str]:
    return [answer.json()["id"] for answer, _ in results if answer.status_code == 201]


def _heals(server: OrderhubProcess, token: str, accepted_before: list[str]) -> None:
    wait_until(lambda: _ready(server) == 200, timeout=10, message="/readyz to say ready again")
    burst = _post_orders(server, token, 100)
    assert [answer.status_code for answer, _ in burst] == [201] * 100, [
        a.text for a, _ in burst if a.status_code != 201
    ][:3]
    assert max(seconds for _, seconds in burst) < 5, "a request waited on a connection the fault leaked"
    _all_complete(server, token, accepted_before + _accepted(burst))
    assert server.popen.poll() is None, server.log()


@contextmanager
def _write_lock(db_path: Path) -> Iterator[None]:
    other = sqlite3.connect(db_path, isolation_level=None, timeout=10)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_write_lock_held_by_another_program_gets_fast_503s_and_the_service_heals(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    db_path = tmp_path / "locked.db"
    server = orderhub_procs.serve(db_path, env=FAULT_ENV)
    token = get_token(server.base_url)
    before = _accepted(_post_orders(server, token, 10))
    assert len(before) == 10

    with _write_lock(db_path):
        during = _post_orders(server, token, 40)
        assert _ready(server) == 503
        with client(server.base_url) as http:
            refused = http.post(
                "/oauth2/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": "demo-reseller-1",
                    "client_secret": "demo-reseller-1-secret",
                },
            )

    statuses = [answer.status_code for answer, _ in during]
    assert set(statuses) <= {201, 503}, statuses
    assert statuses.count(503) >= 30, statuses
    for answer, seconds in during:
        assert seconds < ANSWER_WITHIN, f"an answer took {seconds:.1f} s"
        if answer.status_code == 503:
            _assert_unavailable(answer)
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"] == "temporarily_unavailable"
    assert int(refused.headers["retry-after"]) >= 1

    _heals(server, token, before + _accepted(during))
    # The log says why the node left the load balancer, and when it came back: once each, not per probe.
    logged = server.log_path.read_text(errors="replace").splitlines()
    messages = [str(json.loads(line).get("message", "")) for line in logged if line.startswith("{")]
    assert [m for m in messages if m.startswith(("not ready", "ready again"))] == [
        "not ready: database cannot be written: database is locked",
        "ready again: the database can be written",
    ], messages


def test_a_database_file_made_read_only_is_refused_with_503_and_taken_again_when_writable(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    db_path = tmp_path / "readonly.db"
    server = orderhub_procs.serve(db_path, env=FAULT_ENV)
    token = get_token(server.base_url)
    before = _accepted(_post_orders(server, token, 10))

    # The server keeps its file open, so mode bits would change nothing for it (and root ignores them):
    # the immutable flag is what an operator's read-only file looks like to a process that is running.
    if subprocess.run(["chattr", "+i", str(db_path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not permitted here (needs root on a filesystem with inode flags)")
    try:
        during = _post_orders(server, token, 20)
        ready_while_read_only = _ready(server)
    finally:
        subprocess.run(["chattr", "-i", str(db_path)], check=True)

    assert ready_while_read_only == 503
    for answer, seconds in during:
        _assert_unavailable(answer)
        assert seconds < ANSWER_WITHIN
    _heals(server, token, before)


def test_a_database_file_deleted_while_serving_takes_no_more_orders(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    db_path = tmp_path / "deleted.db"
    server = orderhub_procs.serve(db_path, env=FAULT_ENV)
    token = get_token(server.base_url)
    assert len(_accepted(_post_orders(server, token, 10))) == 10

    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)

    after = _post_orders(server, token, 20)
    for answer, seconds in after:
        _assert_unavailable(answer)  # never a 201 for an order written into a deleted file
        assert seconds < ANSWER_WITHIN
    with client(server.base_url) as http:
        ready = http.get("/readyz")
    assert ready.status_code == 503
    assert "missing" in ready.json()["reason"]
    assert not db_path.exists(), "the service must not start an empty database in its place"
    assert server.popen.poll() is None, server.log()
