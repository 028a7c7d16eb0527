"""A PostgreSQL server that stops answering (hung, or the network to it gone quiet) while orderhub
serves: the process stays alive, answers 503 within its bound instead of hanging, and heals by itself.

The server is reached through a proxy on loopback that can be frozen: it keeps every connection open
and stops passing bytes, which is what a hung server looks like from the client's side.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa

from tests.integration.support import (
    HOST,
    OrderhubProcesses,
    client,
    free_port,
    get_token,
    new_esim_body,
    wait_until,
)

# The process's bound on an answer from the server with the write timeout below (store.database).
ANSWER_BOUND_SECONDS = 10.0


class FreezableProxy:
    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        # Chunks the server sent: it holds a pipeline's answers until the client asks for them, so each
        # is one wait of the client for the server, one round trip (test_pipelined_writes).
        self.answers = 0
        self.thawed = threading.Event()
        self.thawed.set()
        # While set, a new connection is closed at once (the connections already made go on): a server
        # that takes no more clients.
        self.refusing = False
        self.refused = 0
        self._target_port = target_port
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(5)

    def settled(self, quiet: float = 0.3, timeout: float = 5.0) -> int:
        """The answers counted once none has come for ``quiet`` seconds: a process's other connections
        (the worker's LISTEN) connect on threads of their own, late on a loaded machine, through here too."""
        counted, deadline = -1, time.monotonic() + timeout
        while counted != self.answers and time.monotonic() < deadline:
            counted = self.answers
            time.sleep(quiet)
        return counted

    def sever(self) -> None:
        """Stops listening and drops every connection through it: a server that is down, refusing
        connections, until ``restore``."""
        asyncio.run_coroutine_threadsafe(self._sever(), self._loop).result(5)

    def restore(self) -> None:
        """Listens again on the same port: the server is back."""
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(5)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._listen())
        ready.set()
        self._loop.run_forever()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, HOST, self.port)

    async def _sever(self) -> None:
        self._server.close()
        await self._shutdown()

    async def _wait_thawed(self) -> None:
        while not self.thawed.is_set():
            await asyncio.sleep(0.02)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, from_server: bool = False
    ) -> None:
        try:
            while data := await reader.read(65536):
                if from_server:
                    self.answers += 1
                await self._wait_thawed()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            self.refused += 1
            writer.close()
            return
        await self._wait_thawed()
        server_reader, server_writer = await asyncio.open_connection(HOST, self._target_port)
        await asyncio.gather(self._pipe(reader, server_writer), self._pipe(server_reader, writer, from_server=True))

    def close(self) -> None:
        self.thawed.set()
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _shutdown(self) -> None:
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture
def proxy(pg_url: str) -> Iterator[FreezableProxy]:
    port = sa.make_url(pg_url).port or 5432
    running = FreezableProxy(port)
    try:
        yield running
    finally:
        running.close()


def _timed(call: object) -> tuple[int | str, float]:
    started = time.monotonic()
    try:
        status: int | str = call()  # type: ignore[operator]
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    return status, time.monotonic() - started


def test_a_server_that_stops_answering_gets_fast_503s_and_the_service_heals(
    pg_url: str, proxy: FreezableProxy, orderhub_procs: OrderhubProcesses
) -> None:
    proxied = str(sa.make_url(pg_url).set(port=proxy.port).render_as_string(hide_password=False))
    server = orderhub_procs.serve(
        orderhub_procs.tmp_path / "unused.db", db_url=proxied, demo=False,
        env={"ORDERHUB_DB_WRITE_TIMEOUT_SECONDS": "0.5"},
    )  # fmt: skip
    token = get_token(server.base_url)
    headers = {"Authorization": f"Bearer {token}", "X-Correlation-ID": str(uuid.uuid4())}
    with client(server.base_url, timeout=3 * ANSWER_BOUND_SECONDS) as http:
        placed = http.post("/esim/v1/order", json=new_esim_body("before@example.com"), headers=headers)
        assert placed.status_code == 201, placed.text
        order_path = f"/esim/v1/order/{placed.json()['id']}"

        proxy.thawed.clear()
        calls = {
            "GET order": lambda: http.get(order_path, headers=headers).status_code,
            "POST order": lambda: (
                http.post("/esim/v1/order", json=new_esim_body("frozen@example.com"), headers=headers).status_code
            ),
            "readyz": lambda: http.get("/readyz").status_code,
            # Scraped as ever, with the inventory levels last read.
            "metrics": lambda: http.get("/metrics").status_code,
        }
        with ThreadPoolExecutor(len(calls)) as pool:
            pending = {name: pool.submit(_timed, call) for name, call in calls.items()}
            time.sleep(1)
            # Meanwhile the process itself answers at once: nothing of it waits on the server.
            alive, alive_seconds = _timed(lambda: http.get("/healthz").status_code)
            answers = {name: future.result() for name, future in pending.items()}
        assert (alive, alive_seconds < 1) == (200, True), (alive, alive_seconds)
        for name, (status, seconds) in answers.items():
            expected = 200 if name == "metrics" else 503
            assert status == expected and seconds < ANSWER_BOUND_SECONDS + 3, (name, status, seconds)

        proxy.thawed.set()
        deadline = time.monotonic() + 30
        while http.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "not ready again after the server answered again"
            time.sleep(0.2)
        assert http.get(order_path, headers=headers).status_code == 200
        after = http.post("/esim/v1/order", json=new_esim_body("after@example.com"), headers=headers)
        assert after.status_code == 201, after.text


