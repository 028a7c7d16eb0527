"""Slow clients against a real `orderhub serve`: headers that trickle are cut off, a body that stops
arriving is answered 408; neither holds a connection for long."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from tests.integration.support import HOST, OrderhubProcesses

pytestmark = pytest.mark.integration


def test_trickled_headers_are_cut_off_and_other_clients_are_served(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    server = orderhub_procs.serve(
        tmp_path / "slow.db",
        env={"ORDERHUB_REQUEST_HEADER_TIMEOUT_SECONDS": "1", "ORDERHUB_REQUEST_BODY_TIMEOUT_SECONDS": "1"},
    )
    assert server.port is not None
    slow = []
    for _ in range(20):
        connection = socket.create_connection((HOST, server.port), timeout=10)
        connection.sendall(b"POST /esim/v1/order HTTP/1.1\r\nHost: x\r\n")  # and never the rest
        slow.append(connection)
    started = time.monotonic()
    for connection in slow:
        assert connection.recv(1024) == b""  # closed by the server
        connection.close()
    assert time.monotonic() - started < 8
    with socket.create_connection((HOST, server.port), timeout=10) as fine:
        fine.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert fine.recv(1024).startswith(b"HTTP/1.1 200")
