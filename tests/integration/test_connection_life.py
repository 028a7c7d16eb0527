"""When a connection closes around its requests (found by fuzzing the request path): an Upgrade no
longer frames a body as another request, a half-closed client still gets its answer, a request answered
before its body came does not hold the connection nor get a second answer, a client that never reads its
answers cannot make the server queue requests without end, and the head's fields are read as HTTP says."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import pytest

from orderhub.settings import Settings
from tests.integration.support import HOST, OrderhubProcesses
from tests.integration.test_malformed_pipelined import _answers, _read_to_the_end

LINGER = 1.0  # the head's bound in this server, which the rest of an answered request's body gets too


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    processes = OrderhubProcesses(tmp_path_factory.mktemp("life"))
    try:
        env = {"ORDERHUB_REQUEST_HEADER_TIMEOUT_SECONDS": str(LINGER)}
        server = processes.serve(processes.tmp_path / "life.db", demo=False, env=env)
        assert server.port is not None
        yield server.port
    finally:
        processes.close()


def connect(port: int) -> socket.socket:
    return socket.create_connection((HOST, port), timeout=15)


def test_an_upgrade_is_refused_and_its_body_never_runs_as_a_request(port: int) -> None:
    smuggled = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    head = (
        b"POST /oauth2/token HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(smuggled)
    )
    with connect(port) as connection:
        connection.sendall(head)
        time.sleep(0.2)  # the body in a read of its own: it was parsed as a new request
        with contextlib.suppress(OSError):  # closed after the refusal
            connection.sendall(smuggled)
        answers = _answers(_read_to_the_end(connection))
    assert [status for status, _, _ in answers] == [400], answers
    assert "upgrade" in str(answers[0][2])


def test_a_content_length_with_the_whitespace_a_field_may_have_is_read(port: int) -> None:
    form = b"grant_type=client_credentials&client_id=nobody&client_secret=wrong"
    raw = (
        b"POST /oauth2/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d \t\r\n\r\n" % len(form)
    ) + form
    with connect(port) as connection:
        connection.sendall(raw)
        answers = _answers(_read_to_the_end(connection))
    assert [status for status, _, _ in answers] == [401], answers  # read, not "larger than 65536 bytes"


def test_a_url_past_the_bound_in_one_read_is_refused_in_its_apis_shape(port: int) -> None:
    raw = b"GET /esim/v1/order/" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    with connect(port) as connection:
        connection.sendall(raw)
        answers = _answers(_read_to_the_end(connection))
    assert [status for status, _, _ in answers] == [431]
    assert set(answers[0][2]) == {"type", "messages"}  # esim-v1's, not {"detail"}


def test_a_client_that_half_closes_after_its_request_gets_the_answer(port: int) -> None:
    with connect(port) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        connection.shutdown(socket.SHUT_WR)
        answers = _answers(_read_to_the_end(connection))
    assert [status for status, _, _ in answers] == [200]


def test_a_request_answered_before_its_body_came_does_not_hold_the_connection(port: int) -> None:
    with connect(port) as connection:
        connection.sendall(
            b"POST /nothing HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nContent-Length: 100000\r\n\r\n"
        )
        started = time.monotonic()
        received = b""
        while b"\r\n\r\n" not in received:
            received += connection.recv(65536)
        assert received.startswith(b"HTTP/1.1 404"), received
        # Trickled, the rest of the body kept the connection open for as long as it came.
        try:
            while time.monotonic() - started < 5 * LINGER + 5:
                connection.sendall(b"x")
                if not connection.recv(65536):
                    break
        except OSError:
            pass  # closed (reset, as bytes came after the close)
        assert time.monotonic() - started < 5 * LINGER + 5


def test_a_connection_answered_before_its_body_came_carries_requests_once_the_body_is_whole(port: int) -> None:
    """A body that arrives whole after its answer (a 413 on its Content-Length, answered from the head)
    leaves the connection as any other request does. Its end went unnoticed, and the linger closed the
    connection whatever it carried by then: behind nginx, which keeps such a connection for its next
    requests, one of them was in flight and its partner was answered 502 (README "Deploying")."""
    with connect(port) as connection:
        answered_before_its_body(connection)
        started = time.monotonic()
        statuses = []
        while time.monotonic() - started < 3 * LINGER:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            statuses.append(_next_answer(connection)[0])
            time.sleep(0.05)
    assert set(statuses) == {200}, statuses


def test_a_connection_left_idle_after_an_answered_requests_body_is_closed(port: int) -> None:
    """The body's arrival stops the keep-alive timer the answer started: one is started again, or a
    client that sent nothing more held the connection for good."""
    with connect(port) as connection:
        answered_before_its_body(connection)
        started = time.monotonic()
        assert connection.recv(65536) == b""  # closed by the server
    assert time.monotonic() - started < Settings().keep_alive_seconds + 3


def test_an_idle_connection_is_kept_as_long_as_the_setting_says(tmp_path_factory: pytest.TempPathFactory) -> None:
    """ORDERHUB_KEEP_ALIVE_SECONDS: behind a load balancer that keeps idle connections longer than
    orderhub's default 5 s (60 s is common), orderhub must keep them longer still (README "Deploying")."""
    processes = OrderhubProcesses(tmp_path_factory.mktemp("keep-alive"))
    try:
        server = processes.serve(processes.tmp_path / "k.db", demo=False, env={"ORDERHUB_KEEP_ALIVE_SECONDS": "7"})
        assert server.port is not None
        with connect(server.port) as connection:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _next_answer(connection)[0] == 200
            time.sleep(Settings().keep_alive_seconds + 1)  # past the default: still open
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _next_answer(connection)[0] == 200
            idle_since = time.monotonic()
            assert connection.recv(65536) == b""  # closed by the server once idle for 7 s
        assert 6 < time.monotonic() - idle_since < 7 + 3
    finally:
        processes.close()


