"""PostgreSQL: whether another process wrote since the last look, from the NOTIFY each write batch sends."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

log = logging.getLogger("orderhub.store")
# The PostgreSQL notification channel that tells workers of new work.
WORK_CHANNEL = "orderhub_work"


class WorkNotifications:
    """A LISTEN connection of its own, opened at the first look and again after it broke."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._listener: Any = None

    def arrived(self) -> bool:
        """Whether a NOTIFY came since the last look (True at the first look and after a reconnect:
        the caller then checks for work itself)."""
        import psycopg  # only reached on PostgreSQL

        try:
            if self._listener is None:
                conninfo = sa.make_url(self._url).set(drivername="postgresql").render_as_string(hide_password=False)
                self._listener = psycopg.connect(conninfo, autocommit=True, connect_timeout=2)
                self._listener.execute(f"LISTEN {WORK_CHANNEL}")
                return True
            return any(True for _ in self._listener.notifies(timeout=0))
        except psycopg.Error:
            self.close()
            return True  # let the caller look, and meet the real error there

    def close(self) -> None:
        if self._listener is not None:
            try:
                self._listener.close()
            except Exception:
                log.debug("closing the listener failed", exc_info=True)
            self._listener = None
