"""Date-times as both TMF dialects take them (RFC 3339, section 5.6) and as TMF622 shows them (UTC,
milliseconds, ``Z``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from orderhub.dialects.tmf_productorder.errors import TmfError

# RFC 3339's date-time: full-date "T" full-time, its offset "Z" or +hh:mm (either letter in any case, a
# fraction of the second of any length). fromisoformat reads far more of ISO 8601 (a space for the "T",
# week dates, the basic format without separators): what the API's errors promise is this alone. The
# offset is optional here only so that a date-time without one is told what it lacks.
_RFC_3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?P<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def read_date_time(text: str) -> datetime:
    """A date-time as one stored is read for showing; ValueError when it is none. RFC 3339 (5.6) allows a
    lower-case "z", which fromisoformat does not read. Not a check of what a partner sends (``parse_time``
    is): orders taken before it was one keep their dates, and are shown them in UTC as any other."""
    return datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text)


def parse_time(value: Any, where: str) -> datetime:
    """An RFC 3339 date-time a partner sent in ``where``, in UTC; a 400 naming ``where`` otherwise."""
    if not isinstance(value, str):
        raise _bad(f"{where} must be an RFC 3339 date-time", where)
    shape = _RFC_3339.fullmatch(value)
    try:
        if shape is None:
            raise ValueError(value)
        moment = read_date_time(value)
    except ValueError:
        raise _bad(f"{where} must be an RFC 3339 date-time, e.g. 2026-12-01T10:00:00Z", where) from None
    if shape["offset"] is None:
        raise _bad(f"{where} must carry a time zone (Z or an offset)", where)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise _bad(f"{where} is out of the range of dates", where) from None


def _bad(message: str, field: str) -> TmfError:
    """A 400 INVALID_REQUEST; ``field``: the one the message names, for the access line."""
    return TmfError(400, "INVALID_REQUEST", message, field=field)
