"""SIGTERM in the middle of a burst of orders: the service stops quickly, every 201 stands, and a partner
that retries what got no answer (same Idempotency-Key) ends with exactly one order per key."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.integration.support import OrderhubProcesses, api_headers, client, get_token, new_esim_body

pytestmark = pytest.mark.integration

THREADS = 16
SIGTERM_AFTER_ANSWERS = 150


def _stored(db_path: Path) -> dict[str, tuple[str, str]]:
    """Each stored order's Idempotency-Key -> (order id, state)."""
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        rows = connection.execute(
            "SELECT k.key, o.id, o.state FROM idempotency_keys k JOIN orders o ON o.id = k.order_id"
        ).fetchall()
    finally:
        connection.close()
    return {key: (order_id, state) for key, order_id, state in rows}


def test_sigterm_under_load_keeps_every_answered_order_and_retries_make_exactly_one_order_per_key(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    db_path = tmp_path / "x.db"
    server = orderhub_procs.serve(db_path)
    token = get_token(server.base_url)
    answered: dict[str, str] = {}  # key -> order id, from a 201
    unanswered: dict[str, dict[str, object]] = {}  # key -> body, for requests that got no answer
    statuses: Counter[int] = Counter()
    lock, stop = threading.Lock(), threading.Event()

    def keep_ordering() -> None:
        with client(server.base_url, timeout=10) as http:
            while not stop.is_set():
                key, body = str(uuid.uuid4()), new_esim_body(f"t-{uuid.uuid4().hex[:10]}@example.com")
                headers = {**api_headers(token), "Idempotency-Key": key}
                try:
                    response = http.post("/esim/v1/order", json=body, headers=headers)
                except httpx.TransportError:
                    with lock:
                        unanswered[key] = body
                    stop.wait(0.02)  # the server is going away: do not spin on refused connections
                    continue
                with lock:
                    statuses[response.status_code] += 1
                    if response.status_code == 201:
                        answered[key] = response.json()["id"]

    threads = [threading.Thread(target=keep_ordering) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 30
        while len(answered) < SIGTERM_AFTER_ANSWERS and time.monotonic() < deadline:
            time.sleep(0.01)
        stopping_since = time.monotonic()
        server.terminate(timeout=15)
        stopped_in = time.monotonic() - stopping_since
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    assert len(answered) >= SIGTERM_AFTER_ANSWERS, server.log()
    assert stopped_in < 10, f"SIGTERM took {stopped_in:.1f} s"
    assert set(statuses) == {201}, statuses  # no error answers while stopping, only answers or none
    stored = _stored(db_path)
    # Every 201 stands, completed; anything else stored is an order whose answer was lost on the way.
    assert {key: order_id for key, (order_id, _) in stored.items() if key in answered} == answered
    assert {state for _, state in stored.values()} == {"completed"}
    assert set(stored) - set(answered) <= set(unanswered)

    # The partner retries every request that got no answer, with its key: one order per key, always.
    restarted = orderhub_procs.serve(db_path, demo=False)
    token = get_token(restarted.base_url)
    with client(restarted.base_url) as http:
        for key, body in unanswered.items():
            response = http.post("/esim/v1/order", json=body, headers={**api_headers(token), "Idempotency-Key": key})
            assert response.status_code == 201, response.text
            if key in stored:  # it had been committed before the stop: the retry gets that order
                assert response.headers.get("Idempotent-Replayed") == "true"
                assert response.json()["id"] == stored[key][0]
    after = _stored(db_path)
    assert set(after) == set(answered) | set(unanswered)
    assert len({order_id for order_id, _ in after.values()}) == len(after)