def answered_before_its_body(connection: socket.socket) -> None:
    """An order too large, answered 413 from its head, then its body sent whole after the answer."""
    body = b"x" * 70_000
    connection.sendall(b"POST /2.5/sp_spec/order/ HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body))
    assert _next_answer(connection)[0] == 413
    connection.sendall(body)


def _next_answer(connection: socket.socket) -> tuple[int, bytes]:
    """The status and body of the next response on ``connection``, read to its Content-Length."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        assert chunk, f"closed before an answer: {received!r}"
        received += chunk
    head, _, content = received.partition(b"\r\n\r\n")
    length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))[15:])
    while len(content) < length:
        chunk = connection.recv(65536)
        assert chunk, f"closed inside an answer: {received!r}"
        content += chunk
    return int(head.split(b" ", 2)[1]), content


def test_the_rest_of_an_answered_requests_body_gets_no_second_answer(port: int) -> None:
    with connect(port) as connection:
        connection.sendall(
            b"POST /nothing HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        received = b""
        while b"\r\n\r\n" not in received:
            received += connection.recv(65536)
        connection.sendall(b"zz\r\nnot a chunk\r\n")  # malformed: the parser refuses the rest
        received += _read_to_the_end(connection)
    assert [status for status, _, _ in _answers(received)] == [404]


def test_a_client_that_never_reads_its_answers_is_not_read_without_end(port: int) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    burst = request * 2_000  # ~70 KB a send
    sent = 0
    with connect(port) as connection:
        connection.settimeout(3)
        try:
            while sent < 12_000_000:  # read and queued at ~2 KB a request, this was ~700 MB
                connection.sendall(burst)
                sent += len(burst)
        except (TimeoutError, ConnectionError):
            pass  # the server stopped reading (the kernel's buffers filled), or closed on a stalled head
    assert sent < 12_000_000, "the server read every request sent, however many were unanswered"


@pytest.mark.parametrize("hosts", [b"", b"Host: x\r\nHost: y\r\n"])
def test_an_http_1_1_request_without_one_host_is_refused(port: int, hosts: bytes) -> None:
    with connect(port) as connection:
        connection.sendall(b"GET /esim/v1/product HTTP/1.1\r\n" + hosts + b"\r\n")
        answers = _answers(_read_to_the_end(connection))
    assert [status for status, _, _ in answers] == [400], answers
    assert "Host" in str(answers[0][2]) and set(answers[0][2]) == {"type", "messages"}  # in esim-v1's shape
    with connect(port) as connection:  # HTTP/1.0 has no Host to give
        connection.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        assert [status for status, _, _ in _answers(_read_to_the_end(connection))] == [200]


_BASIC = b"Authorization: Basic ZGVtby1jby1hY21lOmRlbW8tY28tYWNtZS1zZWNyZXQ=\r\n"
_OTHER_BASIC = b"Authorization: Basic ZGVtby1jby1maWJyYTpkZW1vLWNvLWZpYnJhLXNlY3JldA==\r\n"
_TMF = {"code", "reason", "message", "status"}
_CLIENT = b"X-Correlation-ID: c-1\r\nclient_id: channel-1\r\nclient_secret: secret-1\r\n"


@pytest.mark.parametrize(
    ("request_line", "fields", "named", "shape"),
    [
        (b"GET /esim/v1/product", b"Authorization: Bearer a\r\nAuthorization: Bearer b\r\n", "Authorization",
         {"type", "messages"}),
        (b"GET /tmf-api/productOrderingManagement/v4/productOrder",
         b"Authorization: Bearer a\r\nauthorization: Bearer b\r\n", "Authorization", _TMF),
        (b"POST /oauth2/token", _BASIC + _OTHER_BASIC, "Authorization", {"error", "error_description"}),
        (b"GET /2.5/sp_spec/products/", _OTHER_BASIC + _BASIC, "Authorization", {"cause", "message"}),
        (b"GET /emida-ux-lcr/emida-ux/v1/CR/productOrder/O", _CLIENT + b"client_id: other\r\n", "client_id", _TMF),
        (b"GET /emida-ux/v1/CR/productOrder/ORD-1", _CLIENT + b"CLIENT_SECRET: secret-2\r\n", "client_secret", _TMF),
    ],
)  # fmt: skip
def test_a_credential_given_twice_is_refused(
    port: int, request_line: bytes, fields: bytes, named: str | None, shape: set[str]
) -> None:
    """Which of two credentials a proxy in front checks or logs and which one a route reads (the first)
    may differ: a request is one caller's, so two Authorization, client_id or client_secret fields are
    a 400 in the API's shape, before any credential is looked at (each alone is read as before)."""
    with connect(port) as connection:
        connection.sendall(request_line + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n" + fields + b"\r\n")
        answers = _answers(_read_to_the_end(connection))
    assert [status for status, _, _ in answers] == [400], answers
    body = answers[0][2]
    assert isinstance(body, dict) and set(body) == shape, body
    if named is not None:
        assert f"the {named} header is given more than once" in str(body), body
    with connect(port) as connection:  # the first of them alone is read as before (no one signs in here)
        first = _CLIENT if named and named.startswith("client") else fields.split(b"\r\n")[0] + b"\r\n"
        head = b" HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n"
        connection.sendall(request_line + head + first + b"\r\n")
        (answer,) = _answers(_read_to_the_end(connection))
    assert "more than once" not in str(answer[2]) and answer[2] != body, answer


_JSON = b"Content-Type: application/json\r\n"
_CHANNEL = b"client_id: channel-1\r\nclient_secret: secret-1\r\n"


@pytest.mark.parametrize(
    ("request_line", "fields", "named", "shape"),
    [
        (b"POST /emida-ux-lcr/emida-ux/v1/CR/productOrder",
         b"X-Correlation-ID: order-1\r\n" + _CHANNEL + b"X-Correlation-ID: order-2\r\n",
         "X-Correlation-ID", _TMF),
        (b"POST /esim/v1/order", b"X-Correlation-ID: c-1\r\nIdempotency-Key: k-1\r\nIdempotency-Key: k-2\r\n",
         "Idempotency-Key", {"type", "messages"}),
        (b"POST /2.5/sp_spec/order/", _BASIC + b"Idempotency-Key: k-1\r\nidempotency-key: k-2\r\n", "Idempotency-Key",
         {"cause", "message"}),
        (b"POST /tmf-api/productOrderingManagement/v4/productOrder",
         b"Authorization: Bearer a\r\nIdempotency-Key: k-1\r\nIdempotency-Key: k-2\r\n", "Idempotency-Key", _TMF),
    ],
)  # fmt: skip
def test_a_key_given_twice_with_different_values_is_refused(
    port: int, request_line: bytes, fields: bytes, named: str, shape: set[str]
) -> None:
    """The route reads the first of two fields: a retry whose second X-Correlation-ID (tmf-productorder's
    idempotency key) or Idempotency-Key named another order answered the first's as its replay, 201."""
    with connect(port) as connection:
        head = b" HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n" + _JSON
        connection.sendall(request_line + head + fields + b"\r\n{}")
        answers = _answers(_read_to_the_end(connection))
    assert [status for status, _, _ in answers] == [400], answers
    body = answers[0][2]
    assert isinstance(body, dict) and set(body) == shape, body
    assert f"the {named} header is given more than once with different values" in str(body), body
    with connect(port) as connection:  # the same value twice is one key: read as before
        same = fields.replace(b"order-2", b"order-1").replace(b"k-2", b"k-1")
        head = b" HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n" + _JSON
        connection.sendall(request_line + head + same + b"\r\n{}")
        (answer,) = _answers(_read_to_the_end(connection))
    assert "more than once" not in str(answer[2]), answer


@pytest.mark.parametrize(
    "request_line", [b"POST /esim/v1/order", b"POST /2.5/sp_spec/order/", b"GET /healthz", b"GET /emida-ux-lcrx/a"]
)
def test_two_correlation_ids_are_refused_only_where_the_api_takes_it_as_its_idempotency_key(
    port: int, request_line: bytes
) -> None:
    """Elsewhere X-Correlation-ID only names the request in the logs (the first is read): a gateway that
    adds its own to a client's must not turn the request away."""
    with connect(port) as connection:
        head = b" HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n" + _JSON
        fields = b"X-Correlation-ID: client-1\r\nX-Correlation-ID: gateway-1\r\n"
        connection.sendall(request_line + head + fields + b"\r\n{}")
        (answer,) = _answers(_read_to_the_end(connection))
    assert "more than once" not in str(answer[2]), answer
    assert answer[0] in (200, 400, 401, 404, 405), answer
