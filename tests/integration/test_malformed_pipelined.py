"""A request the parser refuses, pipelined behind valid ones on one connection: a real `orderhub serve`
answers the valid ones first, in order (RFC 9112 §9.3.2), then the 400, then closes. Answering only the
400 would leave a partner not knowing that its order was placed, and its retry would place another."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.support import (
    HOST,
    OrderhubProcess,
    OrderhubProcesses,
    api_headers,
    get_order,
    get_token,
    new_esim_body,
    place_order,
)

pytestmark = pytest.mark.integration

NOT_HTTP = "the request is not valid HTTP/1.1: check the request line and the headers"
REFUSED = b"GET /esim/v1/order/x HTTP/1.1\r\nBad Header: y\r\n\r\n"
ESIM_400 = {"type": "INVALID_HTTP_MESSAGE", "messages": [NOT_HTTP]}

Answer = tuple[int, dict[str, str], Any]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OrderhubProcess, Path, str]]:
    """One server for every case (a start costs a second); writes may wait on a lock held by a test,
    longer than headers may take (the header timeout must not cut a connection whose reading stopped)."""
    processes = OrderhubProcesses(tmp_path_factory.mktemp("pipelined"))
    try:
        db_path = processes.tmp_path / "pipelined.db"
        server = processes.serve(
            db_path, env={"ORDERHUB_DB_WRITE_TIMEOUT_SECONDS": "20", "ORDERHUB_REQUEST_HEADER_TIMEOUT_SECONDS": "1"}
        )
        yield server, db_path, get_token(server.base_url)
    finally:
        processes.close()


def _request(method: str, path: str, token: str, body: object = None) -> bytes:
    content = b"" if body is None else json.dumps(body).encode()
    headers = {**api_headers(token), "Host": "x", "Content-Length": str(len(content))}
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return head.encode() + b"\r\n" + content


def _answers(received: bytes) -> list[Answer]:
    """The responses of one connection, read to its end, each cut at its Content-Length."""
    answers: list[Answer] = []
    while received:
        head, separator, rest = received.partition(b"\r\n\r\n")
        assert separator, f"a response cut short: {received!r}"
        status, *lines = head.decode("latin-1").split("\r\n")
        headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines)}
        length = int(headers["content-length"])
        answers.append((int(status.split()[1]), headers, json.loads(rest[:length])))
        received = rest[length:]
    return answers


def _read_to_the_end(connection: socket.socket) -> bytes:
    received = b""
    while chunk := connection.recv(65536):  # the server closes the connection after the 400
        received += chunk
    return received


def _pipelined(server: OrderhubProcess, raw: bytes) -> list[Answer]:
    assert server.port is not None
    with socket.create_connection((HOST, server.port), timeout=15) as connection:
        connection.sendall(raw)
        return _answers(_read_to_the_end(connection))


def _after_an_answer(server: OrderhubProcess, first: bytes, then: bytes) -> list[Answer]:
    """The answers of a connection that sends ``first``, reads its answer (a JSON body), then sends ``then``
    (in a read of its own on the server's side) and reads to the end."""
    assert server.port is not None
    with socket.create_connection((HOST, server.port), timeout=15) as connection:
        connection.sendall(first)
        answered = b""
        while not answered.endswith(b"}"):
            chunk = connection.recv(65536)
            assert chunk, f"connection closed early: {answered!r}"
            answered += chunk
        connection.sendall(then)
        return _answers(answered + _read_to_the_end(connection))


def test_an_order_pipelined_before_a_refused_request_is_answered_201_then_the_400(
    served: tuple[OrderhubProcess, Path, str],
) -> None:
    server, _db_path, token = served
    order = _request("POST", "/esim/v1/order", token, new_esim_body("pipelined@doe.com"))
    (placed, placed_headers, body), (refused, refused_headers, refusal) = _pipelined(server, order + REFUSED)
    assert placed == 201 and isinstance(body, dict) and body["status"] == "ACCEPTED", body
    assert placed_headers.get("connection") != "close"
    assert (refused, refused_headers["connection"], refusal) == (400, "close", ESIM_400)
    assert get_order(server.base_url, token, body["id"])["id"] == body["id"]


def test_two_gets_pipelined_before_a_refused_request_are_answered_in_order_then_the_400(
    served: tuple[OrderhubProcess, Path, str],
) -> None:
    server, _db_path, token = served
    first = place_order(server.base_url, token, "first@doe.com")
    second = place_order(server.base_url, token, "second@doe.com")
    gets = b"".join(_request("GET", f"/esim/v1/order/{order_id}", token) for order_id in (first, second))
    # Bytes after the refused request are never read: no third 200.
    answers = _pipelined(server, gets + REFUSED + _request("GET", f"/esim/v1/order/{first}", token))
    assert [(status, body["id"] if status == 200 else body) for status, _, body in answers] == [
        (200, first),
        (200, second),
        (400, ESIM_400),
    ]


def test_a_slow_answer_still_comes_before_the_400(served: tuple[OrderhubProcess, Path, str]) -> None:
    server, db_path, token = served
    assert server.port is not None
    order = _request("POST", "/esim/v1/order", token, new_esim_body("slow@doe.com"))
    other = sqlite3.connect(db_path, isolation_level=None, timeout=10)
    other.execute("BEGIN IMMEDIATE")  # another program holds the write lock: the order's commit waits
    try:
        with socket.create_connection((HOST, server.port), timeout=15) as connection:
            connection.sendall(order + REFUSED)
            connection.settimeout(2.5)  # past the header timeout and its sweep
            with pytest.raises(TimeoutError):  # nothing yet: neither the 400 before the 201 nor a close
                connection.recv(65536)
            other.execute("ROLLBACK")
            connection.settimeout(15)
            started = time.monotonic()
            (placed, _, body), (refused, _, refusal) = _answers(_read_to_the_end(connection))
    finally:
        other.close()
    assert time.monotonic() - started < 10
    assert placed == 201 and isinstance(body, dict) and body["status"] == "ACCEPTED", body
    assert (refused, refusal) == (400, ESIM_400)
    assert get_order(server.base_url, token, body["id"])["id"] == body["id"]


def test_a_body_that_is_not_http_queued_behind_a_get_is_answered_400_after_it(
    served: tuple[OrderhubProcess, Path, str],
) -> None:
    server, _db_path, token = served
    chunked = b"POST /esim/v1/order HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nnot a chunk size\r\n"
    answers = _pipelined(server, _request("GET", "/healthz", token) + chunked)
    assert [(status, body) for status, _, body in answers] == [(200, {"status": "ok"}), (400, ESIM_400)]


def test_stray_bytes_after_an_answered_request_are_refused_400_and_closed(
    served: tuple[OrderhubProcess, Path, str],
) -> None:
    server, _db_path, token = served
    answers = _after_an_answer(server, _request("GET", "/esim/v1/order/unknown", token), b"stray bytes\r\n\r\n")
    assert [status for status, _, _ in answers] == [404, 400]
    assert answers[1][1]["connection"] == "close"


NOT_HTTP_BY_API = {
    "/esim/v1/order": ESIM_400,
    "/emida-ux-lcr/emida-ux/v1/CR/productOrder": {
        "code": "INVALID_REQUEST",
        "reason": "Bad Request",
        "message": NOT_HTTP,
        "status": "400",
    },
    "/2.5/sp_spec/order/": {"cause": f"Bad request: {NOT_HTTP}", "message": "The order could not be read."},
}


@pytest.mark.parametrize("path", list(NOT_HTTP_BY_API), ids=["esim-v1", "tmf-productorder", "onapi-order"])
@pytest.mark.parametrize(
    "refused",
    [b"FOO %s HTTP/1.1\r\nHost: x\r\n\r\n", b"GET %s/a\x01b HTTP/1.1\r\nHost: x\r\n\r\n"],
    ids=["unknown method", "control byte in the URL"],
)
def test_a_later_request_refused_in_its_request_line_is_answered_in_its_apis_error_shape(
    served: tuple[OrderhubProcess, Path, str], path: str, refused: bytes
) -> None:
    """Only a connection's first request used to be: a later one got {"detail": ...} whatever its API."""
    server, _db_path, token = served
    earlier = _request("GET", "/healthz", token) + _request("GET", "/esim/v1/order/unknown", token)
    answers = _pipelined(server, earlier + refused % path.encode())
    assert [(status, body) for status, _, body in answers[:1]] == [(200, {"status": "ok"})]
    assert [status for status, _, _ in answers[1:2]] == [404]
    assert answers[2][0] == 400 and answers[2][1]["connection"] == "close"
    assert answers[2][2] == NOT_HTTP_BY_API[path]


def test_a_later_request_refused_in_a_chunk_of_its_own_is_answered_in_its_apis_error_shape(
    served: tuple[OrderhubProcess, Path, str],
) -> None:
    server, _db_path, token = served
    refused = b"FOO /2.5/sp_spec/order/ HTTP/1.1\r\nHost: x\r\n\r\n"
    answers = _after_an_answer(server, _request("GET", "/healthz", token), refused)
    assert [(status, body) for status, _, body in answers] == [
        (200, {"status": "ok"}),
        (400, NOT_HTTP_BY_API["/2.5/sp_spec/order/"]),
    ]
