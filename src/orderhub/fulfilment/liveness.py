"""Whether a background loop (the worker's, the event dispatcher's) still makes progress: what a
standalone worker's ``/healthz`` answers (api/worker_ops.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# How often a loop beats while it waits: well within any limit a probe applies.
BEAT_WHILE_WAITING_SECONDS = 0.1


class Heartbeat:
    """When a loop last showed progress. The loop beats at each turn, while it waits for work, and after
    each step that may take long (an order batch, an event sent); a loop whose last beat is older than
    ``stale_after`` is stuck (a provisioner or listener call that never returns, a lock never granted),
    whatever its process still answers."""

    def __init__(self, name: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._clock = clock
        self._last: float | None = None

    def beat(self) -> None:
        self._last = self._clock()

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Waits up to ``seconds`` for ``event`` (True when it came), beating meanwhile: a loop that
        waits on purpose, for work or for the database, is alive."""
        deadline = time.monotonic() + seconds  # real time, whatever clock the beats are told by
        while (left := deadline - time.monotonic()) > 0:
            self.beat()
            if event.wait(min(left, BEAT_WHILE_WAITING_SECONDS)):
                return True
        return False

    def silence(self) -> float | None:
        """Seconds since the last beat; None before the first."""
        return None if self._last is None else self._clock() - self._last

    def stalled(self, thread: threading.Thread | None, stale_after: float) -> str | None:
        """Why the loop running on ``thread`` is not alive, or None when it is."""
        if thread is None or not thread.is_alive():
            return f"{self.name} is not running"
        silence = self.silence()
        if silence is None or silence > stale_after:
            since = "never" if silence is None else f"for {silence:.1f} s"
            return f"{self.name} made no progress {since} (the limit is {stale_after:g} s)"
        return None
