"""One benchmark run: ``./dev bench`` (full, ~11 minutes) or ``./dev bench --smoke`` (seconds).

Starts a bare ASGI app and orderhub on the same server stack, drives both with wrk, and prints a table
of req/s, p50, p99, errors and the ratio to the baseline measured in the same run; writes JSON and a PNG.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench import bulk, postgres, report
from bench.load import LoadResult, ensure_wrk, run_wrk
from bench.servers import REPO, Server, orderhub_cli, start_baseline, start_orderhub

# The backlog: orders due by now and not finished (orders scheduled for later are not behind).
UNFINISHED = (
    "SELECT COUNT(*) FROM orders WHERE state IN ('accepted', 'scheduled', 'in_progress')"
    " AND due_at <= strftime('%Y-%m-%d %H:%M:%f', 'now')"
)


# Every scenario, in the order a full run takes them (``--scenario`` picks some).
SCENARIOS = ["accept", "paced", "get", "vendor", "onapi", "latency", "sustained", "stored"]
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


def _plan(args: argparse.Namespace) -> Plan:
    smoke = args.smoke
    plan = Plan(
        polled_orders=200 if smoke else 1_000,
        connections=[8] if smoke else [16, 64],
        seconds=1 if smoke else 10,
        sustained_seconds=2 if smoke else 60,
        stored_orders=10_000 if smoke else 1_000_000,
        profiles=30_000 if smoke else 400_000,
        scenarios=set(args.scenario or SCENARIOS),
        stored_turns=1 if smoke else 3,
    )
    if args.connections:
        plan.connections = [int(c) for c in args.connections.split(",")]
    if args.duration:
        plan.seconds = plan.sustained_seconds = args.duration
    if args.stored is not None:
        plan.stored_orders = args.stored
    return plan


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _token(server: Server) -> str:
    answer = httpx.post(
        server.url + "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "demo-reseller-1",
            "client_secret": "demo-reseller-1-secret",
        },
        trust_env=False,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _activation() -> str:
    return (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT12:00:00Z")


def _place(server: Server, token: str, count: int) -> list[str]:
    body = {
        "input": {
            "operationType": "NEW_ESIM",
            "countryCode": "PT",
            "customer": {"email": "", "countryOfResidence": "US"},
            "device": {"type": "ios"},
            "subscriptions": [{"id": bulk.PRODUCT, "activationDate": _activation(), "price": 10, "currency": "USD"}],
        }
    }
    ids = []
    with httpx.Client(base_url=server.url, trust_env=False, timeout=30) as http:
        for _ in range(count):
            body["input"]["customer"]["email"] = f"bench-{uuid.uuid4().hex[:12]}@example.com"  # type: ignore[index]
            headers = {"Authorization": f"Bearer {token}", "X-Correlation-ID": f"bench-{uuid.uuid4()}"}
            answer = http.post("/esim/v1/order", json=body, headers=headers)
            answer.raise_for_status()
            ids.append(answer.json()["id"])
    return ids


def _completion_ms(db_path: Path, since: datetime, until: datetime) -> dict[str, float | int]:
    """accepted -> completed, from the orders' own history, for orders accepted in the window."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT a.at, c.at FROM order_events a JOIN order_events c ON c.order_id = a.order_id"
            " AND c.to_state = 'completed' WHERE a.to_state = 'accepted' AND a.at BETWEEN ? AND ?",
            (_utc_text(since), _utc_text(until)),
        ).fetchall()
    if not rows:
        return {"orders": 0}
    spans = sorted((datetime.fromisoformat(c) - datetime.fromisoformat(a)).total_seconds() * 1000 for a, c in rows)
    return {
        "orders": len(spans),
        "p50_ms": round(spans[len(spans) // 2], 2),
        "p99_ms": round(spans[min(len(spans) - 1, int(len(spans) * 0.99))], 2),
    }


def _unfinished(db_path: Path) -> int:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10) as db:
        return int(db.execute(UNFINISHED).fetchone()[0])


def _prepare(db_path: Path, profiles: int, src: Path | None) -> None:
    orderhub_cli("migrate", "--db", f"sqlite:///{db_path}", src=src)
    orderhub_cli(
        "demo-data", "--db", f"sqlite:///{db_path}", src=src, extra_env={"ORDERHUB_DEMO_INVENTORY_SIZE": "100"}
    )
    bulk.load_profiles(db_path, profiles)


class Run:
    def __init__(self, plan: Plan, workdir: Path, src: Path | None) -> None:
        self.plan = plan
        self.workdir = workdir
        self.src = src
        self.results: list[LoadResult] = []
        self.ratios: dict[tuple[str, int], float | None] = {}
        self.extra: dict[str, Any] = {}
        self.servers: list[Server] = []
        # The bare app's figure each orderhub figure was measured against, by (script, connections).
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

    def start(self, db_path: Path) -> Server:
        server = start_orderhub(db_path, self.workdir, src=self.src)
        self.servers.append(server)
        return server

    def empty_database(self, baseline: Server) -> tuple[dict[int, LoadResult], dict[int, LoadResult]]:
        db_path = self.workdir / "empty.db"
        print(f"preparing a fresh database with {self.plan.profiles} eSIM profiles ...")
        _prepare(db_path, self.plan.profiles, self.src)
        server = self.start(db_path)
        token = _token(server)
        ids_file = self.workdir / "ids.txt"
        ids_file.write_text("\n".join(_place(server, token, self.plan.polled_orders)) + "\n")
        post_env = {"BENCH_TOKEN": token, "BENCH_ACTIVATION": _activation()}
        get_env = {"BENCH_TOKEN": token, "BENCH_IDS": str(ids_file)}
        tmf_env = {"BENCH_CLIENT_ID": "demo-channel-1", "BENCH_CLIENT_SECRET": "demo-channel-1-secret"}
        onapi_env = {
            "BENCH_BASIC_AUTH": base64.b64encode(b"demo-co-acme:demo-co-acme-secret").decode(),
            # Months ahead, so every order waits (RECEIVED) and none is activated during the run.
            "BENCH_START_EPOCH": str(int(time.time()) + 200 * 86400),
        }
        accepts: dict[int, LoadResult] = {}
        gets: dict[int, LoadResult] = {}
        for connections in self.plan.connections:
            if "accept" in self.plan.scenarios:
                base = self.load("baseline POST", baseline, "post_order.lua", connections, post_env)
                self.baselines[("post_order.lua", connections)] = base
                since = datetime.now(UTC)
                accepts[connections] = self.load(
                    "esim-v1 accept (NEW_ESIM)", server, "post_order.lua", connections, post_env, base
                )
                time.sleep(1)
                self.extra[f"completion_under_load_{connections}"] = _completion_ms(db_path, since, datetime.now(UTC))
            if "get" in self.plan.scenarios:
                base = self.load("baseline GET", baseline, "get_order.lua", connections, get_env)
                self.baselines[("get_order.lua", connections)] = base
                gets[connections] = self.load("esim-v1 GET order", server, "get_order.lua", connections, get_env, base)
            if "vendor" in self.plan.scenarios:
                base = self.load("baseline POST (vendor)", baseline, "tmf_post_order.lua", connections, tmf_env)
                self.load("tmf-productorder POST (Addon)", server, "tmf_post_order.lua", connections, tmf_env, base)
            if "onapi" in self.plan.scenarios:
                base = self.load("baseline POST (onapi)", baseline, "onapi_post_order.lua", connections, onapi_env)
                self.load("onapi-order POST (RECEIVED)", server, "onapi_post_order.lua", connections, onapi_env, base)
        if "paced" in self.plan.scenarios and accepts:
            self.paced(server, post_env, accepts[max(accepts)])
        if "latency" in self.plan.scenarios:
            since = datetime.now(UTC)
            _place(server, token, 20 if self.plan.seconds < 5 else 200)
            time.sleep(0.5)
            self.extra["completion_idle"] = _completion_ms(db_path, since, datetime.now(UTC))
            print(f"  POST -> COMPLETED idle: {self.extra['completion_idle']}")
        if "sustained" in self.plan.scenarios:
            self.sustained(server, db_path, post_env)
        self.extra["rss_peak_mb"] = round(max((r for _, r in server.rss_samples), default=0) / 1e6, 1)
        self.extra["rss_end_mb"] = round((server.rss_samples[-1][1] if server.rss_samples else 0) / 1e6, 1)
        if "stored" in self.plan.scenarios and (gets or accepts):
            # Stopped with the others at the end; its accept turns need an activation date too.
            self.empty_get = (server, {**get_env, "BENCH_ACTIVATION": _activation()})
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
                samples.append((round(time.monotonic() - started, 1), _unfinished(db_path), rss))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        since = datetime.now(UTC)
        result = self.load("sustained accept (fulfilment)", server, "post_order.lua", 16, env, seconds=seconds)
        drain_started = time.monotonic()
        while _unfinished(db_path) and time.monotonic() - drain_started < 120:
            time.sleep(0.2)
        drained = round(time.monotonic() - drain_started, 2)
        done.set()
        sampler.join()
        completions = _completion_ms(db_path, since, datetime.now(UTC))
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

    def stored_orders(self, accepts: dict[int, LoadResult], gets: dict[int, LoadResult]) -> None:
        db_path = self.workdir / "stored.db"
        count = self.plan.stored_orders
        print(f"preparing a database with {count} stored orders ...")
        loading = time.monotonic()
        # Profiles enough for the accept turns (~3,000 orders/s, 10 s a turn) and the warm-up.
        _prepare(db_path, 150_000 if count >= 100_000 else 10_000, self.src)
        sample = bulk.load_completed_orders(db_path, count)
        # The loader leaves gigabytes for the kernel to write back; orderhub's first fsyncs would wait
        # for that writeback, which is the loader's cost, not the service's.
        os.sync()
        self.extra["stored_orders_load_seconds"] = round(time.monotonic() - loading, 1)
        server = self.start(db_path)
        token = _token(server)
        ids_file = self.workdir / "stored-ids.txt"
        # Spread over the whole file: the loader's sample is every 100th order.
        polled = random.Random(0).sample(sample, min(self.plan.polled_orders, len(sample)))
        ids_file.write_text("\n".join(polled) + "\n")
        connections = max(self.plan.connections)
        # A few seconds of reads first: a restarted process on a big file starts with a cold page cache.
        run_wrk("warm-up", server.url, "get_order.lua", connections=connections, seconds=min(3, self.plan.seconds),
                env={"BENCH_TOKEN": token, "BENCH_IDS": str(ids_file)})  # fmt: skip
        label = f"{count // 1000}k stored" if count < 1_000_000 else f"{count // 1_000_000}M stored"
        env = {"BENCH_TOKEN": token, "BENCH_ACTIVATION": _activation(), "BENCH_IDS": str(ids_file)}
        if self.empty_get is not None:
            if connections in accepts:
                self.in_turns("accept", f"esim-v1 accept, {label}", "post_order.lua", server, env, connections)
            if connections in gets:
                self.in_turns("get", f"esim-v1 GET order, {label}", "get_order.lua", server, env, connections)
        server.stop()

    def in_turns(
        self, key: str, scenario: str, script: str, server: Server, env: dict[str, str], connections: int
    ) -> None:
        """The stored database's figure as a share of the empty one's, the two servers (both still up)
        taking turns: from one load to the next a figure moved by up to 60 % on this shared machine,
        more than the difference being measured (bench/README.md, "The stored GET")."""
        assert self.empty_get is not None
        empty_server, empty_env = self.empty_get
        kind = scenario.partition(", ")[0]
        empty_rps, stored_rps = 0.0, 0.0
        for turn in range(1, self.plan.stored_turns + 1):
            empty = self.load(f"{kind}, empty (turn {turn})", empty_server, script, connections, empty_env)
            # Its ratio is to the empty database's figure just before it.
            stored = self.load(f"{scenario} (turn {turn})", server, script, connections, env, empty)
            empty_rps += empty.rps
            stored_rps += stored.rps
        share = round(stored_rps / empty_rps, 3) if empty_rps else None
        self.extra[f"stored_{key}_share_of_empty"] = share
        print(f"  {scenario}: {share} of the empty database's figure over {self.plan.stored_turns} turns")

    def postgres(self, baseline: Server, server_url: str) -> None:
        """esim-v1 accept and GET on PostgreSQL: one API process, then two API processes and a worker."""
        print("preparing a PostgreSQL database ...")
        url = postgres.fresh_database(server_url, 2_000 if self.plan.seconds < 5 else 100_000, self.src)
        connections = max(self.plan.connections)
        seconds = self.plan.seconds
        one = postgres.start(url, self.workdir, src=self.src)
        self.servers.append(one)
        token = _token(one)
        ids_file = self.workdir / "pg-ids.txt"
        ids_file.write_text("\n".join(_place(one, token, 200)) + "\n")
        post_env = {"BENCH_TOKEN": token, "BENCH_ACTIVATION": _activation()}
        get_env = {"BENCH_TOKEN": token, "BENCH_IDS": str(ids_file)}
        base_post = self.load("baseline POST (PostgreSQL runs)", baseline, "post_order.lua", connections, post_env)
        base_get = self.load("baseline GET (PostgreSQL runs)", baseline, "get_order.lua", connections, get_env)
        self.load("PostgreSQL, 1 API: esim-v1 accept", one, "post_order.lua", connections, post_env, base_post)
        self.load("PostgreSQL, 1 API: esim-v1 GET order", one, "get_order.lua", connections, get_env, base_get)
        one.stop()
        two = [postgres.start(url, self.workdir, "--no-worker", src=self.src) for _ in range(2)]
        worker = postgres.start(url, self.workdir, "worker", src=self.src)
        self.servers += [*two, worker]
        for name, script, env, base in (
            ("PostgreSQL, 2 API: esim-v1 accept", "post_order.lua", post_env, base_post),
            ("PostgreSQL, 2 API: esim-v1 GET order", "get_order.lua", get_env, base_get),
        ):
            result = postgres.split_load(name, two, script, connections, seconds, env)
            self.results.append(result)
            self.ratios[(name, result.connections)] = round(result.rps / base.rps, 3) if base.rps else None
            print(f"  {name} @{result.connections}: {result.rps:.0f} req/s, p99 {result.p99_ms} ms")
        for server in (*two, worker):
            server.stop()

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="every scenario for a few seconds (CI)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="where JSON and PNG go")
    parser.add_argument("--connections", help="comma-separated, default 16,64 (8 in smoke)")
    parser.add_argument("--duration", type=float, help="seconds per scenario")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=SCENARIOS,
        help="paced needs accept (it offers shares of accept's rate)",
    )
    parser.add_argument("--stored", type=int, help="orders stored before the last scenarios (default 1,000,000)")
    parser.add_argument("--src", type=Path, help="run orderhub from another checkout's src/ (before/after)")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also run on PostgreSQL, with 1 and 2 API processes (a server URL; a bench database is made there)",
    )
    args = parser.parse_args(argv)
    plan = _plan(args)
    ensure_wrk()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="orderhub-bench-") as tmp:
        run = Run(plan, Path(tmp), args.src)
        baseline = start_baseline(Path(tmp))
        try:
            accepts, gets = run.empty_database(baseline)
            if "stored" in plan.scenarios:
                run.stored_orders(accepts, gets)
            if args.postgres:
                run.postgres(baseline, args.postgres)
        finally:
            baseline.stop()
            run.stop()
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "smoke" if args.smoke else "full",
        "machine": report.machine_facts(),
        "load": [{**r.as_dict(), "ratio": run.ratios.get((r.scenario, r.connections))} for r in run.results],
        **run.extra,
    }
    print()
    print(report.table(run.results, run.ratios))
    print({k: v for k, v in run.extra.items() if k != "sustained"})
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    report.write_json(args.out / f"{stamp}.json", document)
    report.write_json(args.out / "latest.json", document)
    report.write_chart(args.out / "latest.png", document)
    print(f"\nwrote {args.out / 'latest.json'} and {args.out / 'latest.png'}")
    return 1 if any(r.requests == 0 or r.requests == r.errors for r in run.results) else 0


if __name__ == "__main__":
    sys.exit(main())
