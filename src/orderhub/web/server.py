"""The HTTP server's protocol, with the one bound uvicorn lacks: request headers must arrive in time.

A client that opens a connection and trickles its headers (slowloris) would otherwise hold the
connection forever; bodies are bounded by the body guard (web.body_guard). Its writes go out once per
turn of the event loop (web.coalesced_writes).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

from orderhub.web.coalesced_writes import CoalescedWrites

CLOSE = (b"connection", b"close")


def protocol_with_header_timeout(
    seconds: float, not_http: Callable[[str], Response] | None = None
) -> type[HttpToolsProtocol]:
    """httptools' protocol, closing a connection whose request headers take longer than ``seconds``, and
    answering a request its parser refuses with ``not_http(path)`` (the path as far as it was read)
    instead of uvicorn's plain text, so that a partner's client reads the 400 as it reads the API's others.
    Requests pipelined before the refused one are answered first (see _refuse_after_earlier); with none
    unanswered, the 400 goes out and the connection closes at once, as in uvicorn.

    Rather than a timer per request (two timer operations on every request, measurable at the rates
    of bench/), each connection notes when it began waiting for headers and one sweep, running while
    any connection waits, closes those waiting too long: a late one is closed within ``seconds`` plus
    one sweep interval.
    """
    waiting: dict[HttpToolsProtocol, float] = {}  # connection -> since when it waits for headers
    sweep_every = max(min(seconds / 2, 1.0), 0.05)
    sweeping = False

    def sweep(loop: asyncio.AbstractEventLoop) -> None:
        nonlocal sweeping
        cutoff = loop.time() - seconds
        for protocol, since in list(waiting.items()):
            if since <= cutoff:
                del waiting[protocol]
                if not protocol.transport.is_closing():
                    protocol.transport.close()
        sweeping = bool(waiting)
        if sweeping:
            loop.call_later(sweep_every, sweep, loop)

    class HeaderTimeoutProtocol(HttpToolsProtocol):
        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(CoalescedWrites(transport, self.loop))  # type: ignore[arg-type]
            self._await_headers()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._await_headers()  # each request on a kept-alive connection gets its own bound

        def on_headers_complete(self) -> None:
            waiting.pop(self, None)
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            waiting.pop(self, None)
            super().connection_lost(exc)

        # Set once the parser refused a request: a connection answers one refusal and reads no more.
        _refused = False

        def send_400_response(self, msg: str) -> None:
            if self._refused:
                return
            self._refused = True
            waiting.pop(self, None)  # nothing more is read: no headers to wait for
            cycle = self.cycle
            # With requests queued, self.cycle is the newest of them; otherwise the one in flight, if any.
            queued = bool(self.pipeline)
            if cycle is None or cycle.response_complete or (cycle.more_body and not queued):
                # Nothing earlier is unanswered (an unfinished body is the refused request's own).
                self._refuse_now(msg)
            else:
                self._refuse_after_earlier(msg, cycle, own=cycle.more_body)

        def _refusal(self, msg: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
            """The 400's headers and body: ``not_http``'s for the path as far as it was read."""
            if not_http is None:
                text = msg.encode("ascii")
                length = str(len(text)).encode("ascii")
                return [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", length), CLOSE], text
            path = getattr(self, "url", b"").split(b"?", 1)[0].decode("latin-1")
            answer = not_http(path)
            return [*answer.raw_headers, CLOSE], bytes(answer.body)

        def _refuse_now(self, msg: str) -> None:
            if not_http is None:
                super().send_400_response(msg)
                return
            headers, body = self._refusal(msg)
            content = [STATUS_LINE[400]]
            for name, value in [*self.server_state.default_headers, *headers]:
                content.extend([name, b": ", value, b"\r\n"])
            content.extend([b"\r\n", body])
            self.transport.write(b"".join(content))
            self.transport.close()

        def _refuse_after_earlier(self, msg: str, cycle: RequestResponseCycle, *, own: bool) -> None:
            """Responses go out in the order their requests came (RFC 9112 §9.3.2): closing now would drop
            the answers of requests already acted upon (an order placed, its 201 never sent, a retry
            placing another). The 400 is queued behind them as one more pipelined request, so that
            uvicorn's own pipeline sends it last and the connection closes after it (connection: close);
            a client gone or a shutdown ends the connection as for any pipelined requests."""
            headers, body = self._refusal(msg)

            async def refuse(scope: Any, receive: Any, send: Any) -> None:
                await send({"type": "http.response.start", "status": 400, "headers": headers})
                await send({"type": "http.response.body", "body": body})

            if own:  # the newest queued request is the refused one (its body could not be read)
                self.pipeline[0] = (cycle, refuse)
            else:
                refusal = RequestResponseCycle(
                    # The refused request's method may not have been read: the 400 carries its body.
                    scope={**self.scope, "method": ""},
                    transport=self.transport,
                    flow=self.flow,
                    logger=self.logger,
                    access_logger=self.access_logger,
                    access_log=False,  # as uvicorn's own 400
                    default_headers=self.server_state.default_headers,
                    message_event=asyncio.Event(),
                    expect_100_continue=False,
                    keep_alive=False,
                    on_response=self.on_response_complete,
                )
                self.pipeline.appendleft((refusal, refuse))
            # Bytes after the refused request are not HTTP to be trusted: reading stops for good. uvicorn's
            # flow control resumes reading when a response completes or an app reads its body; told that
            # reading is not paused, it leaves the transport paused.
            self.transport.pause_reading()
            self.flow.read_paused = False

        def _await_headers(self) -> None:
            nonlocal sweeping
            waiting[self] = self.loop.time()
            if not sweeping:
                sweeping = True
                self.loop.call_later(sweep_every, sweep, self.loop)

    return HeaderTimeoutProtocol


def settle_collector() -> None:
    """What startup built (the app, schemas, tables) lives as long as the process: the collector need
    not scan it again at every collection, and collections come less often (p99 under load:
    bench/README.md)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def run_server(
    app: Any,
    *,
    host: str,
    port: int,
    header_timeout_seconds: float,
    not_http: Callable[[str], Response] | None = None,
    **options: Any,
) -> None:
    """Serves ``app`` as `orderhub serve` serves orderhub; the bench's bare app runs through here too,
    so that the two are measured on one server stack. ``not_http``: see protocol_with_header_timeout."""
    import uvicorn

    settle_collector()
    uvicorn.run(
        app,
        host=host,
        port=port,
        access_log=False,
        loop="uvloop",
        # httptools with a bound on how long request headers may take (slowloris).
        http=protocol_with_header_timeout(header_timeout_seconds, not_http),
        **options,
    )
