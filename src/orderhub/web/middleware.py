"""Pure ASGI middleware shared by every dialect."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orderhub.access_facts import AccessFacts, access_facts
from orderhub.metrics import HTTP_REQUESTS, api_of
from orderhub.observability import JsonLogHandler, correlation_id
from orderhub.web.body_guard import BodyGuardMiddleware, ErrorRenderer

access_log = logging.getLogger("orderhub.access")
error_log = logging.getLogger("orderhub.errors")

CORRELATION_HEADER = "x-correlation-id"
MAX_CORRELATION_ID_LENGTH = 200
CLIENT_CLOSED_REQUEST = 499  # nginx's status for a client that went away before the answer
# Metric labels take known values only: a client inventing methods must not invent time series.
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_CORRELATION_ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_CORRELATION_ID_LENGTH}}}")
# Answers hold personal data (an order's e-mail, a line's MSISDN), tokens and partner-specific catalogs:
# no browser or cache on the way keeps one, unless the answer says otherwise itself (the QR code's
# private caching), and none is content-sniffed.
NOT_STORED = (b"cache-control", b"no-store")
NOT_SNIFFED = (b"x-content-type-options", b"nosniff")


def add_storage_rules(headers: list[tuple[bytes, bytes]]) -> None:
    """NOT_SNIFFED, and NOT_STORED unless they say how to cache, added to ``headers`` (raw, lower-case names)
    after what they hold. (A loop, not any(): it runs for every answer of the hot routes.)"""
    for name, _value in headers:
        if name == b"cache-control":
            headers.append(NOT_SNIFFED)
            return
    headers += (NOT_SNIFFED, NOT_STORED)


class RequestContextMiddleware:
    """Gives every request a correlation id (the caller's, or a new one), echoes it, logs one access line
    (with what the request's AccessFacts learnt on the way: its partner, the error it was answered)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cid = correlation_id_for(Headers(scope=scope).get(CORRELATION_HEADER, ""))
        token = correlation_id.set(cid)
        facts = AccessFacts()
        facts_token = access_facts.set(facts)
        started = time.perf_counter()
        status = 500
        responded = False
        disconnected = False

        async def receive_watching() -> Message:
            nonlocal disconnected
            message = await receive()
            disconnected = disconnected or message["type"] == "http.disconnect"
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status
            nonlocal responded
            if message["type"] == "http.response.start":
                status = message["status"]
                responded = True
                headers = MutableHeaders(scope=message)
                headers[CORRELATION_HEADER] = cid
                add_storage_rules(headers.raw)
            await send(message)

        try:
            await self.app(scope, receive_watching, send_with_id)
        finally:
            if not responded and disconnected:
                # The client went away before an answer: not a server error (nginx's "499").
                status = CLIENT_CLOSED_REQUEST
            record_request(scope["method"], scope["path"], status, time.perf_counter() - started, facts)
            access_facts.reset(facts_token)
            correlation_id.reset(token)


def correlation_id_for(supplied: str) -> str:
    """The request's correlation id: the caller's, or a new one. A malformed id is never echoed into a
    header or a log line; a dialect that requires the header refuses it (``header_problem``)."""
    supplied = supplied.strip()
    return supplied if correlation_id_valid(supplied) else str(uuid.uuid4())


def record_request(method: str, path: str, status: int, elapsed: float, facts: AccessFacts | None = None) -> None:
    """The request's metric and its access line."""
    known_method = method if method in _KNOWN_METHODS else "other"
    api = api_of(path)
    HTTP_REQUESTS.observe(api, known_method, status, elapsed)
    if access_log.isEnabledFor(logging.INFO):
        duration_ms = round(elapsed * 1000, 2)
        direct = direct_access_handler(access_log)
        if direct is not None:
            direct.access_line(access_log.name, method, path, status, duration_ms, facts)
            return
        extra: dict[str, object] = {"method": method, "path": path, "status": status, "duration_ms": duration_ms}
        if facts is not None:
            # As access_line writes them: the partner when known, the error's code on an error answer.
            if facts.partner is not None:
                extra["partner"] = facts.partner
            extra.update(facts.error_fields(status))
        # Made and handled directly: Logger.info would first walk the stack for the caller's file and
        # line, which an access line does not show (~5 us a request).
        record = access_log.makeRecord(
            access_log.name,
            logging.INFO,
            __file__,
            0,
            "%s %s %s",
            (method, path, status),
            None,
            extra=extra,
        )
        access_log.handle(record)


def direct_access_handler(logger: logging.Logger) -> JsonLogHandler | None:
    """configure_logging's handler when it alone takes ``logger``'s lines (no other handler and no
    filter on the way): then an access line may go to it directly (JsonLogHandler.access_line)."""
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters or current.disabled:
            return None
        if current.handlers:
            if current.parent is not None or len(current.handlers) != 1:
                return None  # handlers below the root: someone wants these lines their own way
            (handler,) = current.handlers
            if isinstance(handler, JsonLogHandler) and not handler.filters and handler.level <= logging.INFO:
                return handler
            return None
        if not current.propagate:
            return None
        current = current.parent
    return None


class RequireHeaderMiddleware:
    """Refuses requests without a well-formed ``header`` (documentation pages excepted: exactly those
    paths, under the app's mount point), in the dialect's format."""

    def __init__(
        self, app: ASGIApp, *, header: str, render_error: ErrorRenderer, exempt_paths: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.header = header.lower()
        self.render_error = render_error
        self.exempt_paths = frozenset(exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _local_path(scope) not in self.exempt_paths:
            problem = header_problem(self.header, Headers(scope=scope).get(self.header, ""))
            if problem is not None:
                await self.render_error(400, problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def header_problem(header: str, value: str) -> str | None:
    """Why a required header's value is refused, or None."""
    value = value.strip()
    if not value:
        return f"the {header} header is required"
    if header == CORRELATION_HEADER and not correlation_id_valid(value):
        return f"the {header} header must be 1 to {MAX_CORRELATION_ID_LENGTH} visible ASCII characters"
    return None


def _local_path(scope: Scope) -> str:
    """The path below the app's mount point (``/esim/v1/openapi.json`` -> ``/openapi.json``)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def correlation_id_valid(value: str) -> bool:
    """Echoed in a response header and written to logs: visible ASCII only, bounded."""
    return _CORRELATION_ID.fullmatch(value) is not None


class UnexpectedErrorMiddleware:
    """Answers an exception nobody handled with ``render_error()`` (the dialect's 500) and logs it.

    Starlette's own last-resort handler re-raises after answering, which makes the server drop the
    connection: a partner's keep-alive connection must survive our bug.
    """

    def __init__(self, app: ASGIApp, *, render_error: Callable[[], Response]) -> None:
        self.app = app
        self.render_error = render_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            error_log.exception("unexpected error")
            if started:
                raise
            await self.render_error()(scope, receive, send)


class HeadAsGetMiddleware:
    """HEAD on a resource answers as GET does, without the body (RFC 9110 §9.3.2): the server drops
    the body of an answer to HEAD, so the app can simply run the GET."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif scope["method"] == "HEAD":
            await self.app({**scope, "method": "GET"}, receive, send)
        else:
            await self.app(scope, receive, _head_allowed_with_get(send))


def _head_allowed_with_get(send: Send) -> Send:
    """The routes know only GET (HEAD reaches them as GET), so a 405's Allow named GET without HEAD,
    which every GET route answers too (RFC 9110 §10.2.1: Allow lists what the resource takes)."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 405:
            headers = MutableHeaders(raw=list(message.get("headers", [])))
            allowed = [method.strip() for method in headers.get("allow", "").split(",") if method.strip()]
            if "GET" in allowed and "HEAD" not in allowed:
                allowed.insert(allowed.index("GET") + 1, "HEAD")
                headers["allow"] = ", ".join(allowed)
                message = {**message, "headers": headers.raw}
        await send(message)

    return sending


def add_request_guards(
    app: Any,
    *,
    max_bytes: int,
    body_timeout: float,
    render_error: ErrorRenderer,
    render_internal_error: Callable[[], Response],
    big_numbers: bool = False,
    check_json: bool = True,
) -> None:
    """What every API's app carries, in its own error shape: bounded bodies (size, time, strict JSON
    unless ``check_json`` is false: see BodyGuardMiddleware) and a last-resort answer for an exception
    nobody handled."""
    app.add_middleware(UnexpectedErrorMiddleware, render_error=render_internal_error)
    app.add_middleware(
        BodyGuardMiddleware,
        max_bytes=max_bytes,
        render_error=render_error,
        body_timeout=body_timeout,
        big_numbers=big_numbers,
        check_json=check_json,
    )
