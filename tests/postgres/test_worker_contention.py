"""A worker's order that meets another transaction's row lock (its line, held by an order being placed on
the same line in another process) runs again shortly: it is not counted as a failed attempt, nor logged
as an error with a traceback. It was: a few such meetings in a row failed an order that nothing was
wrong with ("fulfilment failed after 5 attempts")."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from orderhub.bootstrap import Services
from orderhub.domain.order_states import OrderState
from orderhub.fulfilment.provisioners import default_provisioners
from orderhub.services.fulfilment import FulfilmentService
from tests.clocks import MovableClock
from tests.postgres.test_change_races import channel, scheduled_order
from tests.postgres.test_races import esim, placing
from tests.postgres.test_writer_contention import LockHolder


def state_of(services: Services, order_id: str) -> OrderState:
    with services.uow_factory(read_only=True) as uow:
        order = uow.orders.get(order_id)
        assert order is not None
        return order.state


def test_an_order_that_keeps_meeting_a_lock_is_retried_not_failed_and_logs_no_error(
    pg_services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    services = pg_services
    order_id, _reference = scheduled_order(services, channel(services))
    clock = MovableClock(datetime.now(UTC) + timedelta(hours=2))  # past the scheduled order's date
    worker = FulfilmentService(services.database, default_provisioners(), clock=clock, max_attempts=2)
    caplog.set_level(logging.INFO, logger="orderhub.fulfilment")
    locked = LockHolder(services, locking="SELECT 1 FROM lines FOR UPDATE")  # every line, the order's too
    try:
        for _ in range(4):  # twice the attempts that fail an order
            assert worker.run_due("worker-1") == 1
            assert state_of(services, order_id) is OrderState.SCHEDULED
            clock.now += timedelta(seconds=3)  # past the wait before the next try
    finally:
        locked.let_go()
    assert worker.run_due("worker-1") == 1
    assert state_of(services, order_id) is OrderState.COMPLETED
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == []
    waits = [record.getMessage() for record in caplog.records if "waits for another transaction" in record.getMessage()]
    assert len(waits) == 4 and all(order_id in wait and "lock timeout" in wait for wait in waits), waits


def test_a_new_esim_whose_available_profiles_are_all_being_taken_elsewhere_is_retried_not_failed(
    pg_services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """Every available profile held by other processes' transactions (orders taking them, near the end of
    the stock): the claim skipped them all and, finding profiles still available, gave up with an error
    ("could not claim an eSIM profile after 20 attempts"), a failed attempt with a traceback each time,
    until the order failed while the profiles were still there."""
    services = pg_services
    clock = MovableClock(datetime.now(UTC))
    worker = FulfilmentService(services.database, default_provisioners(), clock=clock, max_attempts=2)
    caplog.set_level(logging.INFO, logger="orderhub.fulfilment")
    locked = LockHolder(services, locking="SELECT 1 FROM esim_profiles WHERE state = 'available' FOR UPDATE")
    try:
        placed = asyncio.run(placing(services, esim(f"held-{uuid.uuid4().hex[:8]}@example.com"))())
        assert state_of(services, placed.order_id) is OrderState.ACCEPTED  # left to the worker
        for _ in range(4):  # twice the attempts that fail an order
            assert worker.run_due("worker-1") == 1
            assert state_of(services, placed.order_id) is OrderState.ACCEPTED
            clock.now += timedelta(seconds=3)  # past the wait before the next try
    finally:
        locked.let_go()
    assert worker.run_due("worker-1") == 1
    assert state_of(services, placed.order_id) is OrderState.COMPLETED
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == []
