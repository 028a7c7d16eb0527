"""Bounds on a request's head (its request line and headers), which httptools does not bound: it holds a
header until its end arrives, however long (30 MiB of one header was held, and answered), and keeps
every field. Past the bound the request is answered 431 and its connection closed, the rest unread; a
transfer coding other than chunked is answered 501 (RFC 9112 §6.1): a proxy in front that applies or
ignores it frames the body otherwise than we do (request smuggling).

The accounting runs per parser callback and per chunk received, a few integer additions each, never
per byte.
"""

from __future__ import annotations

from typing import NoReturn

from orderhub.web.parser_refusals import RefusingProtocol

# The request line and headers together, as received (less the CRLFs and colons between them). Far
# beyond what any client of the APIs sends (a bearer token, a correlation id), as nginx's and Apache's
# defaults (8 KiB a line) are for the browsers they serve.
MAX_HEAD_BYTES = 64 * 1024
MAX_HEADER_FIELDS = 100
HEAD_TOO_LARGE = f"the request line and headers are larger than {MAX_HEAD_BYTES} bytes"
TOO_MANY_FIELDS = f"the request has more than {MAX_HEADER_FIELDS} header fields"
NOT_CHUNKED = "a Transfer-Encoding other than chunked is not supported"
ONE_HOST = "an HTTP/1.1 request must have one Host header field"
NO_UPGRADE = "the request asks to upgrade the connection (Connection: upgrade), which this server does not do"
# The fields that say who the caller is, as the APIs spell them. Given twice, which one a proxy in front
# checked or logged and which one a route reads (the first) may differ, and HTTP Basic twice is two
# authentication methods (RFC 6749 §2.3): refused, as two Host fields are.
CREDENTIAL_FIELDS = {b"authorization": "Authorization", b"client_id": "client_id", b"client_secret": "client_secret"}
# The fields that say which request a retry repeats: every API's Idempotency-Key, and X-Correlation-ID
# under the paths of an API that takes it as its idempotency key (tmf-productorder; elsewhere it only
# names the request in the logs, and the first is read: a gateway may add its own). Given twice with
# different values, the route reads the first, and a retry meant as the second replayed the first's
# order without a word.
KEY_FIELDS = {b"idempotency-key": "Idempotency-Key", b"x-correlation-id": "X-Correlation-ID"}
CORRELATION_ID = b"x-correlation-id"
REQUEST_HEADER_FIELDS_TOO_LARGE = 431
NOT_IMPLEMENTED = 501


class HeadRefused(Exception):
    """Raised in a parser callback to stop the parser: uvicorn's data_received then calls
    send_400_response, which answers the refusal noted in ``_head_refusal`` instead."""


