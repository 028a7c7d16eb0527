"""IANA time zones by name, each read from its file once and kept for the life of the process.

``ZoneInfo`` keeps only a few zones strongly (the others weakly), so a service dating orders in more
zones than that opens ``/usr/share/zoneinfo/<zone>`` again on an order, and it did so after the order's
commit: a process out of file descriptors then answered 500 for an order it had stored and provisioned
(and a partner that re-ordered got it twice). A zone is read here when a business unit is first read
(or at start-up, for every known unit), before any order needs it; after that it never needs a file.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

# Every zone read so far. Bounded by the IANA database (some 600 names): only zones that load are kept.
_LOADED: dict[str, ZoneInfo] = {}


def zone(name: str) -> ZoneInfo:
    """The zone called ``name``, read now if it never was. ZoneInfoNotFoundError or ValueError for a
    name that is no zone; OSError when its file cannot be read now (no descriptor left, say)."""
    found = _LOADED.get(name)
    if found is None:
        found = _LOADED[name] = ZoneInfo(name)
    return found
