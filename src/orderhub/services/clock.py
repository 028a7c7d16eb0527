"""Time, injectable so that tests can move it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]

# How far apart the clocks of the processes sharing a database may be (NTP keeps them far closer). A
# lease or retry time stored further ahead than a lease or backoff from now, and this, was written by a
# clock that has since been set back (an NTP step on a VM): it is over. Otherwise what was served or
# retried in the last hour before a step back of an hour would wait that hour again.
CLOCK_SKEW_TOLERATED = timedelta(seconds=60)


def utc_now() -> datetime:
    return datetime.now(UTC)


def set_back_after(now: datetime, longest_wait: timedelta) -> datetime:
    """A lease or retry time later than this was written by a clock since set back: neither a lease nor
    a retry's backoff taken ``now`` (``longest_wait`` at most) ends so late, on any host's clock."""
    return now + longest_wait + CLOCK_SKEW_TOLERATED
