"""One process, several writers side by side on PostgreSQL (store.writer_pool): their batches run at
once on connections of their own, every write commits once, and the races two processes run are won
once inside one process too."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from orderhub.bootstrap import Services, build_services
from orderhub.services.order_commands import PlacedOrder
from orderhub.settings import Settings
from orderhub.store.runtime import SqlDatabase
from orderhub.store.unit_of_work import BoundUnitOfWork
from tests.postgres.test_races import esim, placing, race

WRITERS = 3


@pytest.fixture
def one_process(pg_url: str) -> Iterator[Services]:
    services = build_services(Settings(database_url=pg_url, db_writers=WRITERS))
    try:
        yield services
    finally:
        services.close()


def test_writes_submitted_together_run_on_several_connections_at_once_and_each_commits_once(pg_url: str) -> None:
    engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE writer_probe (n integer PRIMARY KEY, backend integer)"))
    database = SqlDatabase(pg_url, write_timeout=10, writers=WRITERS)
    spans: list[tuple[int, float, float]] = []

    def write(n: int, uow: BoundUnitOfWork) -> None:
        started = time.monotonic()
        sql = uow.orders._sql  # the writer's own connection
        (backend,) = sql.one("SELECT pg_backend_pid()") or (0,)
        sql.one("SELECT pg_sleep(0.01)")  # a round trip's worth of waiting, as a real write has
        sql.execute("INSERT INTO writer_probe (n, backend) VALUES (?, ?)", (n, backend))
        spans.append((backend, started, time.monotonic()))

    async def submit_together() -> None:
        await asyncio.gather(*(database.write(lambda uow, n=n: write(n, uow)) for n in range(60)))

    try:
        asyncio.run(submit_together())
    finally:
        database.close()
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT n, backend FROM writer_probe")).all()
    engine.dispose()
    assert sorted(n for n, _ in stored) == list(range(60))
    backends = {backend for _, backend in stored}
    assert 1 < len(backends) <= WRITERS
    # Side by side, not one after the other: some write on one connection ran while one on another did.
    assert any(
        a_start < b_end and b_start < a_end for a, a_start, a_end in spans for b, b_start, b_end in spans if a != b
    )


def test_one_idempotency_key_placed_at_once_through_several_writers_places_one_order(one_process: Services) -> None:
    for _ in range(4):
        email = f"key-{uuid.uuid4().hex[:8]}@example.com"
        key = f"key-{uuid.uuid4()}"
        outcomes = race(*[placing(one_process, esim(email), key) for _ in range(6)])
        assert all(isinstance(o, PlacedOrder) for o in outcomes), outcomes
        assert len({o.order_id for o in outcomes}) == 1
        assert sorted(o.replayed for o in outcomes) == [False] + [True] * 5


def test_profiles_claimed_through_several_writers_at_once_are_never_shared(one_process: Services) -> None:
    calls = [placing(one_process, esim(f"w-{uuid.uuid4().hex[:8]}@example.com")) for _ in range(40)]
    outcomes = race(*calls)
    assert all(isinstance(o, PlacedOrder) for o in outcomes), [o for o in outcomes if not isinstance(o, PlacedOrder)]
    assert len({o.order_id for o in outcomes}) == 40
    with one_process.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT iccid, count(*) FROM esim_assignments GROUP BY iccid")).all()
    assert len(rows) == 40 and all(n == 1 for _iccid, n in rows)
