"""The same esim-v1 accept and GET with 1,000,000 orders already stored, in turns with the empty
database's server (bench/README.md, "The stored GET")."""

from __future__ import annotations

import os
import random
import time

from bench import bulk, orders
from bench.load import LoadResult, run_wrk
from bench.scenarios import Run
from bench.servers import Server


def stored_orders(run: Run, accepts: dict[int, LoadResult], gets: dict[int, LoadResult]) -> None:
    db_path = run.workdir / "stored.db"
    count = run.plan.stored_orders
    print(f"preparing a database with {count} stored orders ...")
    loading = time.monotonic()
    # Profiles enough for the accept turns (~3,000 orders/s, 10 s a turn) and the warm-up.
    orders.prepare(db_path, 150_000 if count >= 100_000 else 10_000, run.src)
    sample = bulk.load_completed_orders(db_path, count)
    # The loader leaves gigabytes for the kernel to write back; orderhub's first fsyncs would wait
    # for that writeback, which is the loader's cost, not the service's.
    os.sync()
    run.extra["stored_orders_load_seconds"] = round(time.monotonic() - loading, 1)
    server = run.start(db_path)
    token = orders.token(server)
    ids_file = run.workdir / "stored-ids.txt"
    # Spread over the whole file: the loader's sample is every 100th order.
    polled = random.Random(0).sample(sample, min(run.plan.polled_orders, len(sample)))
    ids_file.write_text("\n".join(polled) + "\n")
    connections = max(run.plan.connections)
    label = f"{count // 1000}k stored" if count < 1_000_000 else f"{count // 1_000_000}M stored"
    env = {"BENCH_TOKEN": token, "BENCH_ACTIVATION": orders.activation(), "BENCH_IDS": str(ids_file)}
    # A few seconds of each load first: a restarted process on a big file starts with a cold page cache,
    # and its first commits with a cold write path (the first accept turn's p99 was 137 ms against
    # 35-38 ms in the others, 2026-12-05). The empty database's server is warm from its own scenarios.
    # (Not in a smoke run: its figures mean nothing, and each load there is a second.)
    warm_up = min(3, run.plan.seconds) if run.plan.seconds >= 5 else 0
    if warm_up:
        run_wrk("warm-up", server.url, "get_order.lua", connections=connections, seconds=warm_up, env=env)
    if warm_up and connections in accepts:
        run_wrk("warm-up", server.url, "post_order.lua", connections=connections, seconds=warm_up, env=env)
    if run.empty_get is not None:
        if connections in accepts:
            in_turns(run, "accept", f"esim-v1 accept, {label}", "post_order.lua", server, env, connections)
        if connections in gets:
            in_turns(run, "get", f"esim-v1 GET order, {label}", "get_order.lua", server, env, connections)
    server.stop()


def in_turns(
    run: Run, key: str, scenario: str, script: str, server: Server, env: dict[str, str], connections: int
) -> None:
    """The stored database's figure as a share of the empty one's, the two servers (both still up)
    taking turns: from one load to the next a figure moved by up to 60 % on this shared machine,
    more than the difference being measured (bench/README.md, "The stored GET")."""
    assert run.empty_get is not None
    empty_server, empty_env = run.empty_get
    kind = scenario.partition(", ")[0]
    empty_rps, stored_rps = 0.0, 0.0
    for turn in range(1, run.plan.stored_turns + 1):
        empty = run.load(f"{kind}, empty (turn {turn})", empty_server, script, connections, empty_env)
        # Its ratio is to the empty database's figure just before it.
        stored = run.load(f"{scenario} (turn {turn})", server, script, connections, env, empty)
        empty_rps += empty.rps
        stored_rps += stored.rps
    share = round(stored_rps / empty_rps, 3) if empty_rps else None
    run.extra[f"stored_{key}_share_of_empty"] = share
    print(f"  {scenario}: {share} of the empty database's figure over {run.plan.stored_turns} turns")
