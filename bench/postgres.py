"""The PostgreSQL scenarios: esim-v1 accept and GET with one API process (its worker inside), then
with two API processes and a separate worker, the load split over both (as a load balancer would)."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import sqlalchemy as sa

from bench import orders
from bench.load import LoadResult, run_wrk
from bench.scenarios import Run
from bench.servers import REPO, Server, free_port, orderhub_cli, orderhub_env

BENCH_DATABASE = "orderhub_bench"


def admin_url(server_url: str) -> str:
    """``server_url`` as psycopg takes it, for creating and dropping databases on that server."""
    return sa.make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)


def fresh_database(server_url: str, profiles: int, src: Path | None, name: str = BENCH_DATABASE) -> str:
    """A new database ``name`` on the server of ``server_url``, migrated, with the demo data and ``profiles``."""
    with psycopg.connect(admin_url(server_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    url = sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    orderhub_cli("migrate", "--db", url, src=src)
    orderhub_cli("demo-data", "--db", url, src=src, extra_env={"ORDERHUB_DEMO_INVENTORY_SIZE": str(profiles)})
    return url


def start(url: str, workdir: Path, *extra: str, src: Path | None = None, wait: bool = True) -> Server:
    """``orderhub serve`` (extra args such as --no-worker) or, with extra == ("worker",), a worker; a server
    is ready when this returns, unless ``wait`` is false."""
    port = free_port()
    log_path = workdir / f"pg-{port}.log"
    if extra == ("worker",):
        argv = [sys.executable, "-m", "orderhub", "worker", "--db", url]
    else:
        argv = [sys.executable, "-m", "orderhub", "serve", "--db", url, "--host", "127.0.0.1", "--port", str(port)]
        argv += list(extra)
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=orderhub_env(src)
        )
    server = Server("worker" if extra == ("worker",) else "orderhub-pg", popen, port, log_path)
    if wait and extra != ("worker",):
        server.wait_ready("/readyz")
    return server


def split_load(
    scenario: str, servers: list[Server], script: str, connections: int, seconds: float, env: dict[str, str]
) -> LoadResult:
    """The same script against each server at once, connections shared out; the figures combined."""
    share = max(1, connections // len(servers))
    with ThreadPoolExecutor(len(servers)) as pool:
        parts = list(
            pool.map(lambda s: run_wrk(scenario, s.url, script, connections=share, seconds=seconds, env=env), servers)
        )
    requests = sum(p.requests for p in parts)
    return LoadResult(
        scenario=scenario,
        connections=share * len(servers),
        seconds=max(p.seconds for p in parts),
        requests=requests,
        rps=round(sum(p.rps for p in parts), 1),
        p50_ms=max(p.p50_ms for p in parts),
        p99_ms=max(p.p99_ms for p in parts),
        errors=sum(p.errors for p in parts),
    )


def scenarios(run: Run, baseline: Server, server_url: str) -> None:
    """esim-v1 accept and GET on PostgreSQL: one API process, then two API processes and a worker."""
    print("preparing a PostgreSQL database ...")
    url = fresh_database(server_url, 2_000 if run.plan.seconds < 5 else 100_000, run.src)
    connections = max(run.plan.connections)
    seconds = run.plan.seconds
    one = start(url, run.workdir, src=run.src)
    run.servers.append(one)
    token = orders.token(one)
    ids_file = run.workdir / "pg-ids.txt"
    ids_file.write_text("\n".join(orders.place(one, token, 200)) + "\n")
    post_env = {"BENCH_TOKEN": token, "BENCH_ACTIVATION": orders.activation()}
    get_env = {"BENCH_TOKEN": token, "BENCH_IDS": str(ids_file)}
    base_post = run.baseline("baseline POST (PostgreSQL runs)", baseline, "post_order.lua", connections, post_env)
    base_get = run.baseline("baseline GET (PostgreSQL runs)", baseline, "get_order.lua", connections, get_env)
    run.load("PostgreSQL, 1 API: esim-v1 accept", one, "post_order.lua", connections, post_env, base_post)
    run.load("PostgreSQL, 1 API: esim-v1 GET order", one, "get_order.lua", connections, get_env, base_get)
    one.stop()
    # Started together, so that their start-ups overlap.
    two = [start(url, run.workdir, "--no-worker", src=run.src, wait=False) for _ in range(2)]
    worker = start(url, run.workdir, "worker", src=run.src)
    for server in two:
        server.wait_ready("/readyz")
    run.servers += [*two, worker]
    for name, script, env, base in (
        ("PostgreSQL, 2 API: esim-v1 accept", "post_order.lua", post_env, base_post),
        ("PostgreSQL, 2 API: esim-v1 GET order", "get_order.lua", get_env, base_get),
    ):
        result = split_load(name, two, script, connections, seconds, env)
        run.results.append(result)
        run.ratios[(name, result.connections)] = round(result.rps / base.rps, 3) if base.rps else None
        print(f"  {name} @{result.connections}: {result.rps:.0f} req/s, p99 {result.p99_ms} ms")
    for server in (*two, worker):
        server.stop()
