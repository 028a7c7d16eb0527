"""orderhub behind nginx running the shipped examples/deploy/nginx.conf (README "Deploying"), less its TLS:
plain HTTP on a local port, every other directive as shipped. A healthy orderhub behind it answers every
order itself: nginx's 503 (its 502 or 504, turned into the API's error shape) tells a partner the
service could not be reached, and the partner retries.

These run where nginx is installed (`apt-get install nginx`), and are skipped elsewhere; what they hold
on orderhub's side alone is in test_connection_life."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from orderhub.settings import Settings
from tests.integration.support import HOST, OrderhubProcesses, free_port, get_token, new_esim_body
from tests.integration.test_connection_life import _next_answer

pytestmark = pytest.mark.integration

SHIPPED = Path(__file__).resolve().parents[2] / "examples" / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
needs_nginx = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (apt-get install nginx): the shipped nginx.conf runs only with it"
)
# orderhub's bound on a head, which the rest of a body answered before it arrived gets too (the linger).
LINGER = 1.5
PUBLIC_HOST = "orders.example.com"


def shipped_without_tls(listen_port: int, upstream_port: int) -> str:
    """The shipped configuration with its server on plain HTTP at ``listen_port`` and its upstream at
    ``upstream_port``: the two servers that only redirect to HTTPS or refuse TLS handshakes dropped, the
    API server's listen and ssl_ lines replaced. Each change is counted, so that a reshaped file fails
    here rather than running something else than what is shipped."""
    text = SHIPPED.read_text()
    # The two small servers are the only ones without a block inside them.
    text, dropped = re.subn(r"\nserver \{[^{}]*\}\n", "\n", text)
    text, upstreams = re.subn(r"(?m)^(\s*server )127\.0\.0\.1:8080;", rf"\g<1>127.0.0.1:{upstream_port};", text)
    text, listens = re.subn(r"(?m)^\s*listen 443 ssl http2;.*\n", f"    listen 127.0.0.1:{listen_port};\n", text)
    text, other_listens = re.subn(r"(?m)^\s*listen \[::\]:443 ssl http2;.*\n", "", text)
    text, ssl_lines = re.subn(r"(?m)^\s*ssl_\w+ .*;\n", "", text)
    assert (dropped, upstreams, listens, other_listens, ssl_lines) == (2, 1, 1, 1, 3), "reshaped nginx.conf"
    assert "ssl" not in text.replace("ssl_reject", ""), text
    return text


@dataclass
class Nginx:
    port: int
    error_log: Path

    def errors(self) -> list[str]:
        """The lines nginx logged at level error or above: why it answered 502 or 504."""
        lines = self.error_log.read_text(errors="replace").splitlines()
        return [line for line in lines if re.search(r"\[(error|crit|alert|emerg)\]", line)]


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    if NGINX is None:
        pytest.skip("nginx is not installed")
    folder = tmp_path_factory.mktemp("nginx")
    processes = OrderhubProcesses(folder)
    front: subprocess.Popen[bytes] | None = None
    try:
        server = processes.serve(folder / "behind.db", env={"ORDERHUB_REQUEST_HEADER_TIMEOUT_SECONDS": str(LINGER)})
        assert server.port is not None
        port = free_port()
        (folder / "orderhub.conf").write_text(shipped_without_tls(port, server.port))
        temp_paths = "".join(f"    {kind}_temp_path {folder}/{kind};\n" for kind in ("client_body", "proxy"))
        temp_paths += "".join(f"    {kind}_temp_path {folder}/{kind};\n" for kind in ("fastcgi", "uwsgi", "scgi"))
        # One worker: every request goes through the one cache of kept-alive connections to orderhub.
        (folder / "nginx.conf").write_text(
            f"worker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log info;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n    access_log {folder}/access.log;\n{temp_paths}    include {folder}/orderhub.conf;\n}}\n"
        )
        command = [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"]
        front = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _wait_listening(port, front)
        yield Nginx(port, folder / "error.log")
    finally:
        if front is not None:
            front.terminate()
            front.wait(timeout=10)
        processes.close()


@pytest.fixture(scope="module")
def token(nginx: Nginx) -> str:
    return get_token(f"http://{HOST}:{nginx.port}")


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            assert process.stderr is not None
            pytest.fail(f"nginx did not start: {process.stderr.read().decode(errors='replace')}")
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail("nginx did not listen within 10 s")


def _order_request(token: str, body: bytes, content_length: int | None = None) -> bytes:
    key = str(uuid.uuid4())
    return (
        f"POST /esim/v1/order HTTP/1.1\r\nHost: {PUBLIC_HOST}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nX-Correlation-ID: c-{key}\r\nIdempotency-Key: {key}\r\n"
        f"Content-Length: {len(body) if content_length is None else content_length}\r\n\r\n"
    ).encode()


def _answer(connection: socket.socket) -> tuple[int, dict[str, object]]:
    status, content = _next_answer(connection)
    return status, json.loads(content)


def _oversized_order(nginx: Nginx, token: str) -> int:
    """An order past the size bound, sent whole at once: orderhub answers 413 from its head."""
    body = b"x" * 70_000
    with socket.create_connection((HOST, nginx.port), timeout=15) as connection:
        connection.sendall(_order_request(token, body) + body)
        return _answer(connection)[0]


def _slow_order(nginx: Nginx, token: str, email: str) -> tuple[int, dict[str, object]]:
    """An order whose body comes in pieces over two seconds, as from a partner on a slow link (nginx
    streams it to orderhub as it comes: proxy_request_buffering off)."""
    body = json.dumps(new_esim_body(email)).encode()
    with socket.create_connection((HOST, nginx.port), timeout=15) as connection:
        connection.sendall(_order_request(token, body))
        pieces = 8
        step = -(-len(body) // pieces)
        for start in range(0, len(body), step):
            time.sleep(2 * LINGER / pieces)
            connection.sendall(body[start : start + step])
        return _answer(connection)


@needs_nginx
def test_orders_on_a_connection_an_oversized_body_was_refused_on_are_answered(nginx: Nginx, token: str) -> None:
    """nginx keeps the connection a 413 was answered on (it sent the whole body) for its next requests.
    orderhub took the body that arrived after its answer for one still unfinished and closed the
    connection a head's bound later, under whatever request it was carrying: nginx answered that one
    502 ("upstream prematurely closed connection"), turned into a 503 the partner retries."""
    for round_ in range(2):
        assert _oversized_order(nginx, token) == 413
        emails = [f"slow-{round_}-{n}-{uuid.uuid4().hex[:8]}@example.com" for n in range(3)]
        with ThreadPoolExecutor(len(emails)) as pool:  # one of them goes on the connection the 413 left
            answers = list(pool.map(lambda email: _slow_order(nginx, token, email), emails))
        assert [status for status, _ in answers] == [201] * len(emails), (answers, nginx.errors())
    assert nginx.errors() == []


def test_the_shipped_nginx_lets_go_of_an_idle_connection_before_orderhub_closes_it() -> None:
    """A request nginx sends on a kept-alive connection at the moment orderhub closes it for idleness
    fails, and nginx does not resend a POST: its 502 would reach the partner as a 503. nginx closes
    first, with a second to spare for a request on its way."""
    upstream = re.search(r"(?s)upstream orderhub \{(.*?)\}", SHIPPED.read_text())
    assert upstream is not None
    timeout = re.search(r"(?m)^\s*keepalive_timeout (\d+)s;", upstream[1])
    assert timeout is not None, "the upstream's keepalive_timeout (nginx's default is 60 s)"
    assert int(timeout[1]) <= Settings().keep_alive_seconds - 1
