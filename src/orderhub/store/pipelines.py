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
        # Never as prepared statements: psycopg may count as prepared one whose PREPARE the failed
        # transaction skipped. The answer "ROLLBACK" makes psycopg forget them all (store.errors).
        driver.execute(f"ROLLBACK TO SAVEPOINT {name}", prepare=False)
        driver.execute(f"RELEASE SAVEPOINT {name}", prepare=False)
        pipeline.collect()
        failed_with, pipeline.failed_with = pipeline.failed_with, None
        if failed_with is not None and failed_with is not exc and after_failure(exc):
            # A savepoint inside caught the error that failed the transaction (fulfilment's, met as
            # it began: the order's own statement's lock wait or refusal) and the job went on, to
            # "transaction aborted". That error is the one this savepoint undid, and the job's.
            raise failed_with from exc
        raise
