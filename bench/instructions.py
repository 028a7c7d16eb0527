"""Instructions per request, counted by valgrind: a before/after that the machine's noise cannot move.

``./dev bench instructions [--src OTHER/src]`` drives the ASGI app in-process (no server, no load
generator), 32 requests in flight as under load, and counts with callgrind the CPU instructions of
every thread while it accepts ``--orders`` NEW_ESIM orders, then while it answers as many GETs.
Instructions are not time (a cache miss costs more than an add), but the count is the same from one
run to the next within ~0.2 %, where req/s on this shared machine moves by 10 %: a change of 1 %
shows. Each source runs on its own copy of one prepared database. With ``--src`` it prints the
other checkout's figures and their ratio to this one's. It counts at orderhub's default log level, as
the bench serves (an access line per request, written to /dev/null); ``--log-level WARNING`` counts
without them, as every count before 2026-12-05 did.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench import bulk
from bench.servers import REPO, orderhub_cli

IN_FLIGHT = 32
WARM_UP = 200
_NEW_ESIM = (
    '{"input": {"operationType": "NEW_ESIM", "countryCode": "PT", "customer": {"email": "i-%d@example.com",'
    ' "countryOfResidence": "US"}, "device": {"product_id": "123456789", "model": "iPhone", "type": "ios"},'
    ' "subscriptions": [{"id": "%s", "activationDate": "%s", "price": 10, "currency": "USD"}]}}'
)


async def _call(app: Any, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    answer: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        else:
            answer["body"] += message.get("body", b"")

    scope = {
        "type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()], "scheme": "http", "http_version": "1.1",
        "server": ("127.0.0.1", 8080), "client": ("127.0.0.1", 1), "root_path": "", "asgi": {"version": "3.0"},
    }  # fmt: skip
    await app(scope, receive, send)
    return answer["status"], answer["body"]


def _instrument(on: bool) -> None:
    state = "on" if on else "off"
    subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], check=True, stdout=subprocess.DEVNULL)


async def _drive(db_path: Path, orders: int, log_level: str) -> None:
    """The child, under callgrind: instrumented only while the measured requests run."""
    import orjson

    from orderhub.api.app import create_app
    from orderhub.bootstrap import build_services
    from orderhub.observability import configure_logging
    from orderhub.settings import Settings
    from orderhub.web.server import settle_collector

    settings = Settings.from_env({"ORDERHUB_LOG_LEVEL": log_level}, database_url=f"sqlite:///{db_path}")
    # As `orderhub serve` sets logging up, its lines written (to a file that keeps none of them).
    configure_logging(settings.log_level)
    (handler,) = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 (the child's, for good)
    services = build_services(settings)
    app = create_app(services, run_worker=False)
    client = "demo-reseller-1"
    form = {"grant_type": "client_credentials", "client_id": client, "client_secret": f"{client}-secret"}
    _, token_answer = await _call(app, "POST", "/oauth2/token", {"content-type": "application/x-www-form-urlencoded"},
                                  urlencode(form).encode())  # fmt: skip
    auth = {"authorization": f"Bearer {orjson.loads(token_answer)['access_token']}"}
    numbers = itertools.count()
    activation = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT12:00:00Z")
    placed: list[str] = []

    async def place(count: int) -> None:
        for _ in range(count):
            n = next(numbers)
            headers = {
                **auth,
                "content-type": "application/json",
                "idempotency-key": f"i-{n}",
                "x-correlation-id": f"i-{n}",
            }
            body = (_NEW_ESIM % (n, bulk.PRODUCT, activation)).encode()
            status, body = await _call(app, "POST", "/esim/v1/order", headers, body)
            assert status == 201, body
            placed.append(orjson.loads(body)["id"])

    async def poll(ids: list[str]) -> None:
        for order_id in ids:
            status, body = await _call(app, "GET", f"/esim/v1/order/{order_id}", {**auth, "x-correlation-id": "i"})
            assert status == 200, body

    async def in_flight(work: Any, count: int) -> None:
        # Exactly ``count`` in all: the first ones take one more each.
        await asyncio.gather(*(work(count // IN_FLIGHT + (i < count % IN_FLIGHT)) for i in range(IN_FLIGHT)))

    await in_flight(place, WARM_UP)
    ids = placed[-WARM_UP:] * (orders // WARM_UP + 1)
    await poll(placed[-WARM_UP:])  # every answer rendered once
    settle_collector()  # as `orderhub serve` does after startup
    for scenario in ("accept", "get"):
        print(f"scenario {scenario}", flush=True)
        _instrument(True)
        if scenario == "accept":
            await in_flight(place, orders)
        else:
            await asyncio.gather(*(poll(ids[i:orders:IN_FLIGHT]) for i in range(IN_FLIGHT)))
        _instrument(False)
        subprocess.run(["callgrind_control", "--dump", str(os.getpid())], check=True, stdout=subprocess.DEVNULL)
    services.close()


def _totals(out_prefix: Path) -> list[int]:
    """Instruction totals of each dump, in order (callgrind writes one file per dump)."""
    totals = []
    for dump in sorted(out_prefix.parent.glob(out_prefix.name + ".*"), key=lambda p: int(p.suffix[1:])):
        line = next(line for line in dump.read_text().splitlines() if line.startswith("totals:"))
        totals.append(int(line.split()[1]))
    return totals


def measure(src: Path, prepared: Path, workdir: Path, orders: int, log_level: str) -> dict[str, float]:
    db_path = workdir / f"run-{abs(hash(src))}.db"
    shutil.copy(prepared, db_path)
    out_prefix = workdir / f"callgrind-{abs(hash(src))}"
    argv = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out_prefix}"]
    argv += [sys.executable, "-m", "bench.instructions", "--child", str(db_path), "--orders", str(orders)]
    argv += ["--log-level", log_level]
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORDERHUB_")}
    env["PYTHONPATH"] = os.pathsep.join([str(src), str(REPO)])
    env["PYTHONHASHSEED"] = "0"  # the same dict layouts, and so the same count, run after run
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the measured run failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    # The first dump is instrumentation off up to the first request: nothing counted, or startup.
    totals = _totals(out_prefix)[-2:]
    return {"accept": totals[0] / orders, "get": totals[1] / orders}


def main() -> None:
    parser = argparse.ArgumentParser(prog="./dev bench instructions", description=__doc__)
    parser.add_argument("--src", type=Path, help="also count another checkout's src/, and compare")
    parser.add_argument("--orders", type=int, default=1_000, help="orders (and GETs) counted, default 1,000")
    parser.add_argument("--log-level", default="INFO", help="orderhub's log level, default INFO (its default)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        asyncio.run(_drive(args.child, args.orders, args.log_level))
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is needed (Debian's package valgrind)")
    with tempfile.TemporaryDirectory(prefix="orderhub-instructions-") as tmp:
        workdir = Path(tmp)
        prepared = workdir / "prepared.db"
        orderhub_cli("migrate", "--db", f"sqlite:///{prepared}")
        orderhub_cli("demo-data", "--db", f"sqlite:///{prepared}", extra_env={"ORDERHUB_DEMO_INVENTORY_SIZE": "100"})
        bulk.load_profiles(prepared, args.orders + WARM_UP + 1_000)
        sources = [("this checkout", REPO / "src")] + ([("--src", args.src.resolve())] if args.src else [])
        figures = {label: measure(src, prepared, workdir, args.orders, args.log_level) for label, src in sources}
    mine = figures["this checkout"]
    print(f"{'source':16} {'accept instr/order':>20} {'GET instr/request':>20}")
    for label, counted in figures.items():
        ratios = ""
        if counted is not mine:
            shares = counted["accept"] / mine["accept"], counted["get"] / mine["get"]
            ratios = f"   ({shares[0]:.3f} and {shares[1]:.3f} of this checkout)"
        print(f"{label:16} {counted['accept']:>20,.0f} {counted['get']:>20,.0f}{ratios}")


if __name__ == "__main__":
    main()
