"""Kill -9 the service in the middle of a burst of orders, restart it, and every accepted order completes once."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.integration.support import (
    OrderhubProcesses,
    api_headers,
    client,
    get_token,
    new_esim_body,
    wait_until,
)

pytestmark = pytest.mark.integration

TOTAL_ORDERS = 200
THREADS = 24
KILL_AFTER_RESPONSES = 80
KILL_AT_THE_LATEST = 120
LEASE_ENV = {"ORDERHUB_WORKER_LEASE_SECONDS": "2"}
UNFINISHED = "SELECT COUNT(*) FROM orders WHERE state IN ('accepted', 'scheduled', 'in_progress')"
LEASED = UNFINISHED + " AND lease_owner IS NOT NULL"


def _db_rows(db_path: Path, query: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    # Read-only, and closed at once, so the service's own connections are not disturbed.
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return connection.execute(query, params).fetchall()
    finally:
        connection.close()


@pytest.mark.parametrize(
    "fulfil_inline",
    [
        # Accepted by `serve --no-worker`, so the kill surely leaves work behind; the restarted service's
        # worker must find every order and fulfil it once.
        pytest.param("false", id="left-to-the-worker"),
        pytest.param("true", id="fulfilled-at-intake"),  # the default: an order commits completed
    ],
)
def test_orders_accepted_before_a_sigkill_complete_after_restart_each_with_its_own_esim(
    orderhub_procs: OrderhubProcesses, tmp_path: Path, fulfil_inline: str
) -> None:
    db_path = tmp_path / "x.db"
    env = {**LEASE_ENV, "ORDERHUB_FULFIL_INLINE": fulfil_inline}
    server = orderhub_procs.serve(db_path, env=env, extra_args=["--no-worker"] if fulfil_inline == "false" else [])
    token = get_token(server.base_url)

    lock = threading.Lock()
    accepted: dict[str, str] = {}  # order id -> customer email, for every 201
    other_statuses: list[tuple[int, str]] = []
    transport_errors: Counter[str] = Counter()
    responses = 0
    responses_at_kill: int | None = None
    leased_at_kill = 0
    enough_responses = threading.Event()
    local = threading.local()
    clients: list[httpx.Client] = []

    def place(number: int) -> None:
        nonlocal responses
        if not hasattr(local, "http"):
            local.http = client(server.base_url, timeout=15.0)
            with lock:
                clients.append(local.http)
        email = f"crash-{number}-{uuid.uuid4().hex[:8]}@example.com"
        headers = api_headers(token, correlation_id=f"crash-test-{number}-{uuid.uuid4()}")
        try:
            response = local.http.post("/esim/v1/order", json=new_esim_body(email), headers=headers)
        except httpx.TransportError as exc:  # expected once the server is dead
            with lock:
                transport_errors[type(exc).__name__] += 1
            return
        with lock:
            responses += 1
            if response.status_code == 201:
                accepted[response.json()["id"]] = email
            else:
                other_statuses.append((response.status_code, response.text[:300]))
            if responses >= KILL_AFTER_RESPONSES:
                enough_responses.set()

    def killer() -> None:
        # Once enough answers are back, kill the moment the worker holds leases on unfinished orders, so
        # the restarted service has to wait those leases out and redo the work; but kill mid-burst anyway.
        nonlocal responses_at_kill, leased_at_kill
        enough_responses.wait(timeout=45)
        watch = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
        try:
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline and responses < KILL_AT_THE_LATEST:
                leased_at_kill = watch.execute(LEASED).fetchone()[0]
                if leased_at_kill:
                    break
                time.sleep(0.001)
            server.kill()
            with lock:
                responses_at_kill = responses
        finally:
            watch.close()

    kill_thread = threading.Thread(target=killer, name="killer")
    kill_thread.start()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(place, range(TOTAL_ORDERS)))
    enough_responses.set()  # never leave the killer waiting, even if the burst ended early
    kill_thread.join(timeout=15)
    for http_client in clients:
        http_client.close()
    burst_seconds = time.monotonic() - started

    assert server.popen.returncode is not None, "the server should have been killed"
    assert not other_statuses, f"every HTTP answer before the kill should be 201: {other_statuses[:5]}"
    assert responses_at_kill is not None
    assert responses_at_kill < TOTAL_ORDERS, "the kill should land while orders were still being placed"
    assert len(accepted) > 0, "some orders should have been accepted before the kill"
    assert sum(transport_errors.values()) > 0, "requests after the kill should have failed"
    assert len(set(accepted.values())) == len(accepted)

    # What the dead process left behind: orders the worker had not finished, some of them leased by it.
    left_unfinished = _db_rows(db_path, UNFINISHED)[0][0]
    left_leased_ids = [row[0] for row in _db_rows(db_path, LEASED.replace("COUNT(*)", "id"))]
    left_leased = len(left_leased_ids)
    stored = _db_rows(db_path, "SELECT COUNT(*) FROM orders")[0][0]
    print(
        f"burst {burst_seconds:.1f}s: {len(accepted)} accepted, {stored} stored, {responses_at_kill} answers at kill,"
        f" transport errors {dict(transport_errors)}; leased seen {leased_at_kill}, left unfinished"
        f" {left_unfinished}, leased {left_leased}"
    )

    if fulfil_inline == "false":
        assert left_unfinished > 0, "the kill should leave work behind for the restarted service to recover"
    else:
        assert left_unfinished == 0, "an order fulfilled at intake commits completed, or not at all"

    restarted = orderhub_procs.serve(db_path, env=env)
    token = get_token(restarted.base_url)
    pending = set(accepted)
    statuses: dict[str, dict] = {}

    with client(restarted.base_url) as http:

        def all_completed() -> bool:
            for order_id in sorted(pending):
                response = http.get(f"/esim/v1/order/{order_id}", headers=api_headers(token))
                assert response.status_code == 200, response.text
                body = response.json()
                assert body["status"] != "FAILED", f"order {order_id} failed: {body.get('failureReason')}"
                if body["status"] == "COMPLETED":
                    statuses[order_id] = body
                    pending.discard(order_id)
            return not pending

        wait_until(all_completed, timeout=60, interval=0.5, message=f"{len(accepted)} orders to complete")

    assert set(statuses) == set(accepted)
    assert all(body["status"] == "COMPLETED" for body in statuses.values())
    assert all(body["input"]["customer"]["email"] == accepted[order_id] for order_id, body in statuses.items())
    iccids = {order_id: body["output"]["iccid"] for order_id, body in statuses.items()}
    assert len(set(iccids.values())) == len(iccids), "two orders were given the same eSIM"
    matching_ids = [body["output"]["matchingId"] for body in statuses.values()]
    assert len(set(matching_ids)) == len(matching_ids)

    # Even orders whose 201 was lost in the kill were committed, so they must not be left behind either.
    wait_until(
        lambda: _db_rows(db_path, "SELECT COUNT(*) FROM orders WHERE state <> 'completed'")[0][0] == 0,
        timeout=20,
        message="every stored order to complete",
    )

    # The database agrees: one profile per order, one order per profile, and it is the one the API showed.
    doubly_assigned = _db_rows(
        db_path,
        "SELECT order_id, COUNT(*) FROM esim_profiles WHERE order_id IS NOT NULL GROUP BY order_id HAVING COUNT(*) > 1",
    )
    assert doubly_assigned == []
    iccids_with_two_orders = _db_rows(
        db_path,
        "SELECT iccid, COUNT(DISTINCT order_id) FROM subscriptions GROUP BY iccid HAVING COUNT(DISTINCT order_id) > 1",
    )
    assert iccids_with_two_orders == []
    profile_of = dict(_db_rows(db_path, "SELECT order_id, iccid FROM esim_profiles WHERE order_id IS NOT NULL"))
    for order_id, iccid in iccids.items():
        rows = _db_rows(db_path, "SELECT iccid, state FROM esim_profiles WHERE order_id = ?", (order_id,))
        assert rows == [(iccid, "released")], f"order {order_id}: profiles {rows}, API says {iccid}"
        assert profile_of[order_id] == iccid
    stored_orders = _db_rows(db_path, "SELECT COUNT(*) FROM orders")[0][0]
    assert len(profile_of) == stored_orders, "every stored order holds exactly one profile"
    # The insert-only assignment ledger (unique iccid, unique order_id) says the same.
    assert dict(_db_rows(db_path, "SELECT order_id, iccid FROM esim_assignments")) == profile_of
    # Each order completed exactly once (a re-run after the crash must not complete it a second time).
    completions = _db_rows(
        db_path,
        "SELECT order_id FROM order_events WHERE to_state = 'completed' GROUP BY order_id HAVING COUNT(*) > 1",
    )
    assert completions == []
    # Orders the dead worker held a lease on were taken again, by the new worker, once the lease expired.
    for order_id in left_leased_ids:
        attempts = _db_rows(db_path, "SELECT attempts FROM orders WHERE id = ?", (order_id,))[0][0]
        assert attempts >= 2, f"order {order_id} was leased at the kill but claimed only {attempts} time(s)"
    assert restarted.popen.poll() is None, f"the restarted service died:\n{restarted.log()}"
