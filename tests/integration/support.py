"""Helpers for integration tests that run real ``orderhub`` processes, talking to them on 127.0.0.1 only.

Every process started through ``OrderhubProcesses`` (the ``orderhub_procs`` fixture) writes its stdout and
stderr to a log file under the test's ``tmp_path`` and is killed at teardown, whatever the test did.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from orderhub.bootstrap import Services, build_services
from orderhub.services.demo import load_demo_data
from orderhub.settings import Settings
from tests.databases import on_postgres
from tests.demo_databases import demo_database_url
from tests.http_clients import TLS
from tests.integration.cli_forks import CliForks

HOST = "127.0.0.1"
# A start imports the whole application: seconds on an idle machine, and with the suite's other passes and
# servers on two cores it took 15 s just to import; a process that exits is noticed at once.
READY_TIMEOUT_SECONDS = 90.0
# Small enough for a quick start, large enough for every test here.
INVENTORY_SIZE = 400
DEMO_PRODUCT_ID = "a3u3z000000PZBhAAO"
DEMO_RESELLER = ("demo-reseller-1", "demo-reseller-1-secret")


@contextlib.contextmanager
def demo_services(db_path: Path, *, inventory_size: int, **options: Any) -> Iterator[Services]:
    """One process's services on a fresh database for ``db_path`` (tests.databases: SQLite, or PostgreSQL
    when set), migrated, with the demo data and ``inventory_size`` eSIM profiles; closed after."""
    built = build_services(Settings(database_url=demo_database_url(db_path, inventory_size), **options))
    try:
        built.migrate()
        load_demo_data(built.uow_factory, inventory_size=inventory_size)
        yield built
    finally:
        built.close()


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def sqlite_url(db_path: Path) -> str:
    return f"sqlite:///{db_path}"


def db_rows(db_path: Path, query: str) -> list[tuple[object, ...]]:
    """What ``query`` finds in the SQLite file, read-only and closed at once (a server may be using it)."""
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of child processes: no inherited ORDERHUB_* settings, a small demo inventory."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORDERHUB_")}
    env["ORDERHUB_DEMO_INVENTORY_SIZE"] = str(INVENTORY_SIZE)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


# What every run of the command gets: a wide, colourless terminal keeps rich from wrapping or styling what
# the operator would read.
CLI_TERMINAL = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
_cli_forks: CliForks | None = None


def run_cli(
    *args: str | Path, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """Run the ``orderhub`` command with ARGS in ``cwd`` to completion, as a process of its own (forked by
    cli_forks.py, which has its imports done); the result holds exit code, stdout and stderr."""
    global _cli_forks
    if _cli_forks is None:
        _cli_forks = CliForks(base_env(CLI_TERMINAL))
    return _cli_forks.run(
        [str(arg) for arg in args], cwd=cwd, env=base_env({**CLI_TERMINAL, **(env or {})}), timeout=timeout
    )


def client(base_url: str, timeout: float = 10.0) -> httpx.Client:
    # trust_env=False: no proxy from the environment; these tests only ever talk to 127.0.0.1.
    assert base_url.startswith(f"http://{HOST}:"), base_url
    return httpx.Client(base_url=base_url, timeout=timeout, trust_env=False, verify=TLS)


def get_token(base_url: str, client_id: str = DEMO_RESELLER[0], client_secret: str = DEMO_RESELLER[1]) -> str:
    with client(base_url) as http:
        response = http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret},
        )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def api_headers(token: str, correlation_id: str | None = None) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "X-Correlation-ID": correlation_id or f"it-{uuid.uuid4()}",
        "Content-Type": "application/json",
    }


def new_esim_body(email: str, product_id: str = DEMO_PRODUCT_ID) -> dict[str, Any]:
    activation = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "input": {
            "operationType": "NEW_ESIM",
            "countryCode": "PT",
            "customer": {"email": email, "countryOfResidence": "US"},
            "device": {"product_id": "123456789", "model": "iPhone", "type": "ios"},
            "subscriptions": [{"id": product_id, "activationDate": activation, "price": 10, "currency": "USD"}],
        }
    }


def place_order(base_url: str, token: str, email: str) -> str:
    with client(base_url) as http:
        response = http.post("/esim/v1/order", json=new_esim_body(email), headers=api_headers(token))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "ACCEPTED"
    return str(body["id"])


def get_order(base_url: str, token: str, order_id: str) -> dict[str, Any]:
    with client(base_url) as http:
        response = http.get(f"/esim/v1/order/{order_id}", headers=api_headers(token))
    assert response.status_code == 200, response.text
    return dict(response.json())


@dataclass
class OrderhubProcess:
    """A running ``python -m orderhub ...`` child process."""

    args: list[str]
    popen: subprocess.Popen[bytes]
    log_path: Path
    port: int | None = None

    @property
    def base_url(self) -> str:
        assert self.port is not None, "not a server process"
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self, tail_chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail_chars:]
        except FileNotFoundError:
            return ""

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks run, exactly like a crash."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def terminate(self, timeout: float = 10.0) -> int:
        """SIGTERM, then wait (bounded) for the exit code."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(timeout=timeout)


