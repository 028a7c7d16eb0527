"""A partner's event listener on loopback that takes its time: it answers each event after a delay, or
trickles its answer (a chunked 200, one chunk now and then, never ending), or holds it until released.
It notes when each event arrived and how many deliveries ran at once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class SlowListener:
    def __init__(self, *, delay: float = 0.0, trickle: float = 0.0, port: int = 0) -> None:
        self.delay = delay  # seconds before a whole 200
        self.trickle = trickle  # when set: a chunk of the answer every so many seconds, never the end
        self.hold = threading.Event()  # while set, an answer waits until it is cleared (or the listener closes)
        self.arrivals: list[tuple[float, dict[str, Any]]] = []  # (time.monotonic(), event), as they came
        self.most_at_once = 0
        self._at_once = 0
        self._lock = threading.Lock()
        self._closed = threading.Event()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a partner's server would

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with listener._lock:
                    listener.arrivals.append((time.monotonic(), body))
                    listener._at_once += 1
                    listener.most_at_once = max(listener.most_at_once, listener._at_once)
                counted = [True]

                def answered() -> None:
                    # The delivery is over once its answer goes out: counted down then, not when this
                    # thread next runs (a sender's next delivery, on a new connection, may come first).
                    if counted[0]:
                        counted[0] = False
                        with listener._lock:
                            listener._at_once -= 1

                try:
                    listener._answer(self, answered)
                finally:
                    answered()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/listener"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _answer(self, handler: BaseHTTPRequestHandler, answered: Callable[[], None]) -> None:
        while self.hold.is_set() and not self._closed.wait(0.05):
            pass
        if self.trickle:
            handler.send_response(200)
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            while not self._closed.wait(self.trickle):
                try:
                    handler.wfile.write(b"1\r\n.\r\n")
                    handler.wfile.flush()
                except OSError:
                    return  # the sender gave up on this answer
            return
        self._closed.wait(self.delay)
        answered()
        handler.send_response(201)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def event_ids(self) -> list[int]:
        with self._lock:
            return [int(event["eventId"]) for _, event in self.arrivals]

    def wait_for(self, count: int, timeout: float) -> list[dict[str, Any]]:
        """The events that arrived, once there are ``count`` of them or ``timeout`` has passed."""
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        with self._lock:
            return [event for _, event in self.arrivals]

    def wait_until_answered(self, timeout: float) -> None:
        """Until no delivery is being answered (or ``timeout`` has passed)."""
        deadline = time.monotonic() + timeout
        while self._at_once and time.monotonic() < deadline:
            time.sleep(0.02)

    def close(self) -> None:
        self._closed.set()
        self.server.shutdown()
        self.server.server_close()
