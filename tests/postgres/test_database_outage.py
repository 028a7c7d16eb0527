"""A PostgreSQL server that is down (connections refused) while orderhub runs: each background loop
waits for it with a growing pause, says so once, and says when it answers again.

Each loop used to try again at once: a standalone worker opened a new connection and logged the same
warning hundreds of times a second, the API's own worker and event dispatcher a few times a second.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.integration.support import HOST, OrderhubProcess, OrderhubProcesses, free_port, wait_until
from tests.postgres.test_hung_server import FreezableProxy

# Long enough for a loop that tried again at once to log hundreds of lines, and for one that waits
# longer each time to try a few times.
OUTAGE_SECONDS = 4.0


@pytest.fixture
def proxy(pg_url: str) -> Iterator[FreezableProxy]:
    running = FreezableProxy(sa.make_url(pg_url).port or 5432)
    try:
        yield running
    finally:
        running.close()


def _lines(process: OrderhubProcess, words: str) -> list[str]:
    """The messages of the process's log lines that hold ``words``, each with its logger."""
    found = []
    for line in process.log_path.read_text(errors="replace").splitlines():
        if words in line and line.startswith("{"):
            entry = json.loads(line)
            found.append(f"{entry['logger']}: {entry['message']}")
    return found


def test_loops_wait_for_a_database_that_refuses_connections_without_a_storm_and_say_when_it_is_back(
    pg_url: str, proxy: FreezableProxy, orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    proxied = sa.make_url(pg_url).set(port=proxy.port).render_as_string(hide_password=False)
    api = orderhub_procs.serve(tmp_path / "unused.db", db_url=proxied, demo=False)
    ops_port = free_port()
    worker = orderhub_procs.spawn(["worker", "--db", proxied, "--host", HOST, "--port", str(ops_port)])
    wait_until(lambda: "worker" in " ".join(_lines(worker, "started")), timeout=30, message="the worker's start")

    proxy.sever()
    severed = time.monotonic()
    # Each loop finds the outage at its next turn: on a loaded machine that may be seconds in coming.
    for process in (worker, api):
        wait_until(
            lambda process=process: len(_lines(process, "waits for the database")) >= 2,
            timeout=30,
            message="both loops to say they wait for the database",
        )
    time.sleep(max(0.0, severed + OUTAGE_SECONDS - time.monotonic()))
    # Alive all the same (README): it comes round and waits; a restart would not help.
    assert httpx.get(f"http://{HOST}:{ops_port}/healthz", timeout=5).status_code == 200
    for process in (worker, api):
        waits = _lines(process, "waits for the database")
        loggers = sorted(line.split(":", 1)[0] for line in waits)
        assert loggers == ["orderhub.hub", "orderhub.worker"], f"{len(waits)} lines, such as:\n" + "\n".join(waits[:4])

    proxy.restore()
    for process in (worker, api):
        wait_until(
            lambda process=process: len(_lines(process, "the database answers again")) == 2,
            timeout=30,
            message="both loops to say the database answers again",
        )
    assert worker.popen.poll() is None and api.popen.poll() is None


def test_a_worker_whose_listen_connection_is_refused_tries_again_now_and_then_not_at_each_look(
    pg_url: str, proxy: FreezableProxy, orderhub_procs: OrderhubProcesses
) -> None:
    # The server takes no more clients (max_connections reached, say) and the worker's LISTEN connection
    # is lost, while its writers' connections still work: it used to open a new one at each look for
    # work, every few milliseconds.
    proxied = sa.make_url(pg_url).set(port=proxy.port).render_as_string(hide_password=False)
    worker = orderhub_procs.spawn(["worker", "--db", proxied])
    admin = sa.create_engine(sa.make_url(pg_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    listening = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN orderhub_work'"
    try:
        with admin.connect() as connection:
            wait_until(lambda: connection.exec_driver_sql(listening).all(), timeout=30, message="the worker's LISTEN")
            proxy.refusing = True
            terminated = time.monotonic()
            connection.exec_driver_sql(f"SELECT pg_terminate_backend(pid) FROM ({listening}) AS listeners")
            wait_until(lambda: proxy.refused, timeout=30, message="the worker to try its LISTEN connection again")
            time.sleep(max(0.0, terminated + OUTAGE_SECONDS - time.monotonic()))
            refused, lasted = proxy.refused, time.monotonic() - terminated
    finally:
        admin.dispose()
    # Once a second at most (and the worker's poll still finds its work meanwhile): counted over the time
    # the outage really lasted, which a loaded machine may stretch past OUTAGE_SECONDS.
    assert 1 <= refused <= lasted + 1, (refused, lasted)
    assert worker.popen.poll() is None, worker.log()
