"""The body guard's bound on nesting: exact at the bound, whatever a body's shape."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from orderhub.web.body_guard import MAX_DEPTH, BodyRefused, read_guarded_body


def guarded(body: bytes) -> bytes | BodyRefused | None:
    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    return asyncio.run(
        read_guarded_body(receive, content_length=None, content_type="application/json", max_bytes=1 << 20, timeout=5)
    )


def arrays(levels: int) -> str:
    return "[" * levels + "]" * levels


def objects(levels: int) -> str:
    return '{"a": ' * levels + "1" + "}" * levels


def in_turn(levels: int) -> str:
    """Arrays and objects, one in the other, ``levels`` deep."""
    if levels == 1:
        return "[]"
    inner = in_turn(levels - 1)
    return f"[{inner}]" if levels % 2 else f'{{"a": {inner}}}'


@pytest.mark.parametrize("shape", [arrays, objects, in_turn])
def test_a_body_nested_to_the_bound_passes_and_one_level_more_is_refused(shape: Callable[[int], str]) -> None:
    within, past = shape(MAX_DEPTH).encode(), shape(MAX_DEPTH + 1).encode()
    assert guarded(within) == within
    assert guarded(past) == BodyRefused(400, f"request body is nested more than {MAX_DEPTH} levels deep")


def test_brackets_inside_strings_and_many_flat_members_are_no_nesting() -> None:
    flat = ("[" + ", ".join(['"[[[{{{"'] * 200 + ["[]"] * 200) + "]").encode()
    assert guarded(flat) == flat
