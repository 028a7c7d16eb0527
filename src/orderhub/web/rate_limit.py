"""Per-partner request rate limits: a token bucket per partner, refilled continuously.

Per process: with several API processes each allows the limit (the operator divides it, or puts the
limit in front of them).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        # partner -> (tokens left, when last refilled)
        self._buckets: dict[str, tuple[float, float]] = {}

    def retry_after(self, key: str, per_minute: int | None) -> int:
        """0 when a request may go now (and counts it); otherwise the seconds until it may."""
        if per_minute is None:
            return 0
        now = self._clock()
        tokens, since = self._buckets.get(key, (float(per_minute), now))
        tokens = min(float(per_minute), tokens + (now - since) * per_minute / 60.0)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0
        self._buckets[key] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) * 60.0 / per_minute))
