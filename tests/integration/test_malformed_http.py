"""A request that is not HTTP (a header line without a colon, a length that is no number, a request line
that is no request line) is refused by the server's parser before any route: a real `orderhub serve`
answers it 400 in the error shape of the API its path names, as it answers that API's other 400s, and
closes the connection."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from tests.integration.support import HOST, one_empty_server

pytestmark = pytest.mark.integration

NOT_HTTP = "the request is not valid HTTP/1.1: check the request line and the headers"


def _ask(port: int, raw: bytes) -> tuple[bytes, dict[str, str], object]:
    with socket.create_connection((HOST, port), timeout=10) as connection:
        connection.sendall(raw)
        answer = b""
        while chunk := connection.recv(65536):  # the server closes the connection after it
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines)}
    return status.encode(), headers, json.loads(body)


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """One server for every case (a start costs a second)."""
    with one_empty_server(tmp_path_factory.mktemp("not-http")) as server_port:
        yield server_port


@pytest.mark.parametrize(
    ("raw", "body"),
    [
        (
            b"POST /esim/v1/order HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
            {"type": "INVALID_HTTP_MESSAGE", "messages": [NOT_HTTP]},
        ),
        (
            b"POST /emida-ux-lcr/emida-ux/v1/CR/productOrder?x=1 HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
            {"code": "INVALID_REQUEST", "reason": "Bad Request", "message": NOT_HTTP, "status": "400"},
        ),
        (
            b"POST /2.5/sp_spec/order/ HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n",
            {"cause": f"Bad request: {NOT_HTTP}", "message": "The order could not be read."},
        ),
        (
            b"POST /oauth2/token HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
            {"error": "invalid_request", "error_description": NOT_HTTP},
        ),
        (b"NOT A REQUEST LINE\r\n\r\n", {"detail": NOT_HTTP}),
        # Refused inside the URL (a byte no URL holds), of which the parser named nothing: Schemathesis
        # sends such paths, and they were answered {"detail": ...} whatever API they named.
        (
            b"GET /esim/v1/pro\x01duct HTTP/1.1\r\nHost: x\r\nX-Correlation-ID: c\r\n\r\n",
            {"type": "INVALID_HTTP_MESSAGE", "messages": [NOT_HTTP]},
        ),
        (
            b"GET /emida-ux-lcr/emida-ux/v1/CR/productOrder/\x7f HTTP/1.1\r\nHost: x\r\n\r\n",
            {"code": "INVALID_REQUEST", "reason": "Bad Request", "message": NOT_HTTP, "status": "400"},
        ),
        (
            b"POST /2.5/sp_spec/order/?\x80 HTTP/1.1\r\nHost: x\r\n\r\n",
            {"cause": f"Bad request: {NOT_HTTP}", "message": "The order could not be read."},
        ),
    ],
    ids=["esim-v1", "tmf-productorder", "onapi-order", "oauth2", "no path", "esim-v1 URL", "tmf URL", "onapi URL"],
)
def test_a_request_that_is_not_http_is_answered_400_in_its_apis_error_shape(
    port: int, raw: bytes, body: object
) -> None:
    status, headers, answered = _ask(port, raw)
    assert status == b"HTTP/1.1 400 Bad Request"
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    assert answered == body
