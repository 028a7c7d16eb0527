"""Request heads a real `orderhub serve` refuses before any route: a request line and headers beyond
their bound (431, read no further than the bound), and a transfer coding other than chunked (501, which
a proxy in front could frame differently: request smuggling). Each is answered in the error shape of the
API its path names, as the parser's 400s are (test_malformed_http.py), and its connection closed."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator

import pytest

from tests.integration.support import HOST, one_empty_server
from tests.integration.test_malformed_pipelined import _answers, _read_to_the_end

pytestmark = pytest.mark.integration

HEAD_TOO_LARGE = "the request line and headers are larger than 65536 bytes"
TOO_MANY_FIELDS = "the request has more than 100 header fields"
NOT_CHUNKED = "a Transfer-Encoding other than chunked is not supported"
NOT_HTTP = "the request is not valid HTTP/1.1: check the request line and the headers"


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """One server for every case (a start costs a second)."""
    with one_empty_server(tmp_path_factory.mktemp("heads")) as server_port:
        yield server_port


def _ask(port: int, raw: bytes) -> tuple[int, dict[str, str], object]:
    """The one answer to ``raw``, read until the server closes the connection."""
    with socket.create_connection((HOST, port), timeout=10) as connection:
        connection.sendall(raw)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines)}
    return int(status.split()[1]), headers, json.loads(body)


def _fields(count: int) -> bytes:
    return b"".join(b"X-Field-%d: y\r\n" % number for number in range(count))


def _healthy(port: int) -> bool:
    with socket.create_connection((HOST, port), timeout=10) as fine:
        fine.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return fine.recv(1024).startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize(
    ("raw", "body"),
    [
        (
            b"GET /esim/v1/order/x HTTP/1.1\r\nHost: x\r\n" + _fields(100) + b"\r\n",
            {"type": "INVALID_HTTP_MESSAGE", "messages": [TOO_MANY_FIELDS]},
        ),
        (
            b"GET /emida-ux/v1/CR/productOrder/x HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 70_000 + b"\r\n\r\n",
            {
                "code": "INVALID_REQUEST",
                "reason": "Request Header Fields Too Large",
                "message": HEAD_TOO_LARGE,
                "status": "431",
            },
        ),
        (b"GET /2.5/sp_spec/order/x HTTP/1.1\r\nHost: x\r\n" + _fields(5000) + b"\r\n", {"cause": TOO_MANY_FIELDS}),
        (b"GET /healthz?" + b"q" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", {"detail": HEAD_TOO_LARGE}),
    ],
    ids=["esim-v1 101 fields", "tmf-productorder 70 kB header", "onapi-order 5000 fields", "70 kB URL"],
)
def test_a_head_past_its_bound_is_answered_431_in_its_apis_error_shape(port: int, raw: bytes, body: object) -> None:
    status, headers, answered = _ask(port, raw)
    assert (status, headers["connection"], answered) == (431, "close", body)
    assert (headers["cache-control"], headers["x-content-type-options"]) == ("no-store", "nosniff")
    assert _healthy(port)


def test_a_get_pipelined_before_a_head_past_its_bound_is_answered_first(port: int) -> None:
    raw = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + b"GET /esim/v1/order/x HTTP/1.1\r\n" + _fields(101) + b"\r\n"
    with socket.create_connection((HOST, port), timeout=10) as connection:
        connection.sendall(raw)
        answers = _answers(_read_to_the_end(connection))
    assert [(status, body) for status, _, body in answers] == [
        (200, {"status": "ok"}),
        (431, {"type": "INVALID_HTTP_MESSAGE", "messages": [TOO_MANY_FIELDS]}),
    ]
    assert answers[1][1]["connection"] == "close"


def test_no_answer_names_the_server_software(port: int) -> None:
    # "server: uvicorn" told a scanner which stack to try its known flaws on, and told partners nothing.
    served = _ask(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    refused = _ask(port, ESIM_POST + b"Transfer-Encoding: gzip\r\n\r\n" + CHUNKED_BODY)
    assert (served[0], refused[0]) == (200, 501)
    assert "server" not in served[1] and "server" not in refused[1]
    assert "date" in served[1]


def test_a_head_within_its_bound_is_served(port: int) -> None:
    """100 fields (Host among them) and 60 kB of them: the bound, not less."""
    pad = b"X-Pad: " + b"a" * 60_000 + b"\r\n"
    raw = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + pad + _fields(97) + b"\r\n"
    assert _ask(port, raw)[0] == 200


def test_a_header_that_never_ends_is_refused_long_before_it_is_all_sent(port: int) -> None:
    """5 MiB of one header's value, sent in pieces: the server answers 431 and closes once it has read
    past the bound, without holding the rest (before the fix, it held all of it and answered 200)."""
    total, piece = 5 * 1024 * 1024, b"a" * 16384
    sent, answer = 0, b""
    with socket.create_connection((HOST, port), timeout=10) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ")
        try:
            while sent < total:
                connection.sendall(piece)
                sent += len(piece)
                if select.select([connection], [], [], 0.01)[0]:
                    while chunk := connection.recv(65536):
                        answer += chunk
                    break
        except (ConnectionResetError, BrokenPipeError):
            pass  # closed by the server while the header was still coming: the bytes after the 431 reset it
    assert sent < total / 4, sent
    if answer:  # the 431 may be lost to the reset that the unread bytes cause; if it arrived, it is this
        assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), answer[:200]
        assert json.loads(answer.partition(b"\r\n\r\n")[2]) == {"detail": HEAD_TOO_LARGE}
    assert _healthy(port)


ESIM_POST = b"POST /esim/v1/order HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Correlation-ID: te-1\r\n"
CHUNKED_BODY = b"2\r\n{}\r\n0\r\n\r\n"


@pytest.mark.parametrize(
    "codings",
    [
        b"Transfer-Encoding: gzip, chunked\r\n",
        b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: gzip\r\n",
    ],
    ids=["gzip, chunked", "two fields", "gzip"],
)
def test_a_transfer_coding_other_than_chunked_is_answered_501(port: int, codings: bytes) -> None:
    status, headers, answered = _ask(port, ESIM_POST + codings + b"\r\n" + CHUNKED_BODY)
    assert (status, headers["connection"]) == (501, "close")
    # Answered by the server's protocol, not a route: kept by no cache, as every answer (tests/api).
    assert (headers["cache-control"], headers["x-content-type-options"]) == ("no-store", "nosniff")
    assert answered == {"type": "INVALID_HTTP_MESSAGE", "messages": [NOT_CHUNKED]}


def test_chunked_in_any_case_is_read_as_chunked(port: int) -> None:
    """Coding names are case-insensitive (RFC 9112 §7): past the parser, to the API's 401 (no token)."""
    raw = ESIM_POST + b"Transfer-Encoding: Chunked\r\nConnection: close\r\n\r\n" + CHUNKED_BODY
    assert _ask(port, raw)[0] == 401


