"""Fulfilment use cases: claim due orders, provision them, finish them exactly once."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from orderhub.domain.orders import Operation, OrderState
from orderhub.fulfilment.provisioners import NotProvisioned, Provisioner
from orderhub.metrics import ORDERS_FINISHED
from orderhub.observability import correlation_id
from orderhub.services.clock import Clock, utc_now
from orderhub.services.ports import UnitOfWorkFactory

log = logging.getLogger("orderhub.fulfilment")


class FulfilmentService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        provisioners: Mapping[Operation, Provisioner],
        *,
        clock: Clock = utc_now,
        lease: timedelta = timedelta(seconds=30),
        max_attempts: int = 5,
        low_stock_threshold: int = 100,
    ) -> None:
        self._uow = uow_factory
        self._provisioners = provisioners
        self._clock = clock
        self._lease = lease
        self._max_attempts = max_attempts
        self._low_stock_threshold = low_stock_threshold

    def claim_due(self, worker_id: str, limit: int = 50) -> list[str]:
        """Lease up to ``limit`` due orders for this worker and mark them in progress.

        A worker that dies keeps its lease only until it expires; then another worker (or this one,
        restarted) claims the order again.
        """
        now = self._clock()
        with self._uow() as uow:
            claimed = []
            for order_id in uow.orders.due_order_ids(now, limit):
                if not uow.orders.try_lease(order_id, worker_id, now, now + self._lease):
                    continue
                order = uow.orders.get(order_id)
                assert order is not None
                order.start(now)
                uow.orders.save(order)
                claimed.append(order_id)
            uow.commit()
        return claimed

    def fulfil(self, order_id: str) -> OrderState:
        # Worker log lines carry the correlation id of the request that placed the order (set in _fulfil).
        token = correlation_id.set(None)
        try:
            return self._fulfil(order_id)
        except Exception:
            log.exception("fulfilment of order %s raised", order_id)
            return self._after_error(order_id)
        finally:
            correlation_id.reset(token)

    def _fulfil(self, order_id: str) -> OrderState:
        now = self._clock()
        with self._uow() as uow:
            order = uow.orders.get(order_id)
            if order is None:
                return OrderState.FAILED
            if order.state.is_final:
                uow.orders.release_lease(order_id)
                uow.commit()
                return order.state
            correlation_id.set(order.correlation_id)
            outcome = self._provisioners[order.operation].provision(uow, order, now)
            if isinstance(outcome, NotProvisioned):
                order.fail(outcome.reason, now)
                log.warning("order %s failed: %s", order_id, outcome.reason)
            else:
                order.complete(outcome.output, now)
            uow.orders.save(order)
            uow.orders.release_lease(order_id)
            uow.commit()
        ORDERS_FINISHED.labels(order.operation.value, order.state.value).inc()
        if order.operation is Operation.NEW_ESIM:
            self._warn_if_low_stock()
        return order.state

    def _after_error(self, order_id: str) -> OrderState:
        """Retry later with backoff; after ``max_attempts`` the order fails instead of hanging."""
        now = self._clock()
        with self._uow() as uow:
            order = uow.orders.get(order_id)
            if order is None or order.state.is_final:
                return order.state if order else OrderState.FAILED
            attempts = uow.orders.attempts(order_id)
            if attempts >= self._max_attempts:
                order.fail(f"fulfilment failed after {attempts} attempts", now)
                uow.orders.save(order)
                uow.orders.release_lease(order_id)
                ORDERS_FINISHED.labels(order.operation.value, order.state.value).inc()
            else:
                uow.orders.release_lease(order_id, retry_at=now + timedelta(seconds=2**attempts))
            uow.commit()
            return order.state

    def _warn_if_low_stock(self) -> None:
        with self._uow(read_only=True) as uow:
            available = uow.profiles.count_available()
        if available < self._low_stock_threshold:
            log.warning(
                "eSIM inventory low: %d profiles available (threshold %d)",
                available,
                self._low_stock_threshold,
            )
