"""psycopg pipelines on the writers' connections: which statements are still unanswered, and when
their answers must be collected so that every error stays with the job, and the savepoint, whose
statement met it (store.fastsql sends the statements; bench/README.md, "Pipelined writes on
PostgreSQL")."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from orderhub.store.errors import after_failure


class Pipeline:
    """A psycopg pipeline open on a writer's connection, and whether statements went out since every
    answer was last collected without an error. It stays set after a collect that raised: a job may
    catch the error and go on, and its transaction is then failed, which the end of its savepoint must
    find out. (An error read any other way leaves psycopg's pipeline aborted, and the next statement
    sent, the savepoint's release at the latest, raises it.)"""

    __slots__ = ("_pipeline", "failed_with", "unanswered")

    def __init__(self, pipeline: Any) -> None:
        self._pipeline = pipeline
        self.unanswered = False
        # The error that failed the transaction (the first: all that follow fail for it), until a
        # savepoint's rollback undoes it.
        self.failed_with: BaseException | None = None

    def collect(self) -> None:
        """Waits for the answer of every statement sent; raises the error of the first that failed."""
        try:
            self._pipeline.sync()
        except BaseException as exc:
            self.unanswered = True
            if self.failed_with is None:
                self.failed_with = exc
            raise
        self.unanswered = False


# The pipelines open now, by id of the driver connection they are open on (see ``opened``).
_pipelines: dict[int, Pipeline] = {}


def on(driver: Any) -> Pipeline | None:
    """The pipeline open on ``driver``, if any."""
    return _pipelines.get(id(driver))


@contextmanager
def opened(driver: Any) -> Iterator[None]:
    """A pipeline on ``driver`` for the block; the caller owns the connection meanwhile."""
    with driver.pipeline() as pipeline:
        _pipelines[id(driver)] = Pipeline(pipeline)
        try:
            yield
        finally:
            del _pipelines[id(driver)]


def sent(driver: Any) -> None:
    """A statement went out on ``driver`` whose answer is not read yet."""
    pipeline = _pipelines.get(id(driver))
    if pipeline is not None:
        pipeline.unanswered = True


def answered(driver: Any) -> None:
    """Every statement sent on ``driver`` has its answer in (a read waited for them all)."""
    pipeline = _pipelines.get(id(driver))
    if pipeline is not None:
        pipeline.unanswered = False


def answer_before_reading(driver: Any) -> None:
    """For statements SQLAlchemy runs (store.database): it reads each answer as soon as the statement is
    sent, which on a pipelined connection first needs everything sent before it answered."""
    pipeline = _pipelines.get(id(driver))
    if pipeline is not None:
        pipeline.collect()


@contextmanager
def savepoint(driver: Any, pipeline: Pipeline, name: str) -> Iterator[None]:
    """The savepoint's errors must be those of the statements inside it: an error of one sent
    before it is raised before it begins, and every answer from inside is collected before it ends.
    A caller that catches around the savepoint still sees the earlier error, but the transaction
    stays failed, so its job fails at the next statement, as it did when the error came at once."""
    # With every answer before it in, a savepoint and its release cannot fail: their own answers can
    # wait for the next read (an order's savepoint ends right after fulfilment's has collected).
    driver.execute(f"SAVEPOINT {name}")
    if pipeline.unanswered:
        pipeline.collect()
    try:
        yield
        driver.execute(f"RELEASE SAVEPOINT {name}")
        if pipeline.unanswered:
            pipeline.collect()
    except BaseException as exc:
        # The pipeline stays aborted after an error until it is collected; that error, or the one
        # being raised, is what the savepoint undoes.
        with suppress(Exception):
            pipeline.collect()
        if _failed(driver):
            _forget_prepared_statements(driver)  # before the rollback: DEALLOCATE ALL goes out right after it
        driver.execute(f"ROLLBACK TO SAVEPOINT {name}")
        driver.execute(f"RELEASE SAVEPOINT {name}")
        pipeline.collect()
        _deallocate_now(driver)
        failed_with, pipeline.failed_with = pipeline.failed_with, None
        if failed_with is not None and failed_with is not exc and after_failure(exc):
            # A savepoint inside caught the error that failed the transaction (fulfilment's, met as
            # it began: the order's own statement's lock wait or refusal) and the job went on, to
            # "transaction aborted". That error is the one this savepoint undid, and the job's.
            raise failed_with from exc
        raise


# psycopg (3.3.9, the newest release on the package index) keeps per connection which statements
# it has prepared, and loses count in a pipeline in two ways, each a 26000 "prepared statement _pg3_N
# does not exist" at every later use of a statement, which lost its whole batch:
# - A statement run for the prepare_threshold-th time goes out as a PREPARE and counts as prepared
#   at once; its answer is never checked (PrepareManager.maybe_add_to_cache gives no key to validate
#   for a statement it had counted). Sent after a statement that failed, the server skips its PREPARE
#   (a failed transaction, an aborted pipeline), and psycopg counts it prepared all the same.
# - Reading the answer "ROLLBACK" (ROLLBACK TO SAVEPOINT's too) makes psycopg forget them all, but only
#   for a statement new to its counts, and the DEALLOCATE ALL it queues goes out after the next
#   statement: one that this next statement prepares (an executemany's, at once) is deallocated again.
# psycopg's own savepoints (psycopg.Transaction) forget every prepared statement at each rollback and
# deallocate them at once. With no public call for either, the savepoint above does the same through
# psycopg's PrepareManager (``_prepared``, as psycopg.Transaction does; tests/postgres/
# test_pipelined_writes.py fails if it changes). It makes psycopg forget them only after a database
# error, the only way a PREPARE is skipped: after a refusal (no database error) psycopg alone decides,
# as before, so that a flood of refused orders does not cost every statement its preparation.


def _failed(driver: Any) -> bool:
    """Whether the transaction failed (every answer in): a PREPARE sent since may have been skipped."""
    from psycopg.pq import TransactionStatus  # only reached on PostgreSQL

    return bool(driver.info.transaction_status == TransactionStatus.INERROR)


def _forget_prepared_statements(driver: Any) -> None:
    """psycopg forgets every statement it prepared, and queues a DEALLOCATE ALL for the server (sent
    after the next statement; its answer comes with that statement's)."""
    driver._prepared.clear()


def _deallocate_now(driver: Any) -> None:
    """What psycopg queued to deallocate goes out before any statement that follows, not after it (its
    answer comes in with the next one read, as that of psycopg's own upkeep always does)."""
    with driver.lock:
        driver.wait(driver._prepared.maintain_gen(driver))