def _inventory_levels(metrics: httpx.Response) -> list[str]:
    assert metrics.status_code == 200, metrics.text
    return [line for line in metrics.text.splitlines() if line.startswith("orderhub_esim_profiles{")]


def test_metrics_answer_at_once_with_the_levels_last_read_while_the_server_does_not_answer(
    pg_url: str, proxy: FreezableProxy, orderhub_procs: OrderhubProcesses
) -> None:
    """Each scrape of a worker's /metrics took 10 s (the store's bound on a read), the API's the same at
    first: as long as Prometheus' default scrape_timeout, so the metrics went missing for the outage."""
    proxied = str(sa.make_url(pg_url).set(port=proxy.port).render_as_string(hide_password=False))
    api = orderhub_procs.serve(orderhub_procs.tmp_path / "unused.db", db_url=proxied, demo=False)
    ops_port = free_port()
    orderhub_procs.spawn(["worker", "--db", proxied, "--host", HOST, "--port", str(ops_port)])
    worker_url = f"http://{HOST}:{ops_port}"
    wait_until(lambda: _answers(f"{worker_url}/readyz"), timeout=30, message="the worker's /readyz")
    # Well within Prometheus' 10 s: a scrape that waits for the store's bound fails here.
    with client(api.base_url, timeout=4) as api_http, httpx.Client(base_url=worker_url, timeout=4) as worker_http:
        levels = {
            name: _inventory_levels(http.get("/metrics")) for name, http in (("api", api_http), ("worker", worker_http))
        }
        assert all(levels.values()), levels
        proxy.thawed.clear()
        for _ in range(3):  # scrapes that come while a read is stuck join it (at most one in flight)
            for name, http in (("api", api_http), ("worker", worker_http)):
                assert _inventory_levels(http.get("/metrics")) == levels[name], name
        proxy.thawed.set()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_a_workers_readyz_answers_503_within_a_second_while_the_server_does_not_answer(
    pg_url: str, proxy: FreezableProxy, orderhub_procs: OrderhubProcesses
) -> None:
    """An orchestrator's probe gives up after 1 s (Kubernetes' default timeoutSeconds): a worker's /readyz
    waited for the store's bound (10 s), and probes that came meanwhile queued behind the stuck checks."""
    proxied = str(sa.make_url(pg_url).set(port=proxy.port).render_as_string(hide_password=False))
    ops_port = free_port()
    orderhub_procs.spawn(["worker", "--db", proxied, "--host", HOST, "--port", str(ops_port)])
    worker_url = f"http://{HOST}:{ops_port}"
    wait_until(lambda: _answers(f"{worker_url}/readyz"), timeout=30, message="the worker's /readyz")
    # The bound the probe is promised, with room for a loaded machine; the store's is 10 s.
    with httpx.Client(base_url=worker_url, timeout=3) as http:
        proxy.thawed.clear()
        try:
            for _ in range(4):  # more probes than the endpoint has threads for the database
                stuck = http.get("/readyz")
                assert stuck.status_code == 503, stuck.text
                assert stuck.json()["status"] == "unavailable", stuck.text
                assert stuck.json()["reason"].startswith("the database has not answered for "), stuck.text
                assert int(stuck.headers["retry-after"]) >= 1
            assert http.get("/healthz").status_code == 200  # alive: it waits for the database
        finally:
            proxy.thawed.set()
        wait_until(lambda: http.get("/readyz").status_code == 200, timeout=30, message="/readyz 200 again")


def test_the_apis_readyz_answers_503_within_a_second_while_the_server_does_not_answer(
    pg_url: str, proxy: FreezableProxy, orderhub_procs: OrderhubProcesses
) -> None:
    """As a worker's: the API's /readyz waited for the store's bound (10 s by default), past an
    orchestrator's probe (1 s), which then saw a timeout, not why."""
    proxied = str(sa.make_url(pg_url).set(port=proxy.port).render_as_string(hide_password=False))
    api = orderhub_procs.serve(orderhub_procs.tmp_path / "unused.db", db_url=proxied, demo=False)
    with client(api.base_url, timeout=3) as http:
        proxy.thawed.clear()
        try:
            for _ in range(4):  # probes that come while a check is stuck join it
                started = time.monotonic()
                stuck = http.get("/readyz")
                assert time.monotonic() - started < 2
                assert stuck.status_code == 503, stuck.text
                assert stuck.json()["reason"].startswith("the database has not answered for "), stuck.text
                assert int(stuck.headers["retry-after"]) >= 1
        finally:
            proxy.thawed.set()
        wait_until(lambda: http.get("/readyz").status_code == 200, timeout=30, message="/readyz 200 again")
