"""A PostgreSQL server that answers but refuses orderhub's writes, under real processes: read-only (as
after a failover that points orderhub at a standby) or with privileges revoked from orderhub's role.

Both used to be answered 500 with a traceback (sign-ins and orders alike), /readyz said ready all the
while, the background loops logged a traceback several times a second, and a worker counted each
order it met them on as a failed attempt, failing good orders. Now: 503 with Retry-After in each API's
shape, /readyz not ready saying why, the loops wait, and all comes back by itself when it clears.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.databases import POSTGRES, PREFIX
from tests.integration.support import (
    OrderhubProcess,
    OrderhubProcesses,
    api_headers,
    client,
    free_port,
    get_token,
    new_esim_body,
    run_cli,
    wait_until,
)

FAULT_ENV = {"ORDERHUB_DB_WRITE_TIMEOUT_SECONDS": "1"}
SIGN_IN = {
    "grant_type": "client_credentials", "client_id": "demo-reseller-1", "client_secret": "demo-reseller-1-secret",
}  # fmt: skip


def _admin(pg_url: str, *statements: str) -> None:
    engine = sa.create_engine(sa.make_url(pg_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def _reconnect_all(pg_url: str) -> None:
    """Ends every session on the database but this one, as a failover does: orderhub reconnects."""
    name = sa.make_url(pg_url).database
    _admin(POSTGRES, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                   f" WHERE datname = '{name}' AND pid <> pg_backend_pid()")  # fmt: skip


@pytest.fixture
def role_url(pg_url: str) -> Iterator[str]:
    """The database as a role of its own that holds the privileges orderhub needs, and owns nothing."""
    role = f"{PREFIX}writer_{uuid.uuid4().hex[:8]}"
    _admin(pg_url, f"CREATE ROLE {role} LOGIN PASSWORD 'secret'",
           f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
           f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}")  # fmt: skip
    try:
        yield sa.make_url(pg_url).set(username=role, password="secret").render_as_string(hide_password=False)
    finally:
        _admin(pg_url, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'",
               f"DROP OWNED BY {role}", f"DROP ROLE {role}")  # fmt: skip


def _problems(process: OrderhubProcess) -> list[str]:
    return [line[:300] for line in process.log_path.read_text(errors="replace").splitlines()
            if '"level":"ERROR"' in line or "Traceback" in line]  # fmt: skip


def _unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["retry-after"]) >= 1


def _readiness(server: OrderhubProcess) -> httpx.Response:
    with client(server.base_url) as http:
        return http.get("/readyz")


def _order(server: OrderhubProcess, token: str) -> httpx.Response:
    with client(server.base_url) as http:
        body = new_esim_body(f"refusal-{uuid.uuid4().hex[:8]}@example.com")
        return http.post("/esim/v1/order", json=body, headers=api_headers(token))


def test_a_database_turned_read_only_under_a_server_is_503_in_each_api_and_taken_again_when_writable(
    pg_url: str, orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    server = orderhub_procs.serve(tmp_path / "unused.db", db_url=pg_url, demo=False, env=FAULT_ENV)
    token = get_token(server.base_url)
    name = sa.make_url(pg_url).database
    # From the server's own database: this one takes no ALTER DATABASE once read-only.
    _admin(POSTGRES, f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    try:
        _reconnect_all(pg_url)
        ready = wait_until(lambda: _readiness(server).status_code == 503 and _readiness(server), timeout=10,
                           message="/readyz to say not ready")  # fmt: skip
        assert "read-only" in ready.json()["reason"], ready.text
        ordered = _order(server, token)
        _unavailable(ordered)
        assert ordered.json()["type"] == "SERVICE_UNAVAILABLE"
        with client(server.base_url) as http:
            signed_in = http.post("/oauth2/token", data=SIGN_IN)
            onapi = http.get("/2.5/sp_spec/products/", auth=("demo-co-acme", "demo-co-acme-secret"))
        _unavailable(signed_in)
        assert signed_in.json()["error"] == "temporarily_unavailable"
        _unavailable(onapi)  # HTTP Basic signs in, and a sign-in writes
        assert "cause" in onapi.json()
    finally:
        # Back as it was, without ending the sessions: those that began read-only are made anew.
        _admin(POSTGRES, f'ALTER DATABASE "{name}" RESET default_transaction_read_only')

    wait_until(lambda: _readiness(server).status_code == 200, timeout=10, message="/readyz to say ready again")
    wait_until(lambda: _order(server, token).status_code == 201, timeout=10, message="an order taken again")
    assert _problems(server) == []


def test_privileges_revoked_under_a_server_are_503_and_a_worker_waits_without_failing_the_order(
    pg_url: str, role_url: str, orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    # Orders are left to a worker of their own, which may try each once only: before, the first order
    # it met revoked privileges on was FAILED for good.
    server = orderhub_procs.serve(tmp_path / "unused.db", db_url=role_url, demo=False, env=FAULT_ENV,
                                  extra_args=["--no-worker"])  # fmt: skip
    worker = orderhub_procs.spawn(["worker", "--db", role_url], env={"ORDERHUB_WORKER_MAX_ATTEMPTS": "1"})
    wait_until(lambda: "started" in worker.log(), timeout=30, message="the worker's start")
    token = get_token(server.base_url)
    role = sa.make_url(role_url).username
    _admin(pg_url, f"REVOKE ALL ON esim_profiles FROM {role}")
    try:
        ordered = _order(server, token)  # accepted: placing it reads no profile, fulfilling it takes one
        assert ordered.status_code == 201, ordered.text
        wait_until(lambda: "permission denied for table esim_profiles" in worker.log(), timeout=10,
                   message="the worker to meet the revoked privileges")  # fmt: skip
        ready = wait_until(lambda: _readiness(server).status_code == 503 and _readiness(server), timeout=10,
                           message="/readyz to say not ready")  # fmt: skip
        assert "lacks SELECT, INSERT, UPDATE, DELETE on: esim_profiles" in ready.json()["reason"], ready.text
        _admin(pg_url, f"REVOKE ALL ON orders FROM {role}")
        refused = _order(server, token)
        _unavailable(refused)
        assert refused.json()["type"] == "SERVICE_UNAVAILABLE"
    finally:
        _admin(pg_url, f"GRANT SELECT, INSERT, UPDATE, DELETE ON esim_profiles, orders TO {role}")

    order_id = ordered.json()["id"]
    with client(server.base_url) as http:
        wait_until(
            lambda: http.get(f"/esim/v1/order/{order_id}", headers=api_headers(token)).json()["status"] == "COMPLETED",
            timeout=30, message="the order to complete once the privileges are back",
        )  # fmt: skip
    wait_until(lambda: _readiness(server).status_code == 200, timeout=10, message="/readyz to say ready again")
    assert _problems(server) == [] and _problems(worker) == []
    assert "worker waits for the database: database unavailable: permission denied" in worker.log(20000)


def test_start_up_on_a_database_that_refuses_writes_is_one_line_and_exit_code_1(
    pg_url: str, role_url: str, orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    role = sa.make_url(role_url).username
    _admin(pg_url, f"REVOKE ALL ON orders FROM {role}")
    listed = run_cli("order", "list", "--db", role_url, cwd=tmp_path)
    assert listed.returncode == 1, listed.stdout + listed.stderr
    assert listed.stderr.strip().splitlines() == [
        "error: cannot use the database: database unavailable: permission denied for table orders"
    ], listed.stderr
    for command in (["serve", "--port", str(free_port())], ["worker"]):
        started = orderhub_procs.spawn([*command, "--db", role_url])
        assert started.popen.wait(timeout=60) == 1, started.log()
        assert started.log().strip().splitlines() == [
            f"error: cannot use the database: the database role {role} lacks SELECT, INSERT, UPDATE, DELETE on: orders"
        ]


def test_requests_that_meet_a_table_locked_by_ddl_are_503_and_the_loops_wait_without_tracebacks(
    pg_url: str, orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    # ALTER TABLE, VACUUM FULL, LOCK TABLE: a read waits for the lock until its lock_timeout, then was a
    # 500, and the worker and the event dispatcher logged a traceback at every turn meanwhile. An order
    # was a 500 too: fulfilment took its INSERT's lock wait for its own, and the order went on in a
    # failed transaction.
    server = orderhub_procs.serve(tmp_path / "unused.db", db_url=pg_url, demo=False, env=FAULT_ENV)
    channel = get_token(server.base_url, "demo-channel-1", "demo-channel-1-secret")
    token = get_token(server.base_url)
    engine = sa.create_engine(sa.make_url(pg_url).set(drivername="postgresql+psycopg"))
    try:
        with engine.begin() as holder, client(server.base_url) as http:
            holder.exec_driver_sql("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
            listed = http.get("/tmf-api/productOrderingManagement/v4/productOrder", headers=api_headers(channel))
            ordered = [_order(server, token) for _ in range(3)]
            wait_until(lambda: "worker waits for the database" in server.log(20000), timeout=10,
                       message="the worker to wait for the database")  # fmt: skip
    finally:
        engine.dispose()
    _unavailable(listed)
    assert listed.json()["code"] == "SERVICE_UNAVAILABLE" and listed.json()["status"] == "503", listed.text
    assert "canceling statement due to lock timeout" in server.log(20000)
    for answer in ordered:
        _unavailable(answer)
        assert answer.json()["type"] == "SERVICE_UNAVAILABLE"
    assert _order(server, token).status_code == 201
    with client(server.base_url) as http:
        listed_after = http.get("/tmf-api/productOrderingManagement/v4/productOrder", headers=api_headers(channel))
    assert listed_after.status_code == 200, listed_after.text
    assert _problems(server) == []
