"""What a parsed JSON request body may hold that no store keeps, found by its wire path so that each
dialect names the field as its body does: a NUL character (PostgreSQL's text cannot hold it) and a
number beyond a double or a 64-bit integer (only ``body_guard.loads_big_numbers`` reads one)."""

from __future__ import annotations

import math
from decimal import Decimal

NUL_ESCAPE = b"\\u0000"  # JSON can hold a NUL only written so: a body without these bytes is not walked
NUL = "must not contain the NUL character (\\u0000)"


def unkeepable(value: object, path: str = "", *, name_at_parent: bool = False) -> tuple[str, str] | None:
    """The first such value, in the body's order, as (wire path, what is wrong); a NUL in a member's
    name is found at the member's path (its name with ``\\u0000`` spelled out), or with
    ``name_at_parent`` at the object holding it (``""``: the body itself)."""
    if isinstance(value, str):
        return (path, NUL) if "\x00" in value else None
    if isinstance(value, float) and not math.isfinite(value):
        return path, "number is out of range"
    if isinstance(value, int) and not -(2**63) <= value < 2**64:
        return path, "number is out of range"
    if isinstance(value, Decimal):  # a whole number past int()'s 4,300 digits (loads_big_numbers)
        return path, "number is out of range"
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        inner = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and "\x00" in key:
            return (path if name_at_parent else inner.replace("\x00", "\\u0000")), NUL
        found = unkeepable(item, inner, name_at_parent=name_at_parent)
        if found is not None:
            return found
    return None
