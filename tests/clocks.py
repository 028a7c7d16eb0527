"""A wall clock a test sets by hand (services take a ``Clock``: a callable answering the time)."""

from __future__ import annotations

from datetime import UTC, datetime


class MovableClock:
    """Answers ``now``, which a test moves (forward, or back as an NTP step does); from ``start``, or the
    time it was made."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start if start is not None else datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now