class BoundedHeadProtocol(RefusingProtocol):
    # Of the request whose head is being read: bytes and fields counted by the parser's callbacks (a
    # header is counted when it is complete), bytes of whole chunks received since the last callback
    # (all inside one header the parser still holds), and whether a Transfer-Encoding was sent.
    _in_head = False
    _head_bytes = 0
    _head_fields = 0
    _head_unseen = 0
    _chunk = 0
    _coded = False
    _hosts = 0
    _credentials: tuple[bytes, ...] = ()  # the credential fields of this head so far
    _keys: dict[bytes, bytes] | None = None  # the first value of each key field of this head
    _head_refusal: tuple[int, str] | None = None
    # The path prefixes under which X-Correlation-ID is an idempotency key (set by web.server).
    correlation_keyed_paths: tuple[bytes, ...] = ()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # queued behind earlier answers: nothing after the refused request is read
        self._chunk = len(data)
        super().data_received(data)
        # A callback of this chunk zeroed _chunk. Otherwise the whole chunk lies inside one field the
        # parser holds until it ends: counted here, the field cannot grow past the bound unseen. (The
        # tail of a chunk with a callback is not counted until its field ends: at most one chunk more.)
        if self._in_head and self._chunk:
            self._head_unseen += self._chunk
            if self._head_bytes + self._head_unseen > MAX_HEAD_BYTES:
                self._in_head = False
                self.refuse(REQUEST_HEADER_FIELDS_TOO_LARGE, HEAD_TOO_LARGE)

    def send_400_response(self, msg: str) -> None:
        refusal = self._head_refusal
        if refusal is None:
            super().send_400_response(msg)
        else:
            self.refuse(*refusal)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._coded = False
        self._head_bytes = self._head_fields = self._head_unseen = self._chunk = self._hosts = 0
        self._credentials = ()
        self._keys = None

    def on_url(self, url: bytes) -> None:
        # Called for each piece of the URL as it arrives (httptools holds none of it).
        self._head_bytes += len(url)
        self._head_unseen = self._chunk = 0
        self.url += url  # uvicorn's on_url, without a call more per piece; first: the refusal names the path
        if self._head_bytes > MAX_HEAD_BYTES:
            self._stop(REQUEST_HEADER_FIELDS_TOO_LARGE, HEAD_TOO_LARGE)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value)
        self._head_fields += 1
        self._head_unseen = self._chunk = 0
        if self._head_bytes > MAX_HEAD_BYTES:
            self._stop(REQUEST_HEADER_FIELDS_TOO_LARGE, HEAD_TOO_LARGE)
        if self._head_fields > MAX_HEADER_FIELDS:
            self._stop(REQUEST_HEADER_FIELDS_TOO_LARGE, TOO_MANY_FIELDS)
        # uvicorn's on_header, inlined (no Python call more per header on the request path), with the
        # transfer coding checked on the name it lowers anyway.
        name = name.lower()
        if name == b"transfer-encoding":
            if self._coded or value.strip().lower() != b"chunked":
                # Two fields, or codings before chunked ("gzip, chunked"): the parser reads the body as
                # chunked and would hand it over still coded.
                self._stop(NOT_IMPLEMENTED, NOT_CHUNKED)
            self._coded = True
        elif name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        elif name == b"host":
            self._hosts += 1
        elif name in CREDENTIAL_FIELDS:
            if name in self._credentials:
                self._stop(400, f"the {CREDENTIAL_FIELDS[name]} header is given more than once: send one credential")
            self._credentials += (name,)
        elif name in KEY_FIELDS and (name != CORRELATION_ID or self._keyed_by_correlation_id()):
            if self._keys is None:
                self._keys = {}
            if self._keys.setdefault(name, value.strip()) != value.strip():
                self._stop(
                    400, f"the {KEY_FIELDS[name]} header is given more than once with different values: send one"
                )
        self.headers.append((name, value))

    def refused_correlation_id(self) -> str:
        # A refusal of this head (_stop): the fields read are this request's. (Another refusal may come
        # before a request began, when the fields are still the one before's.)
        if self._head_refusal is None:
            return ""
        sent = next((value for name, value in self.headers if name == CORRELATION_ID), b"")
        return sent.decode("latin-1")

    def _keyed_by_correlation_id(self) -> bool:
        return any(self.url == prefix or self.url.startswith(prefix + b"/") for prefix in self.correlation_keyed_paths)

    def on_headers_complete(self) -> None:
        self._in_head = False
        if self.parser.should_upgrade():
            # Connection: upgrade with an Upgrade field (any protocol: nothing here upgrades). The parser
            # stops at the head and reads no body; uvicorn then dropped the rest of that read and took
            # the next read for a new request: the body of one request ran as another (smuggling, behind
            # a proxy that forwards Upgrade as websockets need), and a pipelined request went unanswered.
            self._stop(400, NO_UPGRADE)
        if self._hosts != 1 and self.parser.get_http_version() == "1.1":
            # RFC 9112 §3.2: an HTTP/1.1 request names one host, or is answered 400 (with two, which one a
            # proxy in front used and which this server reads may differ).
            self._stop(400, ONE_HOST)
        super().on_headers_complete()

    def _stop(self, status: int, message: str) -> NoReturn:
        self._in_head = False
        self._head_refusal = (status, message)
        raise HeadRefused(message)
