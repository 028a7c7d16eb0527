"""The scenarios on a fresh database: accept, GET, the other APIs' POSTs, paced accept, POST ->
COMPLETED idle, and the sustained run; each orderhub figure against the bare app's from the same run.
``Run`` also keeps what every scenario measured, for the table, the JSON and the chart."""

from __future__ import annotations

import base64
import statistics
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import bulk, orders
from bench.load import LoadResult, run_wrk
from bench.servers import Server, start_orderhub

# Every scenario, in the order a full run takes them (``--scenario`` picks some).
SCENARIOS = ["accept", "paced", "get", "vendor", "tmf622", "onapi", "latency", "sustained", "stored"]
# Accesses each wrk thread of an onapi-order load orders on, one an order (bench.bulk.load_accesses):
# more than a thread sends in a full run's load, so none is ordered on twice.
ONAPI_ACCESSES_PER_THREAD = 60_000
# The paced scenario's offered rates, as shares of the accept rate measured flat out just before.
PACED_SHARES = (0.5, 0.8)


@dataclass
class Plan:
    # How many distinct orders the GET scenarios poll, the same with an empty and with a full database:
    # the number of orders polled, not the size of the file, is what decides how much of the rendered
    # copies and the database pages stays in the CPU's caches (bench/README.md).
    polled_orders: int
    connections: list[int]
    seconds: float
    sustained_seconds: float
    stored_orders: int
    profiles: int
    scenarios: set[str]
    # The stored database's accept and GET take turns with the empty one's this many times (Run.in_turns).
    stored_turns: int = 3
    # Measure the bare app once per kind of request (POST, GET) and connections, and compare every later
    # figure of that kind with it: for smoke runs, whose figures mean nothing and whose every load costs CI
    # a second. A full run measures the bare app next to each scenario, the machine being noisy.
    one_baseline: bool = False


class Run:
    def __init__(self, plan: Plan, workdir: Path, src: Path | None) -> None:
        self.plan = plan
        self.workdir = workdir
        self.src = src
        self.results: list[LoadResult] = []
        self.ratios: dict[tuple[str, int], float | None] = {}
        self.extra: dict[str, Any] = {}
        self.servers: list[Server] = []
        # The bare app's figures by (kind, connections), for a plan that measures it once (Plan.one_baseline).
        self.baselines: dict[tuple[str, int], LoadResult] = {}
        # The empty database's server and its GET script's environment, kept up for the stored run.
        self.empty_get: tuple[Server, dict[str, str]] | None = None

    def load(self, scenario: str, server: Server, script: str, connections: int, env: dict[str, str],
             baseline: LoadResult | None = None, seconds: float | None = None) -> LoadResult:  # fmt: skip
        result = run_wrk(
            scenario, server.url, script, connections=connections, seconds=seconds or self.plan.seconds, env=env
        )
        self.results.append(result)
        self.ratios[(scenario, connections)] = (
            round(result.rps / baseline.rps, 3) if baseline and baseline.rps else None
        )
        print(f"  {scenario} @{connections}: {result.rps:.0f} req/s, p99 {result.p99_ms} ms, errors {result.errors}")
        return result

    def baseline(self, scenario: str, server: Server, script: str, connections: int, env: dict[str, str]) -> LoadResult:
        """The bare app's figure to compare the next orderhub load with (``scenario`` names its kind)."""
        kind = (scenario.split()[1], connections)  # "baseline POST (vendor)" is a POST
        if self.plan.one_baseline and kind in self.baselines:
            return self.baselines[kind]
        self.baselines[kind] = self.load(scenario, server, script, connections, env)
        return self.baselines[kind]

    def start(self, db_path: Path) -> Server:
        server = start_orderhub(db_path, self.workdir, src=self.src)
        self.servers.append(server)
        return server

    def empty_database(self, baseline: Server) -> tuple[dict[int, LoadResult], dict[int, LoadResult]]:
        db_path = self.workdir / "empty.db"
        print(f"preparing a fresh database with {self.plan.profiles} eSIM profiles ...")
        orders.prepare(db_path, self.plan.profiles, self.src)
        # Accesses enough for every onapi-order load to give each of its orders one of its own.
        per_thread = ONAPI_ACCESSES_PER_THREAD if self.plan.seconds >= 5 else 5_000
        if "onapi" in self.plan.scenarios:
            bulk.load_accesses(db_path, per_thread * 2 * len(self.plan.connections))
        server = self.start(db_path)
        token = orders.token(server)
        ids_file = self.workdir / "ids.txt"
        ids_file.write_text("\n".join(orders.place(server, token, self.plan.polled_orders)) + "\n")
        post_env = {"BENCH_TOKEN": token, "BENCH_ACTIVATION": orders.activation()}
        get_env = {"BENCH_TOKEN": token, "BENCH_IDS": str(ids_file)}
        tmf_env = {"BENCH_CLIENT_ID": "demo-channel-1", "BENCH_CLIENT_SECRET": "demo-channel-1-secret"}
        tmf622_env = {"BENCH_TOKEN": orders.token(server, "demo-channel-1")} if "tmf622" in self.plan.scenarios else {}
        onapi_env = {
            "BENCH_BASIC_AUTH": base64.b64encode(b"demo-co-acme:demo-co-acme-secret").decode(),
            # Months ahead, so every order waits (RECEIVED) and none is activated during the run.
            "BENCH_START_EPOCH": str(int(time.time()) + 200 * 86400),
        }
        accepts: dict[int, LoadResult] = {}
        gets: dict[int, LoadResult] = {}
        for connections in self.plan.connections:
            if "accept" in self.plan.scenarios:
                base = self.baseline("baseline POST", baseline, "post_order.lua", connections, post_env)
                since = datetime.now(UTC)
                accepts[connections] = self.load(
                    "esim-v1 accept (NEW_ESIM)", server, "post_order.lua", connections, post_env, base
                )
                time.sleep(1 if self.plan.seconds >= 5 else 0.2)  # the last orders' completions
                self.extra[f"completion_under_load_{connections}"] = orders.completion_ms(
                    db_path, since, datetime.now(UTC)
                )
            if "get" in self.plan.scenarios:
                base = self.baseline("baseline GET", baseline, "get_order.lua", connections, get_env)
                gets[connections] = self.load("esim-v1 GET order", server, "get_order.lua", connections, get_env, base)
            if "vendor" in self.plan.scenarios:
                base = self.baseline("baseline POST (vendor)", baseline, "tmf_post_order.lua", connections, tmf_env)
                self.load("tmf-productorder POST (Addon)", server, "tmf_post_order.lua", connections, tmf_env, base)
            if "tmf622" in self.plan.scenarios:
                script = "tmf622_post_order.lua"
                base = self.baseline("baseline POST (TMF622)", baseline, script, connections, tmf622_env)
                self.load("TMF622 POST productOrder (Addon)", server, script, connections, tmf622_env, base)
            if "onapi" in self.plan.scenarios:
                first = per_thread * 2 * self.plan.connections.index(connections)
                onapi_env |= {"BENCH_ACCESS_FIRST": str(first), "BENCH_ACCESS_PER_THREAD": str(per_thread)}
                base = self.baseline("baseline POST (onapi)", baseline, "onapi_post_order.lua", connections, onapi_env)
                self.load("onapi-order POST (RECEIVED)", server, "onapi_post_order.lua", connections, onapi_env, base)
        if "paced" in self.plan.scenarios and accepts:
            self.paced(server, post_env, accepts[max(accepts)])
        if "latency" in self.plan.scenarios:
            since = datetime.now(UTC)
            orders.place(server, token, 20 if self.plan.seconds < 5 else 200)
            time.sleep(0.5)
            self.extra["completion_idle"] = orders.completion_ms(db_path, since, datetime.now(UTC))
            print(f"  POST -> COMPLETED idle: {self.extra['completion_idle']}")
        if "sustained" in self.plan.scenarios:
            self.sustained(server, db_path, post_env)
        self.extra["rss_peak_mb"] = round(max((r for _, r in server.rss_samples), default=0) / 1e6, 1)
        self.extra["rss_end_mb"] = round((server.rss_samples[-1][1] if server.rss_samples else 0) / 1e6, 1)
        if "stored" in self.plan.scenarios and (gets or accepts):
            # Stopped with the others at the end; its accept turns need an activation date too.
            self.empty_get = (server, {**get_env, "BENCH_ACTIVATION": orders.activation()})
        else:
            server.stop()
        return accepts, gets

    def paced(self, server: Server, env: dict[str, str], saturated: LoadResult) -> None:
        """Accept at a given share of what the server took flat out, on as many connections: what a
        partner's order waits at a busy hour that the server can follow. Flat out, wrk keeps every
        connection busy, so the latency is set by the throughput (connections / req/s) whatever the
        server does; paced, it is what the order itself costs, with the batches it shares a commit with."""
        for share in PACED_SHARES:
            scenario = f"esim-v1 accept, paced {round(share * 100)} %"
            rate = f"{share * saturated.rps:.1f}"
            self.load(scenario, server, "post_order.lua", saturated.connections, {**env, "BENCH_RATE": rate})

    def sustained(self, server: Server, db_path: Path, env: dict[str, str]) -> None:
        seconds = self.plan.sustained_seconds
        samples: list[tuple[float, int, int]] = []
        done = threading.Event()
        started = time.monotonic()

        def sample() -> None:
            while not done.wait(1.0):
                rss = server.rss_samples[-1][1] if server.rss_samples else 0
                samples.append((round(time.monotonic() - started, 1), orders.unfinished(db_path), rss))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        since = datetime.now(UTC)
        result = self.load("sustained accept (fulfilment)", server, "post_order.lua", 16, env, seconds=seconds)
        drain_started = time.monotonic()
        while orders.unfinished(db_path) and time.monotonic() - drain_started < 120:
            time.sleep(0.2)
        drained = round(time.monotonic() - drain_started, 2)
        done.set()
        sampler.join()
        completions = orders.completion_ms(db_path, since, datetime.now(UTC))
        half = [backlog for at, backlog, _ in samples if at >= seconds / 2]
        rss = [r for _, _, r in samples if r]
        self.extra["sustained"] = {
            "seconds": seconds,
            "accept_rps": result.rps,
            "completed_rps": round(int(completions.get("orders", 0)) / max(result.seconds, 0.001), 1),
            "backlog_max": max((b for _, b, _ in samples), default=0),
            "backlog_second_half_mean": round(statistics.mean(half), 1) if half else 0,
            "backlog_grew": bool(half) and half[-1] > 2 * max(half[0], 50),
            "drain_seconds": drained,
            "rss_start_mb": round(rss[0] / 1e6, 1) if rss else None,
            "rss_end_mb": round(rss[-1] / 1e6, 1) if rss else None,
            "completion": completions,
            "backlog": samples,
        }
        summary = {k: v for k, v in self.extra["sustained"].items() if k != "backlog"}
        print(f"  sustained: {summary}")

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
