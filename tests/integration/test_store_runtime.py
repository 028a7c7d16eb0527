"""The request path's store runtime on a real SQLite file: group commit, bounded waits, file faults."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from orderhub.domain.errors import InvalidInput
from orderhub.services.ports import DatabaseUnavailable, UnitOfWork
from orderhub.store import migrate
from orderhub.store.database import create_engine
from orderhub.store.fastsql import FastSql
from orderhub.store.runtime import SqlDatabase
from tests.databases import nested_savepoints_undo_only_the_inner_one

pytestmark = pytest.mark.integration


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "runtime.db"
    engine = create_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def database(db_path: Path) -> Iterator[SqlDatabase]:
    db = SqlDatabase(f"sqlite:///{db_path}", write_timeout=0.5)
    yield db
    db.close()


def _bump(uow: UnitOfWork) -> int:
    uow.partners.bump_config_version()
    return uow.partners.config_version()


def _version(db_path: Path) -> int:
    with sqlite3.connect(db_path) as connection:
        return int(connection.execute("SELECT version FROM config_version").fetchone()[0])


def test_writes_that_arrive_together_commit_together_and_a_failing_one_is_undone_alone(
    database: SqlDatabase, db_path: Path
) -> None:
    gate = threading.Event()
    # The first write holds the writer, so the next three queue up and share one transaction.
    blocker = database._writer.submit(lambda uow: gate.wait(5))

    def bump_then_fail(uow: UnitOfWork) -> None:
        uow.partners.bump_config_version()
        raise ValueError("refused after writing")

    first, failing, last = (database._writer.submit(work) for work in (_bump, bump_then_fail, _bump))
    gate.set()
    assert blocker.result(5) is True
    assert first.result(5) == 2
    with pytest.raises(ValueError, match="refused after writing"):
        failing.result(5)
    assert last.result(5) == 3  # the failing write's bump was undone, its neighbours' were kept
    assert _version(db_path) == 3


def test_a_write_lock_held_elsewhere_is_answered_within_the_bound_and_heals(
    database: SqlDatabase, db_path: Path
) -> None:
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable):
        database.write_now(_bump)
    # The bound is 0.5 s, where a write used to wait out SQLite's 30 s busy timeout; the rest is room for
    # a machine busy with the suite's other passes.
    assert time.monotonic() - started < 3
    problem = database.probe_writable()
    assert problem is not None and "cannot be written" in problem.reason
    other.execute("ROLLBACK")
    other.close()

    assert database.probe_writable() is None
    assert [database.write_now(_bump) for _ in range(50)] == list(range(2, 52))


def test_a_deleted_database_file_refuses_writes_instead_of_accepting_them(database: SqlDatabase, db_path: Path) -> None:
    assert database.write_now(_bump) == 2
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    with pytest.raises(DatabaseUnavailable, match="missing"):
        database.write_now(_bump)
    problem = database.probe_writable()
    assert problem is not None and "missing" in problem.reason
    assert not db_path.exists(), "a missing file must not be created anew, empty"


def test_a_replaced_database_file_refuses_writes(database: SqlDatabase, db_path: Path, tmp_path: Path) -> None:
    assert database.write_now(_bump) == 2
    copy = tmp_path / "copy.db"
    with sqlite3.connect(db_path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    copy.replace(db_path)
    with pytest.raises(DatabaseUnavailable, match="replaced"):
        database.write_now(_bump)


def test_a_worker_notices_a_commit_made_by_another_connection(database: SqlDatabase, db_path: Path) -> None:
    database.changed()  # the first call only remembers where the database stands
    assert database.changed() is False
    with sqlite3.connect(db_path) as other:
        other.execute("UPDATE config_version SET version = version + 1")
    assert database.changed() is True
    assert database.changed() is False


def test_on_an_event_loop_the_config_version_is_read_once_a_turn_and_anew_the_next(
    database: SqlDatabase, db_path: Path
) -> None:
    async def scenario() -> tuple[int, int, int]:
        before = await database.config_version()
        # Changed by another process within this turn: requests of this turn arrived before the read.
        with sqlite3.connect(db_path) as other:
            other.execute("UPDATE config_version SET version = version + 1")
        same_turn = await database.config_version()
        await asyncio.sleep(0)  # the next turn of the loop
        return before, same_turn, await database.config_version()

    before, same_turn, next_turn = asyncio.run(scenario())
    assert same_turn == before
    assert next_turn == before + 1 == _version(db_path)
    # Another loop, later: read anew.
    with sqlite3.connect(db_path) as other:
        other.execute("UPDATE config_version SET version = version + 1")
    assert asyncio.run(database.config_version()) == next_turn + 1


def test_a_refused_write_keeps_nothing_its_job_held(database: SqlDatabase) -> None:
    # A refusal raised inside a write (an order the rules refuse) travels back to its caller; what the
    # job's frames held must not travel with it (nor the batch's, through a cycle).
    class Held:
        pass

    held: list[weakref.ref[Held]] = []

    def refuse(uow: UnitOfWork) -> None:
        big = Held()
        held.append(weakref.ref(big))
        raise InvalidInput("refused by a rule", field="x")

    gc.disable()
    try:
        with pytest.raises(InvalidInput) as caught:
            database.write_now(refuse)
        assert caught.value.__traceback__ is not None  # still says where it came from
        assert held[0]() is None
    finally:
        gc.enable()


def test_refused_writes_from_an_event_loop_leave_no_cycles_for_the_collector(database: SqlDatabase) -> None:
    # Each refusal once left a cycle behind (its traceback's frames held the batch's jobs and futures,
    # the future held the refusal): a flood of refused orders ran the collector often, over all of it,
    # and its pauses became the p99. Refusals must be freed as soon as their callers drop them.
    def refuse(uow: UnitOfWork) -> None:
        uow.partners.config_version()  # reads, as an order's rules do, then refuses
        raise InvalidInput("refused by a rule", field="x")

    async def refused(count: int) -> list[str]:
        async def one() -> str:
            try:
                await database.write(refuse)
            except InvalidInput as exc:
                return exc.message
            return "accepted"

        return await asyncio.gather(*(one() for _ in range(count)))

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(refused(8))  # the loop's and the writer's own first-time set-up
        gc.collect()
        gc.disable()
        answers = loop.run_until_complete(refused(64))
        assert answers == ["refused by a rule"] * 64
        # What the collector finds of the refusals (other threads of the test run, servers of earlier
        # tests winding down, may leave cycles of their own meanwhile: not this test's to count).
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left = [o for o in gc.garbage if isinstance(o, InvalidInput) or getattr(o, "f_code", None) is refuse.__code__]
        assert left == []
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
        loop.close()


def test_on_sqlite_the_config_version_is_always_at_hand(database: SqlDatabase, db_path: Path) -> None:
    async def scenario() -> tuple[int | None, int]:
        return database.config_version_at_hand(), await database.config_version()

    at_hand, awaited = asyncio.run(scenario())
    assert at_hand == awaited == _version(db_path)


def test_reads_see_one_snapshot_and_never_wait_for_a_writer(database: SqlDatabase, db_path: Path) -> None:
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE config_version SET version = 99")
    started = time.monotonic()

    def twice(uow: UnitOfWork) -> tuple[int, int]:
        first = uow.partners.config_version()
        time.sleep(0.05)
        return first, FastSql(uow.partners._db).one("SELECT version FROM config_version")[0]  # type: ignore[index, attr-defined]

    assert database.read_now(twice) == (1, 1)
    assert time.monotonic() - started < 2  # a read that waited for the lock would have failed at the bound
    other.execute("COMMIT")
    other.close()
    assert database.read_now(lambda uow: uow.partners.config_version()) == 99


def test_a_single_statement_read_leaves_no_snapshot_behind(database: SqlDatabase, db_path: Path) -> None:
    """The busiest read runs outside a transaction: one left open would pin the WAL, which could then
    never be checkpointed and would grow for as long as the process lives."""
    with sqlite3.connect(db_path) as other:
        other.execute("UPDATE config_version SET version = version + 1")

    async def stamp() -> int:
        return await database.read_statement(lambda uow: uow.orders.stamp("no-such-order").config_version)

    assert asyncio.run(stamp()) == 2
    checkpoint = sqlite3.connect(db_path, isolation_level=None, timeout=0.2)
    busy, _frames, _moved = checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    checkpoint.close()
    assert busy == 0  # no reader left on the WAL


# Work whose time grows with the data, as a listing over a million orders does: SQLite counting to
# three million, ~0.1-0.5 s in its own code.
_LONG_COUNT = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) SELECT count(*) FROM n"


def _count_long(uow: UnitOfWork) -> int:
    return int(FastSql(uow.partners._db).one(_LONG_COUNT)[0])  # type: ignore[attr-defined]


def test_a_long_read_leaves_the_event_loop_free_and_sees_what_was_committed(database: SqlDatabase) -> None:
    async def ticks_during(read: Callable[[], Awaitable[int]]) -> tuple[int, int]:
        ticks = 0
        reading = asyncio.ensure_future(read())
        while not reading.done():
            await asyncio.sleep(0.005)
            ticks += 1
        return reading.result(), ticks

    async def run() -> None:
        version = await database.write(_bump)
        assert await database.read_long(lambda uow: uow.partners.config_version()) == version
        counted, ticks = await ticks_during(lambda: database.read_long(_count_long))
        assert counted == 3_000_000
        assert ticks >= 5  # the loop went on while SQLite counted
        # The same read on the loop holds it to the end: what read_long is there to spare the requests.
        counted, ticks = await ticks_during(lambda: database.read(_count_long))
        assert (counted, ticks) == (3_000_000, 1)

    asyncio.run(run())


def _bump_then_fail(uow: UnitOfWork) -> None:
    uow.partners.bump_config_version()
    raise ValueError("refused after writing")


def test_writes_from_an_event_loop_run_on_it_share_a_commit_and_a_failing_one_is_undone_alone(
    database: SqlDatabase, db_path: Path
) -> None:
    """On SQLite a coroutine's write runs on its own loop, where a statement costs half what it costs
    on the writer thread (store.group_commit); only the commit goes to the writer thread."""
    ran_on: set[int] = set()

    def bump_here(uow: UnitOfWork) -> int:
        ran_on.add(threading.get_ident())
        return _bump(uow)

    async def together() -> list[object]:
        return await asyncio.gather(
            *(database.write(work) for work in (bump_here, _bump_then_fail, bump_here)), return_exceptions=True
        )

    first, failing, last = asyncio.run(together())
    assert ran_on == {threading.get_ident()}  # asyncio.run's loop runs on this thread
    assert (first, last) == (2, 3)
    assert isinstance(failing, ValueError)
    assert _version(db_path) == 3


def test_an_event_loop_does_not_wait_for_a_write_lock_held_elsewhere(database: SqlDatabase, db_path: Path) -> None:
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    async def write_while_ticking() -> tuple[BaseException | int, int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        started = time.monotonic()
        (outcome,) = await asyncio.gather(database.write(_bump), return_exceptions=True)
        waited = time.monotonic() - started
        ticker.cancel()
        # The writer thread waited out the 0.5 s bound; the loop went on meanwhile.
        assert 0.4 < waited < 3
        return outcome, ticks

    outcome, ticks = asyncio.run(write_while_ticking())
    assert isinstance(outcome, DatabaseUnavailable)
    # ~50 on an idle machine; a loop blocked for the wait would tick once at most. Not 20: a busy
    # CI machine gave 13.
    assert ticks >= 5
    other.execute("ROLLBACK")
    other.close()

    async def write() -> int:
        return await database.write(_bump)

    assert asyncio.run(write()) == 2


def test_writes_from_threads_and_from_an_event_loop_at_once_each_commit_once(db_path: Path) -> None:
    """The writer thread and a loop take turns on the one connection: none of 600 increments is lost."""
    # Not the fixture's 0.5 s bound: 600 commits with fsync on a busy CI machine can take longer, and
    # what is tested is that none is lost or run twice, not how long they wait.
    database = SqlDatabase(f"sqlite:///{db_path}", write_timeout=30)
    from_thread: list[int] = []

    def thread_writes() -> None:
        from_thread.extend(database.write_now(_bump) for _ in range(200))

    async def loop_writes() -> list[int]:
        results: list[int] = []
        for size in (10, 200, 190):  # 200 at once: more than one batch on the loop (LOOP_BATCH)
            results += await asyncio.gather(*(database.write(_bump) for _ in range(size)))
        return results

    thread = threading.Thread(target=thread_writes)
    thread.start()
    from_loop = asyncio.run(loop_writes())
    thread.join(30)
    database.close()
    assert len(from_thread) == 200 and len(from_loop) == 400
    assert sorted(from_thread + from_loop) == list(range(2, 602))
    assert _version(db_path) == 601


def test_a_failing_savepoint_inside_another_undoes_only_its_own_writes(db_path: Path) -> None:
    assert nested_savepoints_undo_only_the_inner_one(f"sqlite:///{db_path}") == [1, 101]


def test_a_batch_on_the_loop_does_not_log_under_the_correlation_id_of_the_request_that_started_it(
    database: SqlDatabase,
) -> None:
    """Many requests' writes share one batch: the first one's correlation id must not label the
    others' log lines (fulfilment sets each order's own)."""
    from orderhub.observability import correlation_id

    seen: list[str | None] = []

    def note(uow: UnitOfWork) -> int:
        seen.append(correlation_id.get())
        return _bump(uow)

    async def as_request(cid: str) -> int:
        correlation_id.set(cid)
        return await database.write(note)

    async def two_requests() -> list[int]:
        return await asyncio.gather(as_request("request-a"), as_request("request-b"))

    assert sorted(asyncio.run(two_requests())) == [2, 3]
    assert seen == [None, None]


def test_sqlite_keeps_one_writer_whatever_is_asked(db_path: Path) -> None:
    # One write lock: writers side by side would only queue for it (store.writer_pool).
    database = SqlDatabase(f"sqlite:///{db_path}", write_timeout=2, writers=4)
    try:
        assert len(database._writer) == 1
        assert asyncio.run(database.write(_bump)) == _version(db_path)
    finally:
        database.close()


def test_a_write_lock_that_moves_between_another_programs_short_transactions_is_not_called_stuck(
    database: SqlDatabase, db_path: Path
) -> None:
    # A catalog import commits chunk after chunk, each taking the lock the moment the last lets it go:
    # a probe polling for the lock rarely finds it free, yet writes get through (the writer waits longer).
    importing = threading.Event()
    importing.set()

    def import_in_chunks() -> None:
        other = sqlite3.connect(db_path, isolation_level=None)
        while importing.is_set():
            other.execute("BEGIN IMMEDIATE")
            other.execute("UPDATE config_version SET version = version + 1")
            time.sleep(0.02)
            other.execute("COMMIT")
        other.close()

    importer = threading.Thread(target=import_in_chunks)
    importer.start()
    try:
        time.sleep(0.05)
        problems = [database.probe_writable() for _ in range(4)]
    finally:
        importing.clear()
        importer.join()
    assert problems == [None] * 4
