"""The liveness rule of a standalone worker's /healthz: a loop that stops coming round is reported, one
that waits for work or for the database is not."""

from __future__ import annotations

import threading
import time
from typing import Any, cast

from orderhub.fulfilment.hub_dispatcher import HubDispatcher
from orderhub.fulfilment.liveness import Heartbeat
from orderhub.fulfilment.worker import Worker
from orderhub.services.fulfilment import FulfilmentService
from orderhub.services.hub import HubService
from orderhub.services.ports import DatabaseUnavailable

STALE_AFTER = 0.3


class BlockingFulfilment:
    """run_due blocks while ``held`` is set (a provisioner call that never returns), or raises."""

    def __init__(self, raises: Exception | None = None) -> None:
        self.held = threading.Event()
        self.entered = threading.Event()
        self.released = threading.Event()
        self.raises = raises

    def run_due(self, worker_id: str, limit: int) -> int:
        if self.raises is not None:
            raise self.raises
        if self.held.is_set():
            self.entered.set()
            self.released.wait(10)
        return 0

    def changed(self) -> bool:
        return False


def _wait_for(predicate: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_a_heartbeat_is_stale_past_its_limit_and_before_its_first_beat() -> None:
    now = [100.0]
    heartbeat = Heartbeat("loop", clock=lambda: now[0])
    thread = threading.current_thread()
    assert "never" in str(heartbeat.stalled(thread, 5))
    heartbeat.beat()
    now[0] += 5
    assert heartbeat.stalled(thread, 5) is None
    now[0] += 0.1
    assert "no progress for 5.1 s" in str(heartbeat.stalled(thread, 5))
    assert heartbeat.stalled(None, 5) == "loop is not running"


def test_a_worker_stuck_in_a_batch_is_stalled_and_alive_again_when_it_returns() -> None:
    fulfilment = BlockingFulfilment()
    worker = Worker(cast(FulfilmentService, fulfilment), poll_interval=0.05)
    assert worker.stalled(STALE_AFTER) == "worker loop is not running"
    worker.start(watch_database=True)
    try:
        time.sleep(2 * STALE_AFTER)
        assert worker.stalled(STALE_AFTER) is None, "an idle worker waiting for work is alive"
        fulfilment.held.set()
        assert fulfilment.entered.wait(5)
        problem = _wait_for(lambda: worker.stalled(STALE_AFTER))
        assert "worker loop made no progress" in problem
        fulfilment.held.clear()
        fulfilment.released.set()
        _wait_for(lambda: worker.stalled(STALE_AFTER) is None)
    finally:
        fulfilment.released.set()
        worker.stop()
    assert worker.stalled(STALE_AFTER) == "worker loop is not running"


def test_a_worker_waiting_for_the_database_is_alive() -> None:
    # Not ready (its /readyz says so), but restarting it would not help: it comes round and retries.
    fulfilment = BlockingFulfilment(raises=DatabaseUnavailable("database is locked"))
    worker = Worker(cast(FulfilmentService, fulfilment), poll_interval=0.05)
    worker.start()
    try:
        time.sleep(3 * STALE_AFTER)
        assert worker.stalled(STALE_AFTER) is None
    finally:
        worker.stop()


class BlockingHub:
    def __init__(self) -> None:
        self.held = threading.Event()
        self.released = threading.Event()

    def reclaim_abandoned(self) -> None:
        return None

    def claim_due(self, limit: int) -> list[Any]:
        if self.held.is_set():
            self.released.wait(10)
        return []

    def stopped_dispatching(self) -> None:
        return None


def test_an_event_dispatcher_stuck_in_a_round_is_stalled() -> None:
    hub = BlockingHub()
    dispatcher = HubDispatcher(cast(HubService, hub))
    dispatcher.start()
    try:
        time.sleep(2 * STALE_AFTER)
        assert dispatcher.stalled(STALE_AFTER) is None
        hub.held.set()
        problem = _wait_for(lambda: dispatcher.stalled(STALE_AFTER))
        assert "event dispatcher made no progress" in problem
        hub.held.clear()
        hub.released.set()
        _wait_for(lambda: dispatcher.stalled(STALE_AFTER) is None)
    finally:
        hub.released.set()
        dispatcher.stop()
