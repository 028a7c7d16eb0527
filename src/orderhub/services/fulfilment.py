"""Fulfilment use cases: claim due orders, provision them, finish them exactly once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from orderhub.domain.orders import Operation, Order
from orderhub.observability import correlation_id
from orderhub.services.clock import Clock, set_back_after, utc_now
from orderhub.services.order_commands import FinishedOrder
from orderhub.services.ports import Contention, Database, DatabaseUnavailable, UnitOfWork
from orderhub.services.provisioning import IntakeReadings, NotProvisioned, Provisioner

log = logging.getLogger("orderhub.fulfilment")

# Orders fulfilled at intake check the eSIM stock at most this often (the worker after each batch).
STOCK_CHECK_SECONDS = 1.0
# An order whose fulfilment met another transaction's lock runs again after this (not counted as an
# attempt): the transactions in the way end within milliseconds.
CONTENTION_RETRY = timedelta(seconds=1)


@dataclass
class BatchOutcome:
    """What one fulfilment transaction did."""

    finished: list[FinishedOrder] = field(default_factory=list)
    retried: int = 0

    @property
    def worked(self) -> int:
        return len(self.finished) + self.retried


def _log_unfulfilled(order: Order) -> None:
    """One warning for an order that ends failed or partial, however it got there: the operator's only
    sign of it (the JSON formatter masks the reason; the line carries the order's correlation id)."""
    log.warning("order %s %s: %s", order.id, order.state.value, order.failure_reason)


class FulfilmentService:
    def __init__(
        self,
        db: Database,
        provisioners: Mapping[Operation, Provisioner],
        *,
        clock: Clock = utc_now,
        lease: timedelta = timedelta(seconds=30),
        max_attempts: int = 5,
        low_stock_threshold: int = 100,
    ) -> None:
        self._db = db
        self._provisioners = provisioners
        self._clock = clock
        self._lease = lease
        self._max_attempts = max_attempts
        # The longest a lease or a retry's backoff taken now lasts (clock.set_back_after).
        self._longest_wait = max(lease, timedelta(seconds=2 ** min(max_attempts - 1, 30)))
        self._low_stock_threshold = low_stock_threshold
        self._next_stock_check = 0.0
        self._stock_check: asyncio.Future[int] | None = None  # kept: the loop holds tasks weakly
        # The second (the end of) whose trailing check is scheduled: one a second, and one that a closed
        # event loop never ran does not keep the next second's from being scheduled.
        self._deferred_for = -1.0

    def run_due(self, worker_id: str, limit: int = 64) -> int:
        """Fulfil up to ``limit`` due orders in one transaction; how many were worked on.

        Claim, provisioning and completion commit together, so a crash leaves each order either
        untouched (it is claimed again) or finished. Each order runs in its own savepoint: one that
        raises is retried later with backoff, without undoing its neighbours.
        """
        now = self._clock()
        # Looked for on a read first: an idle worker never takes the write lock.
        if not self._db.read_now(
            lambda uow: uow.orders.due_order_ids(now, 1, set_back_after=self._set_back_after(now))
        ):
            return 0
        outcome = self._db.write_now(lambda uow: self._run_batch(uow, worker_id, limit))
        for finished in outcome.finished:
            finished.count()
        if any(finished.operation is Operation.NEW_ESIM for finished in outcome.finished):
            self._warn_if_low_stock()
        return outcome.worked

    def fulfil_in(
        self, uow: UnitOfWork, order: Order, now: datetime, readings: IntakeReadings | None = None
    ) -> FinishedOrder | None:
        """Fulfils a just-accepted order inside the transaction that accepts it, when it is due and its
        provisioner works on local data only; None leaves it to the worker (also when provisioning
        raised: that is undone and the worker retries it)."""
        provisioner = self._provisioners.get(order.operation)
        if provisioner is None or not provisioner.runs_inline or (order.due_at is not None and order.due_at > now):
            return None
        # The writer thread runs this: its log lines carry the order's correlation id, as the worker's do.
        token = correlation_id.set(order.correlation_id)
        try:
            with uow.savepoint():
                order.start(now)
                self._provision(uow, order, now, first_run=True, readings=readings)
                uow.orders.save(order)
        except Contention as exc:
            log.info("order %s waits for another transaction (%s): the worker fulfils it", order.id, exc)
            return None
        except DatabaseUnavailable:
            raise  # the transaction is lost, and the order with it: not this order's fault to log
        except Exception:
            log.exception("fulfilling order %s at once raised; the worker will retry it", order.id)
            return None
        finally:
            correlation_id.reset(token)
        return FinishedOrder.of(order)

    def after_inline(self, finished: FinishedOrder) -> None:
        """What follows the commit of an order fulfilled at once: metrics and the stock check."""
        finished.count()
        if finished.operation is not Operation.NEW_ESIM:
            return
        if time.monotonic() >= self._next_stock_check:
            self._check_stock()
        elif self._deferred_for != self._next_stock_check:
            # Orders within the second after a check took profiles it did not see: one more check when
            # that second ends (once, however many came), so a run-out in it is told then, not at the
            # next new eSIM ordered, which may come much later.
            self._deferred_for = self._next_stock_check
            delay = self._next_stock_check - time.monotonic()
            asyncio.get_running_loop().call_later(max(delay, 0.0), self._deferred_stock_check)

    def _deferred_stock_check(self) -> None:
        # Unless an order that came meanwhile checked already (it moved the next check on). Not by the
        # clock: the loop may run a timer a clock tick before its time, and the check was then skipped.
        if self._next_stock_check == self._deferred_for:
            self._check_stock()

    def _check_stock(self) -> None:
        self._next_stock_check = time.monotonic() + STOCK_CHECK_SECONDS
        # On the request's event loop, which must never wait on the database itself (PostgreSQL:
        # a server that stops answering would hold it): the store's own async read, after the answer.
        self._stock_check = asyncio.ensure_future(self._db.read(self._count_available))
        self._stock_check.add_done_callback(self._warn_on_count)

    def changed(self) -> bool:
        """Whether the database may hold new work (see ports.Database.changed)."""
        return self._db.changed()

    def _run_batch(self, uow: UnitOfWork, worker_id: str, limit: int) -> BatchOutcome:
        now = self._clock()
        outcome = BatchOutcome()
        for order_id in uow.orders.due_order_ids(now, limit, claim=True, set_back_after=self._set_back_after(now)):
            token = correlation_id.set(None)
            try:
                with uow.savepoint():
                    finished = self._fulfil_one(uow, order_id, worker_id, now)
                if finished is not None:
                    outcome.finished.append(finished)
            except Contention as exc:
                # Another transaction held what the order needs (its line, access or profile) past the
                # writer's brief wait: no fault of the order's. Not counted as an attempt (enough of them
                # failed an order that nothing was wrong with), no traceback; it runs again shortly.
                log.info("order %s waits for another transaction (%s): tried again shortly", order_id, exc)
                self._retry_shortly(uow, order_id, now)
                outcome.retried += 1
            except DatabaseUnavailable:
                # Read-only, privileges revoked, a statement timeout: the whole batch is lost, no order
                # is at fault (none is counted an attempt, as it was: enough failed good orders).
                raise
            except Exception:
                log.exception("fulfilment of order %s raised", order_id)
                with uow.savepoint():
                    finished = self._after_error(uow, order_id, now)
                if finished is not None:
                    outcome.finished.append(finished)
                else:
                    outcome.retried += 1
            finally:
                correlation_id.reset(token)
        return outcome

    def _fulfil_one(self, uow: UnitOfWork, order_id: str, worker_id: str, now: datetime) -> FinishedOrder | None:
        if not uow.orders.try_lease(
            order_id, worker_id, now, now + self._lease, set_back_after=self._set_back_after(now)
        ):
            return None  # another worker holds it
        order = uow.orders.get(order_id)
        assert order is not None
        # Worker log lines carry the correlation id of the request that placed the order.
        correlation_id.set(order.correlation_id)
        order.start(now)
        self._provision(uow, order, now)
        uow.orders.save(order)
        uow.orders.release_lease(order_id)
        return FinishedOrder.of(order)

    def _provision(
        self,
        uow: UnitOfWork,
        order: Order,
        now: datetime,
        *,
        first_run: bool = False,
        readings: IntakeReadings | None = None,
    ) -> None:
        outcome = self._provisioners[order.operation].provision(uow, order, now, first_run=first_run, readings=readings)
        if isinstance(outcome, NotProvisioned):
            order.fail(outcome.reason, now)
            _log_unfulfilled(order)
        else:
            order.finish(outcome.result, outcome.failed_items, now)
            if outcome.failed_items:  # some items failed: the order ends partial or failed
                _log_unfulfilled(order)

    def _after_error(self, uow: UnitOfWork, order_id: str, now: datetime) -> FinishedOrder | None:
        """Retry later with backoff; after ``max_attempts`` the order fails instead of hanging."""
        order = uow.orders.get(order_id)
        if order is None or order.state.is_final:
            return None
        # The failed savepoint undid the lease and its attempt count: count this attempt here.
        attempts = uow.orders.record_attempt(order_id)
        if attempts >= self._max_attempts:
            order.start(now)
            order.fail(f"fulfilment failed after {attempts} attempts", now)
            # The savepoint that raised may have ended before the order's correlation id was set.
            correlation_id.set(order.correlation_id)
            _log_unfulfilled(order)
            uow.orders.save(order)
            uow.orders.release_lease(order_id)
            return FinishedOrder.of(order)
        uow.orders.release_lease(order_id, retry_at=now + timedelta(seconds=2**attempts))
        return None

    @staticmethod
    def _retry_shortly(uow: UnitOfWork, order_id: str, now: datetime) -> None:
        try:
            with uow.savepoint():
                uow.orders.release_lease(order_id, retry_at=now + CONTENTION_RETRY)
        except Contention:
            pass  # the order is due again at once: the next batch tries it

    def _set_back_after(self, now: datetime) -> datetime:
        return set_back_after(now, self._longest_wait)

    def _count_available(self, uow: UnitOfWork) -> int:
        return uow.profiles.count_available(at_most=self._low_stock_threshold)

    def _warn_on_count(self, counted: asyncio.Future[int]) -> None:
        if counted.cancelled() or counted.exception() is not None:
            return  # the database is unavailable: the requests say so, the next check looks again
        self._warn_if_low(counted.result())

    def _warn_if_low_stock(self) -> None:
        self._warn_if_low(self._db.read_now(self._count_available))

    def _warn_if_low(self, available: int) -> None:
        if available < self._low_stock_threshold:
            log.warning(
                "eSIM inventory low: %d profiles available (threshold %d)",
                available,
                self._low_stock_threshold,
            )
