"""How a background loop (the worker's, the event dispatcher's) waits out a database it cannot use:
it tries again after a wait that doubles up to a few seconds, and says so once, not once a try.

Trying again at once made a worker whose PostgreSQL refused connections open a new one hundreds of
times a second, each failure a log line: a storm of connections against a server that is failing over,
times every worker, and a log flooded with the same line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

# The first wait after a failure, and the longest: a database back within seconds is used within
# seconds, and a long outage costs each loop a connection attempt every few seconds.
FIRST_WAIT_SECONDS = 0.25
LONGEST_WAIT_SECONDS = 5.0
# While the outage lasts, how often it is told again: a log read from its end shows it still lasts.
REMINDER_SECONDS = 60.0


class DatabaseOutage:
    """The outage a loop named ``loop`` is in, if any: ``failed`` at each try that found the database
    unusable (how long to wait before the next), ``answered`` at each that used it."""

    def __init__(self, loop: str, log: logging.Logger, clock: Callable[[], float] = time.monotonic) -> None:
        self._loop = loop
        self._log = log
        self._clock = clock
        self._since: float | None = None
        self._told: float = 0.0
        self._wait = FIRST_WAIT_SECONDS

    def failed(self, reason: str) -> float:
        """Seconds to wait before trying again. Logs the outage's start, and a reminder every
        REMINDER_SECONDS while it lasts."""
        now = self._clock()
        if self._since is None:
            self._since = self._told = now
            self._wait = FIRST_WAIT_SECONDS
            self._log.warning("%s waits for the database: %s", self._loop, reason)
            return self._wait
        self._wait = min(self._wait * 2, LONGEST_WAIT_SECONDS)
        if now - self._told >= REMINDER_SECONDS:
            self._told = now
            self._log.warning(
                "%s still waits for the database (for %.0f s, trying every %g s): %s",
                self._loop,
                now - self._since,
                self._wait,
                reason,
            )
        return self._wait

    def answered(self) -> None:
        """The database was used: the end of the outage, if one lasted, is logged."""
        if self._since is not None:
            self._log.info("%s: the database answers again, after %.1f s", self._loop, self._clock() - self._since)
            self._since = None
