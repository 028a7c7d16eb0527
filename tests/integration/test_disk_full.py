"""No room for the database under a real server process: /readyz says so (503, the reason) while writes
are refused for it and says ready again once there is room, with no traffic in between (a load balancer
sends none to a node that is not ready); the log says it once, not once per refused write.

The room is taken deterministically, without a mount: the server's file size limit (RLIMIT_FSIZE, set
on the running process with prlimit) is what a full disk is to SQLite's writes past it. A real full
tmpfs is tried too where this host lets the test mount one.
"""

from __future__ import annotations

import contextlib
import json
import re
import resource
import subprocess
import uuid
from collections.abc import Iterator
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

# Quiet (no access lines), so that the server's own log file stays far below the limit set on it.
ENV = {"ORDERHUB_DB_WRITE_TIMEOUT_SECONDS": "1", "ORDERHUB_LOG_LEVEL": "WARNING"}
# Far below the database's files (its WAL alone holds over a megabyte after the demo data).
FILE_SIZE_LIMIT = 64 * 1024


def _order(server: OrderhubProcess, token: str) -> int:
    with client(server.base_url) as http:
        body = new_esim_body(f"full-{uuid.uuid4().hex[:8]}@example.com")
        return http.post("/esim/v1/order", json=body, headers=api_headers(token)).status_code


def _readyz(server: OrderhubProcess) -> httpx.Response:
    with client(server.base_url) as http:
        return http.get("/readyz")


def _sign_in(server: OrderhubProcess) -> int:
    with client(server.base_url) as http:
        form = {
            "grant_type": "client_credentials",
            "client_id": "demo-reseller-1",
            "client_secret": "demo-reseller-1-secret",
        }
        return http.post("/oauth2/token", data=form).status_code


def _log_messages(server: OrderhubProcess) -> list[str]:
    messages = []
    for line in server.log_path.read_text().splitlines():
        with contextlib.suppress(ValueError):
            messages.append(str(json.loads(line).get("message", "")))
    return messages


def _until_refused(server: OrderhubProcess, token: str) -> None:
    # A WAL that a checkpoint just reset takes a commit or two at its start, below the limit, first.
    wait_until(lambda: _order(server, token) == 503, timeout=10, interval=0, message="an order refused")


def test_no_room_to_grow_is_not_ready_until_there_is_room_again_without_traffic(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    server = orderhub_procs.serve(tmp_path / "x.db", env=ENV)
    token = get_token(server.base_url)
    assert _order(server, token) == 201

    resource.prlimit(server.pid, resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, resource.RLIM_INFINITY))
    try:
        _until_refused(server, token)
        assert [_order(server, token) for _ in range(20)] == [503] * 20
        assert _sign_in(server) == 503
        not_ready = _readyz(server)
        assert not_ready.status_code == 503, not_ready.text
        assert not_ready.json()["reason"] == "disk full: the database cannot grow (File too large)"
        assert int(not_ready.headers["retry-after"]) >= 1
    finally:
        resource.prlimit(server.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    # Nothing but the probe itself between the room coming back and the probe saying ready.
    wait_until(lambda: _readyz(server).status_code == 200, timeout=30, message="/readyz to say ready again")
    assert _order(server, token) == 201
    assert _sign_in(server) == 200

    messages = _log_messages(server)
    refused = [message for message in messages if message.startswith("writes refused")]
    assert len(refused) == 1, messages  # once when it started, not once per refused write
    assert sum(message.startswith("writes succeed again") for message in messages) == 1, messages
    # What the log says once, /metrics counts for an alert: every write refused, the 20 orders above among them.
    with client(server.base_url) as http:
        metrics = http.get("/metrics").text
    refused_total = re.search(r"^orderhub_db_writes_refused_total (\S+)$", metrics, re.M)
    assert refused_total is not None and float(refused_total.group(1)) >= 21, metrics


@contextlib.contextmanager
def _small_tmpfs(folder: Path) -> Iterator[Path]:
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_tmpfs_is_not_ready_and_ready_again_once_space_is_freed(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    with _small_tmpfs(tmp_path / "disk") as disk:
        server = orderhub_procs.serve(disk / "x.db", env=ENV)
        token = get_token(server.base_url)
        assert _order(server, token) == 201
        filler = disk / "filler"
        with filler.open("wb") as fill, contextlib.suppress(OSError):  # until the disk is full
            while True:
                fill.write(bytes(1024 * 1024))
                fill.flush()

        not_ready = _readyz(server)
        assert not_ready.status_code == 503, not_ready.text
        assert not_ready.json()["reason"].startswith("disk full: ")
        assert _order(server, token) == 503

        filler.unlink()
        wait_until(lambda: _readyz(server).status_code == 200, timeout=30, message="/readyz to say ready again")
        assert _order(server, token) == 201
        server.terminate()
