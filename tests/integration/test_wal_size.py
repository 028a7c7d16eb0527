"""The WAL behind a long reader: it grows while the reader holds its snapshot (a checkpoint cannot pass
it), and once the reader is gone and orders keep coming, the file shrinks back to SQLite's
journal_size_limit instead of staying at its peak on disk until the process stops."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from pathlib import Path

import pytest

from orderhub.store.database import SQLITE_WAL_LIMIT_BYTES
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

THREADS = 8


def _keep_ordering(server: OrderhubProcess, token: str, until: threading.Event) -> list[threading.Thread]:
    def orders() -> None:
        with client(server.base_url) as http:
            while not until.is_set():
                body = new_esim_body(f"wal-{uuid.uuid4().hex[:8]}@example.com")
                answer = http.post("/esim/v1/order", json=body, headers=api_headers(token))
                assert answer.status_code == 201, answer.text

    threads = [threading.Thread(target=orders) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    return threads


def test_the_wal_shrinks_back_to_its_limit_once_a_long_reader_ends(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    db_path = tmp_path / "x.db"
    wal = db_path.with_name(db_path.name + "-wal")
    server = orderhub_procs.serve(db_path, env={"ORDERHUB_LOG_LEVEL": "WARNING"})
    token = get_token(server.base_url)
    reader = sqlite3.connect(db_path, isolation_level=None)
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM orders").fetchone()  # a snapshot held from here on
        threads = _keep_ordering(server, token, stop)
        peak = 2 * SQLITE_WAL_LIMIT_BYTES
        wait_until(lambda: wal.stat().st_size > peak, timeout=20, interval=0.05, message="the WAL to grow")
        reader.execute("ROLLBACK")
        wait_until(
            lambda: wal.stat().st_size <= SQLITE_WAL_LIMIT_BYTES,
            timeout=10,
            interval=0.05,
            message=f"the WAL to shrink back from over {peak} bytes",
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        reader.close()
    assert server.popen.poll() is None, server.log()
