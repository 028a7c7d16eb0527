"""esim-v1 orders on PostgreSQL as if the server were on another host: what a writer's round trips cost.

``./dev bench remote-pg [--src OTHER/src] [--delay-ms 0.5] [--orders 1500] [--rounds 2]`` places
``--orders`` NEW_ESIM orders with an Idempotency-Key, 64 at a time, in-process through
``OrderingService.place`` (no HTTP: the writers are what is measured), over a loopback proxy that holds
each of the server's answers ``--delay-ms`` before passing it on, as a network between two hosts would.
On loopback a round trip costs ~0.1 ms and one more or less hides in the machine's noise; with the
delay, each one an order waits on shows. Each run gets a fresh copy of one prepared database; with
``--src`` the two checkouts take turns, and the figures are orders/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import sqlalchemy as sa

from bench.pg_proxy import relay
from bench.postgres import admin_url, fresh_database
from bench.servers import REPO, free_port, orderhub_env

IN_FLIGHT = 64
TEMPLATE = "orderhub_bench_remote"


async def _place(url: str, orders: int) -> float:
    """The child: orders/s of ``orders`` NEW_ESIM orders, IN_FLIGHT at a time, through the writers."""
    from bench.bulk import PRODUCT
    from orderhub.bootstrap import build_services
    from orderhub.domain.esim import DeviceType, EsimOrderRequest, SubscriptionRequest
    from orderhub.domain.orders import Operation
    from orderhub.services.auth import principal_of
    from orderhub.settings import Settings

    try:
        from orderhub.services.order_commands import PlaceOrder
    except ImportError:  # a checkout (--src) from before 2026-12-06
        from orderhub.services.ordering import PlaceOrder  # type: ignore[attr-defined,no-redef]

    services = build_services(Settings(database_url=url))
    try:
        with services.uow_factory(read_only=True) as uow:
            principal = principal_of(uow, "demo-reseller-1")

        async def one() -> None:
            email = f"remote-{uuid.uuid4().hex[:12]}@example.com"
            request = EsimOrderRequest(
                operation=Operation.NEW_ESIM,
                customer_email=email,
                device_type=DeviceType.IOS,
                subscriptions=(SubscriptionRequest(PRODUCT),),
            )
            command = PlaceOrder(request, {"email": email}, "esim-v1", idempotency_keys=(str(uuid.uuid4()),))
            await services.ordering.place(principal, command)

        async def lane(count: int) -> None:
            for _ in range(count):
                await one()

        await asyncio.gather(*(lane(2) for _ in range(IN_FLIGHT)))  # connected, statements prepared
        started = time.perf_counter()
        await asyncio.gather(*(lane(orders // IN_FLIGHT + (i < orders % IN_FLIGHT)) for i in range(IN_FLIGHT)))
        return orders / (time.perf_counter() - started)
    finally:
        services.close()


def _run(server_url: str, proxy_port: int, src: Path, orders: int, run: int) -> float:
    """One child on a fresh copy of the prepared database, reached through the proxy."""
    name = f"{TEMPLATE}_{run}"
    with psycopg.connect(admin_url(server_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    url = sa.make_url(server_url).set(host="127.0.0.1", port=proxy_port, database=name)
    env = orderhub_env(src)
    env["PYTHONPATH"] = os.pathsep.join([str(src), str(REPO)])
    argv = [sys.executable, "-m", "bench.remote_pg", "--child", url.render_as_string(hide_password=False)]
    done = subprocess.run([*argv, "--orders", str(orders)], cwd=REPO, env=env, capture_output=True, text=True)
    with psycopg.connect(admin_url(server_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if done.returncode != 0:
        raise RuntimeError(f"the measured run failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return float(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(prog="./dev bench remote-pg", description=__doc__)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test", help="the server to use")
    parser.add_argument("--src", type=Path, help="also run another checkout's src/, the two taking turns")
    parser.add_argument("--delay-ms", type=float, default=0.5, help="how long each server answer is held")
    parser.add_argument("--orders", type=int, default=1_500, help="orders a run, default 1,500")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each checkout, default 2")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--proxy", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(f"{asyncio.run(_place(args.child, args.orders)):.1f}")
        return
    if args.proxy is not None:
        asyncio.run(relay(args.proxy, sa.make_url(args.postgres).port or 5432, hold=args.delay_ms / 1000))
        return
    sources = [("this checkout", REPO / "src")] + ([("--src", args.src.resolve())] if args.src else [])
    print(f"preparing a PostgreSQL database with {args.orders + 2 * IN_FLIGHT + 100} eSIM profiles ...")
    fresh_database(args.postgres, args.orders + 2 * IN_FLIGHT + 100, None, name=TEMPLATE)
    proxy_port = free_port()
    proxy_argv = [sys.executable, "-m", "bench.remote_pg", "--proxy", str(proxy_port)]
    proxy_argv += ["--postgres", args.postgres, "--delay-ms", str(args.delay_ms)]
    proxy = subprocess.Popen(proxy_argv, cwd=REPO, env=orderhub_env())
    try:
        time.sleep(1)
        figures: dict[str, list[float]] = {label: [] for label, _ in sources}
        for round_number in range(args.rounds):
            for index, (label, src) in enumerate(sources):
                rate = _run(args.postgres, proxy_port, src, args.orders, round_number * len(sources) + index)
                figures[label].append(rate)
                print(f"  {label}, round {round_number + 1}: {rate:.0f} orders/s", flush=True)
    finally:
        proxy.terminate()
        proxy.wait(10)
    print(f"\nesim-v1 NEW_ESIM with a key, {IN_FLIGHT} in flight, each server answer held {args.delay_ms} ms")
    for label, rates in figures.items():
        mean = sum(rates) / len(rates)
        print(f"{label:16} {' / '.join(f'{r:.0f}' for r in rates):>30} orders/s   mean {mean:.0f}")


if __name__ == "__main__":
    main()
