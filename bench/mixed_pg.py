"""esim-v1 orders on PostgreSQL while other partners poll: what a GET flood does to accept.

``./dev bench mixed-pg [--src OTHER/src] [--rounds 2] [--duration 8] [--polling 64] [--ordering 4]``
starts one API process (its worker inside) on a fresh PostgreSQL database and drives it with two wrk
processes at once: ``--ordering`` connections placing NEW_ESIM orders and ``--polling`` connections
polling GET order, as esim-v1 partners do. Before that, the same orders alone, for comparison. With
``--src`` the two checkouts take turns on the same database. Figures: orders/s with p50/p99, GETs/s.
"""

from __future__ import annotations

import argparse
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import orders
from bench.load import LoadResult, run_wrk
from bench.postgres import fresh_database, start
from bench.servers import REPO

DATABASE = "orderhub_bench_mixed"


def _round(url: str, workdir: Path, src: Path, args: argparse.Namespace) -> tuple[LoadResult, LoadResult, LoadResult]:
    server = start(url, workdir, src=src)
    try:
        token = orders.token(server)
        ids_file = workdir / "mixed-ids.txt"
        ids_file.write_text("\n".join(orders.place(server, token, 200)) + "\n")
        post_env = {"BENCH_TOKEN": token, "BENCH_ACTIVATION": orders.activation()}
        get_env = {"BENCH_TOKEN": token, "BENCH_IDS": str(ids_file)}

        def post(name: str) -> LoadResult:
            return run_wrk(
                name, server.url, "post_order.lua", connections=args.ordering, seconds=args.duration, env=post_env
            )

        alone = post("accept alone")
        with ThreadPoolExecutor(2) as pool:
            get_load = {"connections": args.polling, "seconds": args.duration, "env": get_env}
            polls = pool.submit(run_wrk, "GET", server.url, "get_order.lua", **get_load)
            mixed = pool.submit(post, "accept under polling")
            return alone, mixed.result(), polls.result()
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="./dev bench mixed-pg", description=__doc__)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test", help="the server to use")
    parser.add_argument("--src", type=Path, help="also run another checkout's src/, the two taking turns")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each checkout, default 2")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of each load, default 8")
    parser.add_argument("--ordering", type=int, default=4, help="connections placing orders, default 4")
    parser.add_argument("--polling", type=int, default=64, help="connections polling GET order, default 64")
    args = parser.parse_args()
    sources = [("this checkout", REPO / "src")] + ([("--src", args.src.resolve())] if args.src else [])
    profiles = len(sources) * args.rounds * (int(args.duration) * 2_000 + 400)
    print(f"preparing a PostgreSQL database with {profiles} eSIM profiles ...", flush=True)
    url = fresh_database(args.postgres, profiles, None, name=DATABASE)
    rows = []
    with tempfile.TemporaryDirectory(prefix="orderhub-mixed-") as workdir:
        for round_number in range(args.rounds):
            for label, src in sources:
                alone, mixed, polls = _round(url, Path(workdir), src, args)
                rows.append((label, round_number + 1, alone, mixed, polls))
                print(
                    f"  {label}, round {round_number + 1}: alone {alone.rps:.0f} orders/s;"
                    f" polled {mixed.rps:.0f} orders/s (p99 {mixed.p99_ms} ms), {polls.rps:.0f} GETs/s",
                    flush=True,
                )
    print(f"\nPostgreSQL, 1 API: esim-v1 accept @{args.ordering}, alone and with GET order @{args.polling}")
    heads = ("alone/s", "p99", "polled/s", "p50", "p99", "GETs/s")
    print(f"{'version':16} {'round':>5} " + " ".join(f"{h:>8}" for h in heads) + " errors")
    for label, number, alone, mixed, polls in rows:
        errors = alone.errors + mixed.errors + polls.errors
        print(
            f"{label:16} {number:>5} {alone.rps:>8.0f} {alone.p99_ms:>8.1f} {mixed.rps:>8.0f}"
            f" {mixed.p50_ms:>8.1f} {mixed.p99_ms:>8.1f} {polls.rps:>8.0f} {errors:>6}"
        )


if __name__ == "__main__":
    main()
