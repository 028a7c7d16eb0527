"""Requests the server refuses before any route: a request its parser cannot read (400), a head past its
bound (431, web.request_head), a transfer coding it does not implement (501). Each is answered in the
error shape of the API its path names, after the answers of requests pipelined before it, and its
connection closed."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

from orderhub.access_facts import AccessFacts, access_facts
from orderhub.observability import correlation_id
from orderhub.web.middleware import CORRELATION_HEADER, add_storage_rules, correlation_id_for, record_request

CLOSE = (b"connection", b"close")

# What a request that is not HTTP (a malformed request line or header) is told.
NOT_HTTP = "the request is not valid HTTP/1.1: check the request line and the headers"

# The answer to a refused request: (its path as far as it was read, the status, why) -> the response.
RefusalRenderer = Callable[[str, int, str], Response]

# How much of the chunk being read is kept for a refusal's path (a reference, not a copy, when the chunk
# is no longer), and a request line as far as its path: a method (a token: a header's name, which ends
# in a colon, is none), a space, the path up to the first byte no URL holds (a control character, a
# space, a byte beyond ASCII), at the start of a line.
RECEIVED_KEPT = 8192
_REQUEST_LINE = re.compile(rb"(?:^|\n)[!#-'*+.0-9A-Z^-z|~]+ (/[!-~]*)")


class RefusingProtocol(HttpToolsProtocol):
    """httptools' protocol, answering a request it refuses with ``render_refusal`` (plain text, as
    uvicorn's own 400, unless a subclass renders it), so that a partner's client reads the refusal as it
    reads the API's other errors.
    Requests pipelined before the refused one are answered first (see _refuse_after_earlier); with none
    unanswered, the refusal goes out and the connection closes at once, as in uvicorn."""

    # Set once a request was refused: a connection answers one refusal and reads no more.
    _refused = False
    # The chunk being read and how many requests began in it: httptools names a URL only once it is
    # whole, so a request refused inside its URL (the last one begun) has its path read from them.
    _received = b""
    _begun = 0

    def data_received(self, data: bytes) -> None:
        self._received = data if len(data) <= RECEIVED_KEPT else data[:RECEIVED_KEPT]
        self._begun = 0
        super().data_received(data)

    def on_message_begin(self) -> None:
        self._begun += 1
        super().on_message_begin()

    def _stop_waiting(self) -> None:
        """Nothing more is read: subclasses stop waiting for this connection's headers."""

    def render_refusal(self, path: str, status: int, message: str) -> Response | None:
        """The refusal of a request whose path, as far as it was read, is ``path``; None: plain text."""
        return None

    def refused_correlation_id(self) -> str:
        """The X-Correlation-ID the refused request sent, where its fields are known to be its own; ""
        otherwise (the refusal then gets a new one, as a request without one does)."""
        return ""

    def send_400_response(self, msg: str) -> None:
        # uvicorn's answer to its parser's error (msg is its own words): refused as the others are.
        self.refuse(400, NOT_HTTP)

    def refuse(self, status: int, message: str) -> None:
        if self._refused:
            return
        self._refused = True
        self._stop_waiting()
        cycle = self.cycle
        if cycle is not None and cycle.response_complete and cycle.more_body and not self.pipeline:
            # The rest of the body of a request already answered (before its body came) is what the parser
            # refused: a second answer would be taken for the client's next request's. Closed.
            self.transport.close()
            return
        # With requests queued, self.cycle is the newest of them; otherwise the one in flight, if any.
        queued = bool(self.pipeline)
        if cycle is None or cycle.response_complete or (cycle.more_body and not queued):
            # Nothing earlier is unanswered (an unfinished body is the refused request's own).
            self._refuse_now(status, message)
        else:
            self._refuse_after_earlier(status, message, cycle, own=cycle.more_body)

    def _refusal(self, status: int, message: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
        """The refusal's headers and body: ``render_refusal``'s for the path as far as it was read. Its
        access line is written now, with the error code the API's renderer noted: no route ever sees it."""
        path = getattr(self, "url", b"").split(b"?", 1)[0].decode("latin-1") or self._refused_path()
        # Every answer names its request, as the routes' do (web.middleware.RequestContextMiddleware), and
        # so does its access line.
        cid = correlation_id_for(self.refused_correlation_id())
        facts = AccessFacts()
        noted, named = access_facts.set(facts), correlation_id.set(cid)
        try:
            answer = self.render_refusal(path, status, message)
            # The method only once the head was read whole (on_headers_complete puts it in the new scope).
            record_request(str(getattr(self, "scope", {}).get("method", "-")), path, status, 0.0, facts)
        finally:
            access_facts.reset(noted)
            correlation_id.reset(named)
        named_header = (CORRELATION_HEADER.encode(), cid.encode())
        if answer is None:
            text = message.encode("ascii")
            length = str(len(text)).encode("ascii")
            headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", length)]
            headers += [named_header, CLOSE]
            add_storage_rules(headers)
            return headers, text
        headers = [*answer.raw_headers, named_header, CLOSE]
        add_storage_rules(headers)
        return headers, bytes(answer.body)

    def _refused_path(self) -> str:
        """The path of the refused request as far as its request line could be read: the request line of
        the last request begun in the chunk being read (those before it there were read whole). None
        begun in it: its request line began in an earlier chunk, and the chunk continues it."""
        lines = _REQUEST_LINE.findall(self._received)
        found = lines[max(self._begun, 1) - 1] if len(lines) >= max(self._begun, 1) else None
        return found.split(b"?", 1)[0].decode("ascii") if found else ""

    def _refuse_now(self, status: int, message: str) -> None:
        headers, body = self._refusal(status, message)
        content = [STATUS_LINE[status]]
        for name, value in [*self.server_state.default_headers, *headers]:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend([b"\r\n", body])
        self.transport.write(b"".join(content))
        self.transport.close()

    def _refuse_after_earlier(self, status: int, message: str, cycle: RequestResponseCycle, *, own: bool) -> None:
        """Responses go out in the order their requests came (RFC 9112 §9.3.2): closing now would drop
        the answers of requests already acted upon (an order placed, its 201 never sent, a retry
        placing another). The refusal is queued behind them as one more pipelined request, so that
        uvicorn's own pipeline sends it last and the connection closes after it (connection: close);
        a client gone or a shutdown ends the connection as for any pipelined requests."""
        headers, body = self._refusal(status, message)

        async def refuse(scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        if own:  # the newest queued request is the refused one (its body could not be read)
            self.pipeline[0] = (cycle, refuse)
        else:
            refusal = RequestResponseCycle(
                # The refused request's method may not have been read: the refusal carries its body.
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
