"""Failed sign-ins, counted per client id and per source address, so that guessing secrets is slow."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

FAILURE_WINDOW_SECONDS = 60.0


class FailedSignIns:
    """Counts failed sign-ins per key (client id, source address) over a sliding window, per process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, key: str, limit: int) -> int:
        recent = self._recent(key)
        if len(recent) < limit:
            return 0
        return max(1, math.ceil(recent[0] + FAILURE_WINDOW_SECONDS - self._clock()))

    def record(self, key: str) -> None:
        self._recent(key).append(self._clock())
        if len(self._failures) > 100_000:  # a bound on memory under a flood of invented ids
            self._failures = {k: v for k, v in self._failures.items() if v}

    def _recent(self, key: str) -> deque[float]:
        recent = self._failures.setdefault(key, deque())
        while recent and recent[0] <= self._clock() - FAILURE_WINDOW_SECONDS:
            recent.popleft()
        return recent
