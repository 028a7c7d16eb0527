"""The store's config version as the event loop reads it: once per turn of the loop.

services.auth checks cached credentials against it. A turn's requests all arrived before the turn's
read (the loop's I/O callbacks come from the poll at its start), so each is checked against the
configuration as it stood after it arrived, which is all "a revoked credential stops working at the
next request" asks.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable


class ConfigVersionPerTurn:
    def __init__(self, *, read_at_once: Callable[[], int] | None, read_away: Callable[[], Awaitable[int]]) -> None:
        """``read_at_once``: a read that needs no wait (SQLite: shared memory), or None where reading
        is a wait of its own (PostgreSQL), done by ``read_away`` on a reading thread and shared by the
        turn's requests."""
        self._read_at_once = read_at_once
        self._read_away = read_away
        self._local = threading.local()  # one per event loop's thread

    async def get(self) -> int:
        if self._read_at_once is not None:
            return self._at_once(self._read_at_once)
        remembered: asyncio.Future[int] | None = getattr(self._local, "turn", None)
        if remembered is None:
            remembered = asyncio.ensure_future(self._read_away())
            self._remember(remembered)
        return await asyncio.shield(remembered)

    def at_hand(self) -> int | None:
        """The version if reading it needs no wait, else None."""
        return None if self._read_at_once is None else self._at_once(self._read_at_once)

    def _at_once(self, read: Callable[[], int]) -> int:
        remembered: int | None = getattr(self._local, "turn", None)
        if remembered is None:
            remembered = read()
            self._remember(remembered)
        return remembered

    def _remember(self, version: int | asyncio.Future[int]) -> None:
        self._local.turn = version
        asyncio.get_running_loop().call_soon(setattr, self._local, "turn", None)