@pytest.mark.parametrize(
    "framing",
    [b"Transfer-Encoding: chunked\r\nContent-Length: 2\r\n", b"Transfer-Encoding: chunked, chunked\r\n"],
    ids=["with Content-Length", "chunked twice"],
)
def test_a_framing_that_is_not_http_is_answered_400(port: int, framing: bytes) -> None:
    """RFC 9112 §6.3: Transfer-Encoding and Content-Length on one request is how requests are smuggled
    past a proxy; chunked twice is no framing a sender may use (§7). The parser refuses both."""
    raw = ESIM_POST + framing + b"\r\n" + CHUNKED_BODY
    status, headers, answered = _ask(port, raw)
    assert (status, headers["connection"]) == (400, "close")
    assert answered == {"type": "INVALID_HTTP_MESSAGE", "messages": [NOT_HTTP]}


def test_every_refusal_of_the_server_names_its_request_with_a_correlation_id(port: int) -> None:
    """As every answer of the routes does: the partner's own id where its head was read as far as that
    field (a refusal of the head), a new one otherwise, never a malformed one echoed; none was sent."""
    mine = b"GET /esim/v1/order/x HTTP/1.1\r\nHost: x\r\nX-Correlation-ID: mine-431\r\n"
    status, headers, _ = _ask(port, mine + _fields(101) + b"\r\n")
    assert (status, headers["x-correlation-id"]) == (431, "mine-431")
    twice = b"GET /esim/v1/order/x HTTP/1.1\r\nHost: x\r\nX-Correlation-ID: mine-400\r\n"
    status, headers, _ = _ask(port, twice + b"Authorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n")
    assert (status, headers["x-correlation-id"]) == (400, "mine-400")
    status, headers, _ = _ask(port, ESIM_POST + b"Transfer-Encoding: gzip\r\n\r\n")
    assert (status, headers["x-correlation-id"]) == (501, "te-1")
    malformed = b"GET /esim/v1/order/x HTTP/1.1\r\nHost: x\r\nX-Correlation-ID: bad id\x01\r\n" + _fields(101)
    for raw in (malformed + b"\r\n", b"NOT HTTP\r\n\r\n", b"GET /esim/v1/order/x HTTP/1.1\r\n" + _fields(102)):
        status, headers, _ = _ask(port, raw)
        assert status in (400, 431) and len(headers["x-correlation-id"]) == 36, (raw[:40], headers)
