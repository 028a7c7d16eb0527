"""SIGHUP (a closed terminal, `kill -HUP`) stops `orderhub serve` and `orderhub worker` as gracefully as
SIGTERM: requests in flight are answered, every answered order is stored, the WAL is merged, exit 0."""

from __future__ import annotations

import signal
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.integration.support import (
    OrderhubProcesses,
    api_headers,
    client,
    db_rows,
    get_token,
    new_esim_body,
    sqlite_url,
    wait_until,
)

pytestmark = pytest.mark.integration

THREADS = 12


def test_sighup_of_serve_under_load_answers_in_flight_requests_and_stores_every_answered_order(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    db_path = tmp_path / "x.db"
    server = orderhub_procs.serve(db_path)
    token = get_token(server.base_url)
    answered: list[str] = []
    errors: list[int] = []
    lock, stop = threading.Lock(), threading.Event()

    def keep_ordering() -> None:
        with client(server.base_url, timeout=10) as http:
            while not stop.is_set():
                body = new_esim_body(f"hup-{uuid.uuid4().hex[:10]}@example.com")
                try:
                    response = http.post("/esim/v1/order", json=body, headers=api_headers(token))
                except httpx.TransportError:
                    stop.wait(0.02)  # going away: no answer is allowed, a wrong answer is not
                    continue
                with lock:
                    if response.status_code == 201:
                        answered.append(response.json()["id"])
                    else:
                        errors.append(response.status_code)

    threads = [threading.Thread(target=keep_ordering) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(answered) >= 60, timeout=20, interval=0.01, message="orders under way")
        stopping_since = time.monotonic()
        server.popen.send_signal(signal.SIGHUP)
        code = server.popen.wait(timeout=15)
        stopped_in = time.monotonic() - stopping_since
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    assert code == 0, server.log()
    assert stopped_in < 10, f"SIGHUP took {stopped_in:.1f} s"
    assert errors == [], errors
    stored = {order_id for (order_id,) in db_rows(db_path, "SELECT id FROM orders")}
    assert set(answered) <= stored
    wal = db_path.with_name(db_path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "the WAL was not merged at the stop"


def test_sighup_of_a_separate_worker_stops_it_cleanly(orderhub_procs: OrderhubProcesses, tmp_path: Path) -> None:
    db_path = tmp_path / "x.db"
    server = orderhub_procs.serve(db_path, extra_args=["--no-worker"])
    worker = orderhub_procs.spawn(["worker", "--db", sqlite_url(db_path)], env={"ORDERHUB_WORKER_POLL_SECONDS": "0.2"})
    token = get_token(server.base_url)
    with client(server.base_url) as http:
        answer = http.post("/esim/v1/order", json=new_esim_body("hup@example.com"), headers=api_headers(token))
    assert answer.status_code == 201, answer.text
    done = "SELECT COUNT(*) FROM orders WHERE state = 'completed'"
    wait_until(lambda: db_rows(db_path, done) == [(1,)], timeout=20, message="the worker to complete the order")

    worker.popen.send_signal(signal.SIGHUP)
    assert worker.popen.wait(timeout=15) == 0, worker.log()
