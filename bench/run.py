"""One benchmark run: ``./dev bench`` (full, ~11 minutes) or ``./dev bench --smoke`` (seconds).

Starts a bare ASGI app and orderhub on the same server stack, drives both with wrk, and prints a table
of req/s, p50, p99, errors and the ratio to the baseline measured in the same run; writes JSON and a PNG.
The scenarios are in bench.scenarios (a fresh database), bench.stored and bench.postgres.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench import postgres, report, stored
from bench.load import ensure_wrk
from bench.scenarios import SCENARIOS, Plan, Run
from bench.servers import REPO, start_baseline


def _plan(args: argparse.Namespace) -> Plan:
    smoke = args.smoke
    plan = Plan(
        polled_orders=200 if smoke else 1_000,
        connections=[8] if smoke else [16, 64],
        seconds=1 if smoke else 10,
        sustained_seconds=2 if smoke else 60,
        stored_orders=2_000 if smoke else 1_000_000,
        profiles=30_000 if smoke else 400_000,
        scenarios=set(args.scenario or SCENARIOS),
        stored_turns=1 if smoke else 3,
        one_baseline=smoke,
    )
    if args.connections:
        plan.connections = [int(c) for c in args.connections.split(",")]
    if args.duration:
        plan.seconds = plan.sustained_seconds = args.duration
    if args.stored is not None:
        plan.stored_orders = args.stored
    return plan


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
                stored.stored_orders(run, accepts, gets)
            if args.postgres:
                postgres.scenarios(run, baseline, args.postgres)
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
