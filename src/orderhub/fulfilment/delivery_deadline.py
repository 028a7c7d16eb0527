"""A deadline for a whole HTTP request (connect, send, the whole answer), which httpx does not have: its
timeouts bound each read or write alone, so a listener that trickles its answer a byte now and then
would hold a delivery for as long as it likes."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class DeliveryDeadline:
    """Cuts the connection of one httpx client when a request it runs outlives its deadline: the request
    then fails at once (a read or write on a socket shut down returns), whatever the listener does.

    One per client, used by one thread at a time (a listener's deliveries run one after another)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._running = False
        self.cut = False

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpx's ``trace`` extension: keeps the socket of the connection the request goes on. A kept-
        alive connection traces nothing more, and keeps the socket it was opened with."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            stream = info.get("return_value")
            if stream is not None:
                with self._lock:
                    self._socket = stream.get_extra_info("socket")
                    if self._running and self.cut:
                        self._shutdown()  # connected after the deadline passed: cut at once

    @contextmanager
    def within(self, seconds: float) -> Iterator[None]:
        with self._lock:
            self._running = True
            self.cut = False
        timer = threading.Timer(seconds, self._cut)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            # Under the lock: once the request is over, its connection (kept alive for the next one) is
            # not cut by a timer that fires late.
            with self._lock:
                self._running = False
            timer.cancel()

    def cut_now(self) -> None:
        """Ends the request running now, as its deadline would (the dispatcher stopping)."""
        self._cut()

    def _cut(self) -> None:
        with self._lock:
            if not self._running:
                return
            self.cut = True
            self._shutdown()  # still connecting: the connection is cut as soon as it is made (trace)

    def _shutdown(self) -> None:
        if self._socket is not None:
            # The plain socket's shutdown (a TLS socket's own would first drop its TLS state under the
            # reader's feet); a socket closed since has no descriptor any more, and refuses.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self._socket, socket.SHUT_RDWR)
