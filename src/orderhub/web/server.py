"""The HTTP server's protocol, with the bounds uvicorn lacks: request headers must arrive in time, and
within a size (web.request_head).

A client that opens a connection and trickles its headers (slowloris) would otherwise hold the
connection forever; bodies are bounded by the body guard (web.body_guard). Its writes go out once per
turn of the event loop (web.coalesced_writes).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

import uvicorn
from starlette.responses import Response
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from orderhub.web.coalesced_writes import CoalescedWrites
from orderhub.web.connection_life import ConnectionLifeProtocol
from orderhub.web.parser_refusals import RefusalRenderer


def protocol_with_header_timeout(
    seconds: float, not_http: RefusalRenderer | None = None, correlation_keyed: tuple[str, ...] = ()
) -> type[HttpToolsProtocol]:
    """httptools' protocol, closing a connection whose request headers take longer than ``seconds``,
    refusing a head past its bound (web.request_head), and answering a request it refuses with
    ``not_http(path, status, message)`` (the path as far as it was read) instead of uvicorn's plain
    text, so that a partner's client reads the refusal as it reads the API's others (web.parser_refusals).
    Under the path prefixes ``correlation_keyed``, X-Correlation-ID is an idempotency key (web.request_head).

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

    class HeaderTimeoutProtocol(ConnectionLifeProtocol):
        linger_seconds = seconds
        correlation_keyed_paths = tuple(prefix.encode() for prefix in correlation_keyed)

        def render_refusal(self, path: str, status: int, message: str) -> Response | None:
            return None if not_http is None else not_http(path, status, message)

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

        def _stop_waiting(self) -> None:
            waiting.pop(self, None)  # a refused request: nothing more is read, no headers to wait for

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
    keep_alive_seconds: int,
    not_http: RefusalRenderer | None = None,
    correlation_keyed: tuple[str, ...] = (),
    **options: Any,
) -> None:
    """Serves ``app`` as `orderhub serve` serves orderhub; the bench's bare app runs through here too,
    so that the two are measured on one server stack. ``not_http``, ``correlation_keyed``: see
    protocol_with_header_timeout."""
    settle_collector()
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=False,
        server_header=False,  # names the software to scanners, and nothing to partners
        loop="uvloop",
        timeout_keep_alive=keep_alive_seconds,  # Settings.keep_alive_seconds: why it matters
        # httptools with a bound on how long request headers may take (slowloris).
        http=protocol_with_header_timeout(header_timeout_seconds, not_http, correlation_keyed),
        **options,
    )
    server = _HangUpStopsServer(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(3)  # as uvicorn.run does: the port was taken, the app failed to start


class _HangUpStopsServer(uvicorn.Server):
    """uvicorn stops gracefully on SIGINT and SIGTERM only; SIGHUP (a closed terminal, an operator's
    `kill -HUP`) killed the process at once, dropping in-flight requests whose orders had committed
    unanswered and leaving the WAL unmerged. Here it stops as SIGTERM does, and the process exits 0:
    not re-raised like uvicorn's own signals, since nothing reloads on SIGHUP."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
            with super().capture_signals():
                yield
            return
        previous = signal.signal(signal.SIGHUP, self._hang_up)
        try:
            with super().capture_signals():
                yield
        finally:
            signal.signal(signal.SIGHUP, previous)

    def _hang_up(self, _signum: int, _frame: FrameType | None) -> None:
        self.should_exit = True
