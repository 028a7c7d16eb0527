"""Pure ASGI middleware shared by every dialect."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orderhub.metrics import HTTP_REQUESTS, api_of
from orderhub.observability import correlation_id

access_log = logging.getLogger("orderhub.access")
error_log = logging.getLogger("orderhub.errors")

CORRELATION_HEADER = "x-correlation-id"
MAX_CORRELATION_ID_LENGTH = 200
# Metric labels take known values only: a client inventing methods must not invent time series.
CLIENT_CLOSED_REQUEST = 499
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_CORRELATION_ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_CORRELATION_ID_LENGTH}}}")


class RequestContextMiddleware:
    """Gives every request a correlation id (the caller's, or a new one), echoes it, logs one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        supplied = Headers(scope=scope).get(CORRELATION_HEADER, "").strip()
        # A malformed id is never echoed into a header or a log line; a dialect that requires the
        # header refuses it (RequireHeaderMiddleware), the others get a fresh one.
        cid = supplied if correlation_id_valid(supplied) else str(uuid.uuid4())
        token = correlation_id.set(cid)
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
            await send(message)

        try:
            await self.app(scope, receive_watching, send_with_id)
        finally:
            if not responded and disconnected:
                # The client went away before an answer: not a server error (nginx's "499").
                status = CLIENT_CLOSED_REQUEST
            elapsed = time.perf_counter() - started
            method = scope["method"] if scope["method"] in _KNOWN_METHODS else "other"
            HTTP_REQUESTS.labels(api_of(scope["path"]), method, str(status)).observe(elapsed)
            access_log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            correlation_id.reset(token)


ErrorRenderer = Callable[[int, str], Response]

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class BodyGuardMiddleware:
    """Refuses oversized bodies (413) and non-JSON bodies (415) before any parsing, in the dialect's format."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        render_error: ErrorRenderer,
        json_only: bool = True,
        body_timeout: float = 10.0,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.render_error = render_error
        self.json_only = json_only
        # A body that stops arriving holds a connection and a task forever (slowloris): bounded.
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send, 413, f"request body larger than {self.max_bytes} bytes")
            return
        body = bytearray()
        more = True
        while more:
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout)
            except TimeoutError:
                await self._refuse(
                    scope, receive, send, 408, f"the request body did not arrive within {self.body_timeout:g} s"
                )
                return
            if message["type"] == "http.disconnect":
                return
            body.extend(message.get("body", b""))
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await self._refuse(scope, receive, send, 413, f"request body larger than {self.max_bytes} bytes")
                return
        if body and self.json_only and not _is_json(headers.get("content-type", "")):
            await self._refuse(scope, receive, send, 415, "Content-Type must be application/json")
            return
        if body and self.json_only and not _strict_json(bytes(body)):
            # NaN, Infinity and lone surrogates are not JSON: accepted, they would be stored and then
            # fail every read of the order (a surrogate cannot be encoded again).
            await self._refuse(scope, receive, send, 400, "request body is not valid JSON")
            return

        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
        await self.render_error(status, message)(scope, receive, send)


def _strict_json(body: bytes) -> bool:
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return True


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


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
            value = Headers(scope=scope).get(self.header, "").strip()
            if not value:
                await self.render_error(400, f"the {self.header} header is required")(scope, receive, send)
                return
            if self.header == CORRELATION_HEADER and not correlation_id_valid(value):
                message = f"the {self.header} header must be 1 to {MAX_CORRELATION_ID_LENGTH} visible ASCII characters"
                await self.render_error(400, message)(scope, receive, send)
                return
        await self.app(scope, receive, send)


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
        if scope["type"] == "http" and scope["method"] == "HEAD":
            scope = {**scope, "method": "GET"}
        await self.app(scope, receive, send)


def add_request_guards(
    app: Any,
    *,
    max_bytes: int,
    body_timeout: float,
    render_error: ErrorRenderer,
    render_internal_error: Callable[[], Response],
) -> None:
    """What every API's app carries, in its own error shape: bounded bodies (size, time, strict JSON)
    and a last-resort answer for an exception nobody handled."""
    app.add_middleware(UnexpectedErrorMiddleware, render_error=render_internal_error)
    app.add_middleware(BodyGuardMiddleware, max_bytes=max_bytes, render_error=render_error, body_timeout=body_timeout)
