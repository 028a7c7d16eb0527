"""PostgreSQL: whether another process wrote since the last look, from the NOTIFY each write batch sends."""

from __future__ import annotations

import logging
import time
from typing import Any

import sqlalchemy as sa

log = logging.getLogger("orderhub.store")
# The PostgreSQL notification channel that tells workers of new work.
WORK_CHANNEL = "orderhub_work"
# After a failed attempt, the least time before the LISTEN connection is tried again: the worker looks
# for work every few milliseconds, and each look would otherwise open a connection to a server that
# refuses them (the worker's poll finds the work meanwhile).
RECONNECT_SECONDS = 1.0


class WorkNotifications:
    """A LISTEN connection of its own, opened at the first look and again after it broke."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._listener: Any = None
        self._next_attempt = 0.0

    def arrived(self) -> bool:
        """Whether a NOTIFY came since the last look (True at the first look and after a reconnect:
        the caller then checks for work itself)."""
        import psycopg  # only reached on PostgreSQL

        if self._listener is None and time.monotonic() < self._next_attempt:
            return False
        try:
            if self._listener is None:
                conninfo = sa.make_url(self._url).set(drivername="postgresql").render_as_string(hide_password=False)
                self._listener = psycopg.connect(conninfo, autocommit=True, connect_timeout=2)
                self._listener.execute(f"LISTEN {WORK_CHANNEL}")
                return True
            return any(True for _ in self._listener.notifies(timeout=0))
        except psycopg.Error:
            self.close()
            self._next_attempt = time.monotonic() + RECONNECT_SECONDS
            return True  # let the caller look, and meet the real error there

    def close(self) -> None:
        if self._listener is not None:
            try:
                self._listener.close()
            except Exception:
                log.debug("closing the listener failed", exc_info=True)
            self._listener = None
