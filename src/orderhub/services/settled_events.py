"""Which order events a listener may be sent: those no event committed later can come before.

An event's id is taken when it is written, and its transaction commits later. On PostgreSQL several
writers commit side by side, so an event may commit after one with a higher id was committed and sent:
a listener's cursor had passed it, and it was never sent. So the dispatcher sends the events up to the
newest id it knows to be settled: every id up to it is committed, or its transaction rolled back.

The newest event id read is settled once every transaction in progress as it was read has ended: an id
below it was taken before it was, by a transaction that had committed, was in progress (and so is one of
those) or rolled back. Read with none in progress, it is settled at once. Only the transactions of
orderhub's database count: those of other databases on the same server cannot write its events (the
store, store.commit_marks, tells them apart). On SQLite, with its one writer, events commit in the order
of their ids, and every one read is.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from orderhub.services.records import CommitMarks

log = logging.getLogger("orderhub.hub")

# A transaction of orderhub's database in progress for longer than this is not waited for: every orderhub
# transaction ends well within it (the store's bound on a statement), so one this old is stuck or not
# orderhub's (a session left open in a transaction on its database), which must not hold up events for good.
WAIT_AT_MOST_SECONDS = 60.0
# A new listener's registration waits this long at most for the writes in progress when it was asked for
# (newest_for_a_new_listener); orderhub's own end within milliseconds.
REGISTRATION_WAITS_AT_MOST_SECONDS = 2.0
_REGISTRATION_POLL_SECONDS = 0.005


@dataclass(frozen=True)
class _Mark:
    newest_event_id: int
    in_progress: str
    taken_at: float


class SettledEvents:
    """The dispatcher's loop observes the store's marks once a turn; its delivery threads read ``up_to`` (and
    observe first, when nothing was observed yet)."""

    def __init__(
        self, *, wait_at_most: float = WAIT_AT_MOST_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._wait_at_most = wait_at_most
        self._clock = clock
        # Events with ids up to this may be sent; None: every event read (the store commits them in order).
        self.up_to: int | None = 0
        self.observed = False
        self._mark: _Mark | None = None
        self._lock = threading.Lock()

    @property
    def waiting_on(self) -> str | None:
        """The transactions in progress the newest mark waits for, to ask the store about."""
        return self._mark.in_progress if self._mark is not None else None

    def observe(self, marks: CommitMarks) -> None:
        with self._lock:
            self._observe(marks)
            self.observed = True

    def _observe(self, marks: CommitMarks) -> None:
        if marks.in_progress is None:
            self.up_to = None
            return
        settled, mark, now = self.up_to or 0, self._mark, self._clock()
        if mark is not None and marks.checked == mark.in_progress:
            waited = now - mark.taken_at
            if marks.earlier_ended or waited >= self._wait_at_most:
                if not marks.earlier_ended:
                    log.warning(
                        "events up to %d are sent without waiting longer for transactions in progress in"
                        " orderhub's database for %.0f s (a session left open in a transaction?)",
                        mark.newest_event_id,
                        waited,
                    )
                settled, mark = max(settled, mark.newest_event_id), None
        if marks.idle:
            settled, mark = max(settled, marks.newest_event_id), None
        elif mark is None:
            mark = _Mark(marks.newest_event_id, marks.in_progress, now)
        self.up_to, self._mark = settled, mark


async def newest_for_a_new_listener(
    read_marks: Callable[[str | None], Awaitable[CommitMarks]],
    *,
    wait_at_most: float = REGISTRATION_WAITS_AT_MOST_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> int | None:
    """The event id a new listener starts after: every event committed once this returns has a higher one.
    None where events commit in the order of their ids: the newest one read as the listener is written.

    The newest id read is not that on its own: a transaction in progress may hold a lower id and commit
    after the listener is registered, and its event would never be sent. Ids are taken in order, so once
    every transaction in progress at the read has ended, an event committed later took its id after the
    read, and a higher one. So this waits for those (milliseconds: orderhub's own batches); one that
    outlasts ``wait_at_most`` is stuck or not orderhub's (transactions of other databases are not waited
    for), and the listener may then miss what it commits."""
    first = await read_marks(None)
    if first.in_progress is None or first.idle:
        return None if first.in_progress is None else first.newest_event_id
    deadline = clock() + wait_at_most
    while clock() < deadline:
        await asyncio.sleep(_REGISTRATION_POLL_SECONDS)
        if (await read_marks(first.in_progress)).earlier_ended:
            return first.newest_event_id
    log.warning(
        "a listener was registered without waiting longer for transactions in progress in orderhub's database"
        " for %.0f s (a session left open in a transaction?): events they commit are not sent to it",
        wait_at_most,
    )
    return first.newest_event_id
