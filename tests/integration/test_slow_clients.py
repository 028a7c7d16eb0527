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


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/esim/v1/order", "application/json"),  # a hot route (web.hot_paths)
        ("/tmf-api/productOrderingManagement/v4/hub", "application/json"),  # the body guard's middleware
        ("/oauth2/token", "application/x-www-form-urlencoded"),
    ],
)
def test_a_body_still_trickling_after_its_408_does_not_hold_the_connection(
    orderhub_procs: OrderhubProcesses, tmp_path: Path, path: str, content_type: str
) -> None:
    """The 408 says Connection: close and the server closes after it: before, the connection stayed open
    for as long as the client kept sending a byte of body now and then (still open at 45 s)."""
    server = orderhub_procs.serve(tmp_path / "trickle.db", env={"ORDERHUB_REQUEST_BODY_TIMEOUT_SECONDS": "1"})
    assert server.port is not None
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nX-Correlation-ID: trickle-1\r\nContent-Type: {content_type}\r\n"
    with socket.create_connection((HOST, server.port), timeout=0.5) as connection:
        connection.sendall(head.encode() + b"Transfer-Encoding: chunked\r\n\r\n")
        received, closed, started = b"", False, time.monotonic()
        while not closed and time.monotonic() - started < 6:
            try:
                connection.sendall(b"1\r\n \r\n")  # a byte of body every half second
                chunk = connection.recv(65536)
            except TimeoutError:
                continue
            except (ConnectionResetError, BrokenPipeError):
                closed = True  # and our last byte answered with a reset
                break
            received += chunk
            closed = chunk == b""
    assert received.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), received
    assert b"\r\nconnection: close\r\n" in received.lower()
    assert closed, "the connection was still open 5 s after the 408"
