"""Request bodies, bounded before anything parses them: in size, in time, and to strict JSON.

Shared by the dialects' middleware (``BodyGuardMiddleware``) and the hot routes' one-pass stack
(web.hot_paths), which call the same ``read_guarded_body``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

import orjson
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ErrorRenderer = Callable[[int, str], Response]

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
AnswerT = TypeVar("AnswerT", bound=Response)


class BodyGuardMiddleware:
    """Refuses oversized bodies (413), compressed and non-JSON bodies (415) before any parsing, and
    bodies that are not strict JSON (400) unless ``check_json`` is false, in the dialect's format."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        render_error: ErrorRenderer,
        json_only: bool = True,
        body_timeout: float = 10.0,
        big_numbers: bool = False,
        check_json: bool = True,
    ) -> None:
        self.app = app
        self.big_numbers = big_numbers
        # False: the app reads the body with strict_json itself, once it knows who asks (their language).
        self.check_json = check_json
        self.max_bytes = max_bytes
        self.render_error = render_error
        self.json_only = json_only
        # A body that stops arriving holds a connection and a task forever (slowloris): bounded.
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        body = await read_guarded_body(
            receive,
            content_length=headers.get("content-length"),
            content_type=headers.get("content-type", "") if self.json_only else None,
            max_bytes=self.max_bytes,
            timeout=self.body_timeout,
            content_encoding=headers.get("content-encoding"),
            big_numbers=self.big_numbers,
            check_json=self.check_json,
        )
        if body is None:  # the client went away
            return
        if isinstance(body, BodyRefused):
            await refusal_answer(body, self.render_error(body.status, body.message))(scope, receive, send)
            return

        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


class BodyRefused(NamedTuple):
    status: int
    message: str
    # The body stopped short of its end: what remains may come as slowly as the client likes, and the
    # server would keep the connection open reading it. Answered with Connection: close.
    closes: bool = False


def refusal_answer(refused: BodyRefused, answer: AnswerT) -> AnswerT:
    """``answer`` to the refused body, closing the connection after it when the refusal asks to."""
    if refused.closes:
        answer.headers["connection"] = "close"  # uvicorn closes the connection after such an answer
    return answer


async def read_guarded_body(
    receive: Receive,
    *,
    content_length: str | None,
    content_type: str | None,
    max_bytes: int,
    timeout: float,
    content_encoding: str | None = None,
    big_numbers: bool = False,
    check_json: bool = True,
) -> bytes | BodyRefused | None:
    """The whole request body, or why it is refused (too large, too slow, compressed, not JSON when
    ``content_type`` is given: its media type, and the body itself unless ``check_json`` is false), or
    None when the client disconnected first. ``big_numbers``: numbers beyond a double (``1e400``, 310
    digits), valid JSON (RFC 8259), pass for the API to refuse by field."""
    if content_length is not None:
        content_length = content_length.strip(" \t")  # the whitespace a field value may have (RFC 9110 §5.5)
    if content_length is not None and (not content_length.isdigit() or int(content_length) > max_bytes):
        return BodyRefused(413, f"request body larger than {max_bytes} bytes")
    if content_encoding is not None and content_encoding.strip().lower() not in ("", "identity"):
        # Read as it is, a compressed body would only ever be "not valid JSON": say what is wrong.
        return BodyRefused(415, "Content-Encoding is not supported: send the request body uncompressed")
    body = bytearray()
    more = True
    try:
        # One bound for the whole body (a client trickling a byte at a time gains nothing), and no
        # task per read as wait_for would make.
        async with asyncio.timeout(timeout):
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                body.extend(message.get("body", b""))
                more = message.get("more_body", False)
                if len(body) > max_bytes:
                    return BodyRefused(413, f"request body larger than {max_bytes} bytes")
    except TimeoutError:
        return BodyRefused(408, f"the request body did not arrive within {timeout:g} s", closes=True)
    if body and content_type is not None:
        if not _is_json(content_type):
            return BodyRefused(415, "Content-Type must be application/json")
        if check_json:
            try:
                strict_json(body, big_numbers)
            except NotJson as exc:
                return BodyRefused(400, str(exc))
    return bytes(body)


class NotJson(ValueError):
    """Why a body is not the JSON an API reads (its words are the refusal's)."""


def strict_json(body: bytes | bytearray, big_numbers: bool = False) -> Any:
    """``body`` parsed as strict JSON nested at most MAX_DEPTH levels, or NotJson saying why not."""
    parsed = _strict_json(body, big_numbers)
    if parsed is _NOT_JSON:
        # NaN, Infinity and lone surrogates are not JSON: accepted, they would be stored and then
        # fail every read of the order (a surrogate cannot be encoded again).
        raise NotJson("request body is not valid JSON")
    # Only a body with more brackets than the bound can be nested past it: counting them is cheap.
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH and _deeper_than(parsed, MAX_DEPTH):
        raise NotJson(f"request body is nested more than {MAX_DEPTH} levels deep")
    return parsed


# Arrays and objects one inside another, at most. orjson reads a body nested up to 1,024 levels but
# writes one of at most 255, and an order's request is stored as sent: a body between the two was
# accepted and then failed (500). No order of any API nests beyond a few levels.
MAX_DEPTH = 64
_NOT_JSON = object()


def _strict_json(body: bytes | bytearray, big_numbers: bool = False) -> object:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        parsed = loads_big_numbers(body) if big_numbers and str(exc).startswith(BIG_NUMBER) else None
        return _NOT_JSON if parsed is None else parsed


def _deeper_than(value: object, limit: int) -> bool:
    """Whether arrays and objects nest in ``value`` more than ``limit`` levels (the body itself is one);
    without recursion, which the depth it looks for could exhaust."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        inner = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if inner is None:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in inner)
    return False


# orjson's words for a number beyond a double, which RFC 8259 allows (it leaves the range to parsers).
BIG_NUMBER = "number is infinity"


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _whole_number(text: str) -> int | Decimal:
    # int() reads at most 4,300 digits (sys.get_int_max_str_digits); a longer number is valid JSON all
    # the same, and as far out of range as one a digit shorter: the API refuses it by field alike.
    try:
        return int(text)
    except ValueError:
        return Decimal(text)


def loads_big_numbers(body: bytes | bytearray, *, fractions: Callable[[str], object] = float) -> object | None:
    """A body orjson refused only for a number beyond a double, parsed by the standard json module
    (such numbers become ``inf``, a Python int, or a Decimal past int()'s 4,300 digits; ``fractions=
    Decimal`` reads every fraction as written); None if it is not strict JSON after all (NaN,
    Infinity, lone surrogates, not UTF-8)."""
    try:
        text = bytes(body).decode("utf-8")
        parsed = json.loads(text, parse_constant=_no_constant, parse_float=fractions, parse_int=_whole_number)
        json.dumps(parsed, ensure_ascii=False, default=str).encode("utf-8")  # a lone surrogate cannot be encoded
    except ValueError:  # UnicodeError and JSONDecodeError are ValueErrors
        return None
    return parsed


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))