@contextlib.contextmanager
def one_empty_server(folder: Path) -> Iterator[int]:
    """The port of one server on a database of its own without demo data, for a module's raw-socket
    cases (a start costs a second); stopped after."""
    processes = OrderhubProcesses(folder)
    try:
        server = processes.serve(folder / "orderhub.db", demo=False)
        assert server.port is not None
        yield server.port
    finally:
        processes.close()


class OrderhubProcesses:
    """Starts orderhub processes for one test and kills every one of them at teardown."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[OrderhubProcess] = []
        self._count = 0

    def spawn(
        self, args: Sequence[str], *, env: Mapping[str, str] | None = None, port: int | None = None
    ) -> OrderhubProcess:
        self._count += 1
        log_path = self.tmp_path / f"proc-{self._count}-{args[0]}.log"
        argv = [sys.executable, "-m", "orderhub", *args]
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                argv,
                cwd=self.tmp_path,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=base_env(env),
            )
        process = OrderhubProcess(argv, popen, log_path, port)
        self.started.append(process)
        return process

    def serve(
        self,
        db_path: Path,
        *,
        demo: bool = True,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        db_url: str | None = None,
    ) -> OrderhubProcess:
        """Start ``orderhub serve`` on 127.0.0.1 and return once GET /readyz answers 200 (on the SQLite
        file ``db_path``, or on ``db_url`` when given).

        When no port is given, a free one is picked; should another process grab it first, the start is
        retried on a new port.
        """
        if demo and db_url is None and not on_postgres():
            # A new file starts as a copy of the demo database (tests.demo_databases); serve --demo finds
            # the schema and the demo there, as it does on every later start.
            demo_database_url(db_path, int(base_env(env)["ORDERHUB_DEMO_INVENTORY_SIZE"]))
        attempts = 1 if port is not None else 3
        for attempt in range(1, attempts + 1):
            chosen = port if port is not None else free_port()
            args = ["serve", "--db", db_url or sqlite_url(db_path), "--host", HOST, "--port", str(chosen)]
            args += ["--demo"] if demo else []
            process = self.spawn([*args, *extra_args], env=env, port=chosen)
            if wait_ready(process):
                return process
            process.kill()
            if attempt == attempts or "address already in use" not in process.log().lower():
                pytest.fail(f"orderhub serve did not become ready; log:\n{process.log()}")
        raise AssertionError("unreachable")

    def close(self) -> None:
        for process in self.started:
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                process.kill()


def wait_ready(process: OrderhubProcess, timeout: float = READY_TIMEOUT_SECONDS) -> bool:
    """Poll GET /readyz until 200; False when the process exits or the deadline passes."""
    deadline = time.monotonic() + timeout
    with client(process.base_url, timeout=2.0) as http:
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                return False
            try:
                if http.get("/readyz").status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    return False


def wait_until(predicate: Any, *, timeout: float, interval: float = 0.2, message: str = "condition") -> Any:
    """Poll ``predicate()`` until it returns something truthy; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)
