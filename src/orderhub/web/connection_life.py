"""When a connection closes around its requests, where uvicorn's protocol closed it too soon or left it
open too long (found by fuzzing the request path).
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from orderhub.web.request_head import BoundedHeadProtocol

# Requests read ahead of their answers on one connection (pipelining). uvicorn read on after every answer
# however many were queued, and parsed each read whole: a client that never read its answers queued
# ~2 KB a request without end (4 connections of 20,000 GETs: +190 MB). Past this, reading waits for
# the answers to catch up; one read's requests at most are queued beyond it.
MAX_PIPELINED = 32


class ConnectionLifeProtocol(BoundedHeadProtocol):
    # How long the rest of a body may take to arrive once its request was answered without it (a 413 for
    # its length, a 404, a 401): the bound a head gets. Set by the server.
    linger_seconds = 10.0

    def eof_received(self) -> bool | None:  # type: ignore[override]  # asyncio reads the value
        """The client half-closed (it will send no more) after its request: it still reads the answer.
        asyncio closes the transport when this returns a false value: the answer was lost though the
        order it answers was placed, and a retry without a key placed another. Kept open for writing
        until the newest request is answered; then the connection closes."""
        newest = self.pipeline[0][0] if self.pipeline else self.cycle
        if newest is None or newest.response_complete:
            return None
        newest.keep_alive = False
        return True

    def on_message_complete(self) -> None:
        """uvicorn's (inlined: no call more per request), which ignored the end of a body that came after
        its request's answer. The request still counted as unfinished, and the linger closed the
        connection whatever requests it carried by then: behind nginx, which keeps such a connection, a
        partner's request in flight on it was answered 502 (README "Deploying")."""
        cycle = self.cycle
        if cycle.response_complete:
            cycle.more_body = False
            # Its arrival cancelled the keep-alive timer that the answer armed (uvicorn re-arms it only
            # when a response completes): without one, the connection could stay idle for good.
            if not self.pipeline and self.timeout_keep_alive_task is None:
                self.timeout_keep_alive_task = self.loop.call_later(
                    self.timeout_keep_alive, self._close_if_idle_since, cycle
                )
            return
        if self.parser.should_upgrade() and self._should_upgrade():
            return
        cycle.more_body = False
        cycle.message_event.set()

    def _close_if_idle_since(self, cycle: RequestResponseCycle) -> None:
        # A request whose head came in the same read as the body's end began no read of its own (whose
        # arrival would have cancelled this timer): it has a cycle of its own by now, or its head is
        # still arriving (bounded by the head's timeout); either way it is not closed under.
        if self.cycle is cycle and not self._in_head and not self.transport.is_closing():
            self.transport.close()

    def on_response_complete(self) -> None:
        cycle = self.cycle
        if cycle is not None and cycle.more_body:
            # Answered before its body arrived: what comes next is the rest of that body (read and dropped,
            # as before), or nothing (a client that sent Expect: 100-continue sends none), not a request.
            # It held the connection for as long as the client trickled it, and a client that sent no
            # body waited on its next request for good: the rest gets a head's time, then the connection
            # closes.
            self.loop.call_later(self.linger_seconds, self._close_if_unread, cycle)
        super().on_response_complete()
        if len(self.pipeline) >= MAX_PIPELINED:
            self.flow.pause_reading()  # uvicorn's resumed it: read on once answers caught up

    def _close_if_unread(self, cycle: RequestResponseCycle) -> None:
        if cycle.more_body and not self.transport.is_closing():
            self.transport.close()
