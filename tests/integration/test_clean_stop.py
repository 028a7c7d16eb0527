"""A clean stop (SIGTERM) of `orderhub serve` or `orderhub worker` leaves a SQLite database file that
holds everything by itself: a copy of the file alone, without its -wal, finds every order."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest

from tests.integration.support import OrderhubProcesses, db_rows, get_token, place_order, sqlite_url, wait_until

pytestmark = pytest.mark.integration


def _orders_in_a_copy_of_the_file_alone(db_path: Path, tmp_path: Path) -> dict[str, str]:
    copy = tmp_path / f"copy-{uuid.uuid4().hex[:6]}.db"
    shutil.copyfile(db_path, copy)  # the .db only: no -wal, no -shm beside the copy
    connection = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        return dict(connection.execute("SELECT id, state FROM orders").fetchall())
    finally:
        connection.close()


def _place(server_url: str, count: int) -> list[str]:
    token = get_token(server_url)
    return [place_order(server_url, token, f"stop-{uuid.uuid4().hex[:8]}@example.com") for _ in range(count)]


@pytest.mark.parametrize("worker", [True, False], ids=["serve", "serve-no-worker"])
def test_sigterm_of_serve_leaves_a_self_contained_database_file(
    orderhub_procs: OrderhubProcesses, tmp_path: Path, worker: bool
) -> None:
    db_path = tmp_path / "x.db"
    server = orderhub_procs.serve(db_path, extra_args=[] if worker else ["--no-worker"])
    placed = _place(server.base_url, 5)
    server.terminate(timeout=15)  # the server re-raises SIGTERM once stopped: its exit code is -15

    found = _orders_in_a_copy_of_the_file_alone(db_path, tmp_path)
    assert set(placed) <= set(found), server.log()
    wal = db_path.with_name(db_path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_sigterm_of_a_separate_worker_leaves_its_work_in_the_database_file(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    db_path = tmp_path / "x.db"
    server = orderhub_procs.serve(db_path, extra_args=["--no-worker"])
    placed = _place(server.base_url, 3)
    server.terminate(timeout=15)  # the server re-raises SIGTERM once stopped: its exit code is -15
    assert set(_orders_in_a_copy_of_the_file_alone(db_path, tmp_path).values()) == {"accepted"}

    worker = orderhub_procs.spawn(["worker", "--db", sqlite_url(db_path)], env={"ORDERHUB_WORKER_POLL_SECONDS": "0.2"})
    query = "SELECT COUNT(*) FROM orders WHERE state = 'completed'"
    wait_until(lambda: db_rows(db_path, query) == [(3,)], timeout=20, message="the worker to complete the orders")
    assert worker.terminate(timeout=15) == 0, worker.log()

    found = _orders_in_a_copy_of_the_file_alone(db_path, tmp_path)
    assert {found[order_id] for order_id in placed} == {"completed"}, worker.log()
