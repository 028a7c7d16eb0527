"""A worker's order that meets another transaction's row lock (its line, held by an order being placed on
the same line in another process) runs again shortly: it is not counted as a failed attempt, nor logged
as an error with a traceback. It was: a few such meetings in a row failed an order that nothing was
wrong with ("fulfilment failed after 5 attempts")."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from orderhub.bootstrap import Services, build_services
from orderhub.domain.order_states import OrderState
from orderhub.fulfilment.provisioners import default_provisioners
from orderhub.services.fulfilment import FulfilmentService
from orderhub.settings import Settings
from tests.clocks import MovableClock
from tests.postgres.test_change_races import channel, scheduled_order


@pytest.fixture
def services(pg_url: str) -> Iterator[Services]:
    built = build_services(Settings(database_url=pg_url))
    try:
        yield built
    finally:
        built.close()


class LinesLocked:
    """Another process's transaction holding every line's row, until told to let go."""

    def __init__(self, engine: sa.Engine) -> None:
        self.holding, self.release = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._hold, args=(engine,))
        self._thread.start()
        assert self.holding.wait(10)

    def _hold(self, engine: sa.Engine) -> None:
        with engine.begin() as connection:
            connection.execute(sa.text("SELECT 1 FROM lines FOR UPDATE"))
            self.holding.set()
            self.release.wait(30)

    def let_go(self) -> None:
        self.release.set()
        self._thread.join(10)


def state_of(services: Services, order_id: str) -> OrderState:
    with services.uow_factory(read_only=True) as uow:
        order = uow.orders.get(order_id)
        assert order is not None
        return order.state


def test_an_order_that_keeps_meeting_a_lock_is_retried_not_failed_and_logs_no_error(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    order_id, _reference = scheduled_order(services, channel(services))
    clock = MovableClock(datetime.now(UTC) + timedelta(hours=2))  # past the scheduled order's date
    worker = FulfilmentService(services.database, default_provisioners(), clock=clock, max_attempts=2)
    caplog.set_level(logging.INFO, logger="orderhub.fulfilment")
    locked = LinesLocked(services.engine)
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
