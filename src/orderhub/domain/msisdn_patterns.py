"""What makes an operator's MSISDN pattern safe to match a partner's number against.

Python's ``re`` backtracks: a repeated group that itself repeats (``(a+)+``, ``([0-9]*)*``) can take
seconds or minutes to refuse a number of twenty characters, and the match runs on the request path, so
one partner request would hold the whole service. Such patterns are refused when a business unit is set
up; the numbers matched are bounded too (``MAX_MSISDN_LENGTH``), which keeps any other backtracking short.
"""

from __future__ import annotations

import re

_BOUNDED = re.compile(r"\{(\d*)(?:,(\d*))?\}")


def nested_repetition(pattern: str) -> str | None:
    """The first group that repeats and holds a repetition of varying length or alternatives (as
    written), or None.

    Read conservatively: escapes and character classes are skipped whole. A group repeats when it may
    match more than once (``+``, ``*``, ``{2}``, ``{1,}``); what it holds varies when it may match a
    different number of times (``?`` too: ``(a?a?)+`` backtracks as badly as ``(a+)+``; ``{3}`` does not
    vary) or holds alternatives (``(1|1)+``). Lazy and possessive forms count as the quantifiers they
    modify."""
    # Per open group: where it starts and whether it holds a varying repetition so far.
    groups: list[tuple[int, bool]] = [(0, False)]
    closed: tuple[int, bool] | None = None  # the group just closed, while its quantifier may follow
    index = 0
    while index < len(pattern):
        char = pattern[index]
        times, width = _quantifier(pattern, index)
        if times is not None:
            least, most = times
            if closed is not None and closed[1] and (most is None or most > 1):
                return pattern[closed[0] : index + width]
            if least != most:
                groups[-1] = (groups[-1][0], True)
            closed = None
            index += width
            continue
        closed = None
        if char == "\\":
            index += 2
            continue
        if char == "[":
            index = _class_end(pattern, index)
            continue
        if char == "(":
            groups.append((index, False))
            if pattern[index + 1 : index + 2] == "?":  # (?: (?P< (?= …: the group's kind, no quantifier
                index += 1
        elif char == "|":
            # Alternatives may match the same text in more than one way ((1|1)+ backtracks as (1+)+ does).
            groups[-1] = (groups[-1][0], True)
        elif char == ")" and len(groups) > 1:
            closed = groups.pop()
            if closed[1]:  # what the group holds, its enclosing group holds too
                groups[-1] = (groups[-1][0], True)
        index += 1
    return None


def _quantifier(pattern: str, index: int) -> tuple[tuple[int, int | None] | None, int]:
    """((least, most or None: no bound), its width) of a quantifier at ``index``; (None, 0): none there."""
    char = pattern[index]
    lazy_or_possessive = 0
    if char in "*+?":
        lazy_or_possessive = 1 if pattern[index + 1 : index + 2] in ("?", "+") else 0
        times = {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
        return times, 1 + lazy_or_possessive
    bounded = _BOUNDED.match(pattern, index) if char == "{" else None
    if bounded is None or bounded.group(0) == "{}":
        return None, 0
    low, comma, high = bounded.group(1), "," in bounded.group(0), bounded.group(2)
    least = int(low) if low else 0
    most = (int(high) if high else None) if comma else least
    lazy_or_possessive = 1 if pattern[bounded.end() : bounded.end() + 1] in ("?", "+") else 0
    return (least, most), bounded.end() - index + lazy_or_possessive


def _class_end(pattern: str, index: int) -> int:
    """The index after the character class that opens at ``index`` (``[]`` and ``[^]`` hold a ``]``)."""
    index += 1
    if pattern[index : index + 1] == "^":
        index += 1
    if pattern[index : index + 1] == "]":
        index += 1
    while index < len(pattern) and pattern[index] != "]":
        index += 2 if pattern[index] == "\\" else 1
    return index + 1
