"""Serving the busiest routes without the web framework's per-request machinery.

FastAPI costs about 0.8 ms of CPU per request in dependency solving, validation plumbing and its
middleware stack (measured in bench/README.md): more than the order itself. A dialect may therefore
hand its hottest routes to a plain handler that answers byte for byte as its FastAPI routes do; the
FastAPI routes stay declared, so the OpenAPI document and every other route are unchanged.

What the dialect's middleware does for its other routes (correlation id, required header, bounded
body, last-resort 500, metric and access line with its partner and error code) a ``HotStack`` does for
its hot routes in one pass, with the same functions (web.middleware, web.body_guard): each layer of ASGI
middleware costs a closure per message and its own parsing of the headers, which at these rates is a
fifth of a request.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Annotated

from fastapi.exceptions import RequestValidationError
from pydantic import Field, TypeAdapter, ValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from orderhub.access_facts import AccessFacts, access_facts
from orderhub.observability import correlation_id
from orderhub.web.body_guard import BODY_METHODS, BodyRefused, ErrorRenderer, read_guarded_body, refusal_answer
from orderhub.web.middleware import (
    CLIENT_CLOSED_REQUEST,
    CORRELATION_HEADER,
    add_storage_rules,
    correlation_id_for,
    error_log,
    header_problem,
    record_request,
)

_CORRELATION_HEADER = CORRELATION_HEADER.encode()


class HotRequest(AccessFacts):
    """A request as a hot handler sees it: the scope, the headers (first value of each name, names in
    lower case) and the whole body (empty for methods without one, and until it is read); and the holder
    of its access line's facts (one object a request less to make)."""

    __slots__ = ("body", "headers", "scope")

    def __init__(self, scope: Scope, headers: dict[str, str], body: bytes = b"") -> None:
        self.scope = scope
        self.headers = headers
        self.body = body
        self.partner = self.reason = self.field = None  # AccessFacts.__init__'s, without a call more


HotHandler = Callable[[HotRequest], Awaitable[Response]]


@cache
def _bounded_text(min_length: int, max_length: int) -> TypeAdapter[str]:
    return TypeAdapter(Annotated[str, Field(min_length=min_length, max_length=max_length)])


def check_optional_header(name: str, value: str | None, *, max_length: int, min_length: int = 0) -> None:
    """Refuses ``value`` as FastAPI refuses a ``Header(min_length=..., max_length=...)`` parameter that breaks
    it: a RequestValidationError that the dialect's handler renders (the same messages, from pydantic)."""
    if value is None:
        return
    try:
        _bounded_text(min_length, max_length).validate_python(value)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**problem, "loc": ("header", name, *problem["loc"])} for problem in exc.errors()]
        ) from None


# Given a request, the handler that serves it fast, or None to leave it to the framework.
HotRoute = Callable[[Scope], HotHandler | None]


def path_parameter(text: str) -> bool:
    """Whether ``text`` is what the framework matches as one path parameter: a non-empty segment
    without a newline (a dialect's mount matches the rest of the path with ``.*``, which stops at a
    newline, "%0A" in the request line: such a path is the framework's 404, never the hot route's)."""
    return bool(text) and "/" not in text and "\n" not in text


class HotStack:
    """The dialect's guards around its hot handlers."""

    def __init__(
        self,
        *,
        required_header: str | None,
        max_bytes: int,
        body_timeout: float,
        render_error: ErrorRenderer,
        render_internal_error: Callable[[], Response],
        render_failure: Callable[[Exception], Response | None],
        big_numbers: bool = False,
        check_json: bool = True,
    ) -> None:
        """``render_failure``: the dialect's answer to what a handler raised (a domain error, the
        database unavailable), or None for anything else: a bug, answered ``render_internal_error()``.
        ``check_json``: as the dialect's BodyGuardMiddleware's."""
        self.required_header = required_header.lower() if required_header else None
        self.max_bytes = max_bytes
        self.body_timeout = body_timeout
        self.render_error = render_error
        self.render_internal_error = render_internal_error
        self.render_failure = render_failure
        self.big_numbers = big_numbers
        self.check_json = check_json

    async def serve(self, handler: HotHandler, scope: Scope, receive: Receive, send: Send) -> None:
        # The first value of each name: later ones are written first and overwritten.
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in reversed(scope["headers"])}
        supplied = headers.get(CORRELATION_HEADER, "")
        cid = correlation_id_for(supplied)
        token = correlation_id.set(cid)
        request = HotRequest(scope, headers)
        with_body = scope["method"] in BODY_METHODS
        if with_body:
            # An order's partner and errors are learnt deep in shared code (authentication, the dialect's
            # answers): its request is the context's holder from the start. Not a GET's: that costs ~1.3 %
            # of a poll (bench/README.md). A GET's handler records its partner on the request itself and
            # raises its errors, which the stack answers after putting the request there. Never reset
            # (unlike the correlation id): each request puts its own, and one left behind is read by
            # nobody (record_request is handed the request's own).
            access_facts.set(request)
        started = time.perf_counter()
        status = 500
        sent = False
        try:
            try:
                # One pass, one coroutine: each layer more costs about a microsecond per request.
                response = self._refusal(request, supplied_is_cid=cid == supplied.strip())
                if response is None:
                    if with_body:
                        read = await read_guarded_body(
                            receive,
                            content_length=headers.get("content-length"),
                            content_type=headers.get("content-type", ""),
                            max_bytes=self.max_bytes,
                            timeout=self.body_timeout,
                            content_encoding=headers.get("content-encoding"),
                            big_numbers=self.big_numbers,
                            check_json=self.check_json,
                        )
                        if read is None:
                            status = CLIENT_CLOSED_REQUEST  # the client went away first: not a server error
                            return
                        if isinstance(read, BodyRefused):
                            response = refusal_answer(read, self.render_error(read.status, read.message))
                        else:
                            request.body = read
                    if response is None:
                        response = await handler(request)
            except Exception as exc:
                # One handler per stack instead of one per route: an answer is a layer less without it.
                access_facts.set(request)  # for the code of the error it is answered with
                response = self.render_failure(exc)
                if response is None:
                    raise
            status = response.status_code
            sent = True
            await _send(response, send, cid)
        except Exception:
            error_log.exception("unexpected error")
            if sent:
                raise
            access_facts.set(request)
            await _send(self.render_internal_error(), send, cid)
        finally:
            record_request(scope["method"], scope["path"], status, time.perf_counter() - started, request)
            correlation_id.reset(token)

    def _refusal(self, request: HotRequest, *, supplied_is_cid: bool) -> Response | None:
        """The answer to a request without the required header, or None."""
        if self.required_header is None or (self.required_header == CORRELATION_HEADER and supplied_is_cid):
            return None  # a correlation id that correlation_id_for kept is well-formed
        problem = header_problem(self.required_header, request.headers.get(self.required_header, ""))
        if problem is None:
            return None
        access_facts.set(request)  # for the code of the error it is answered with
        return self.render_error(400, problem)


async def _send(response: Response, send: Send, cid: str) -> None:
    headers = [*response.raw_headers, (_CORRELATION_HEADER, cid.encode("latin-1"))]
    add_storage_rules(headers)
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


class HotPathRouter:
    """Sends the requests a hot route claims to its handler, inside the route's ``HotStack``, and
    everything else, lifespan included, to ``app``."""

    def __init__(self, app: ASGIApp, routes: list[tuple[HotRoute, HotStack]]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for claims, stack in self.routes:
                handler = claims(scope)
                if handler is not None:
                    await stack.serve(handler, scope, receive, send)
                    return
        await self.app(scope, receive, send)
