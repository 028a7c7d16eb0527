"""Delivers order events to partners' listeners, from its own threads: a slow or failing listener
never holds up order intake, nor the other listeners."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from orderhub.domain.callbacks import CallbackAddresses, callback_host
from orderhub.domain.changes import Listener
from orderhub.fulfilment.liveness import Heartbeat
from orderhub.metrics import EVENTS_SENT
from orderhub.services.hub import HubService, PendingEvent
from orderhub.services.ports import DatabaseUnavailable

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("orderhub.hub")

# Turns one pending event into the JSON body the listener receives (the dialect's event envelope).
RenderEvent = Callable[[PendingEvent], dict[str, Any]]


def chosen(query: str | None, body: dict[str, Any]) -> bool:
    """Whether a listener's query (``name=v1,v2``, checked by the dialect when it was registered: TMF630's
    filter on a field of the event) chooses the event; no query chooses every event."""
    if not query:
        return True
    name, _, values = query.partition("=")
    return str(body.get(name)) in values.split(",")


class HubDispatcher:
    def __init__(
        self,
        hub: HubService,
        render: RenderEvent,
        *,
        poll_interval: float = 0.2,
        timeout: float = 5.0,
        max_parallel: int = 8,
    ) -> None:
        self._hub = hub
        self._render = render
        self._poll_interval = poll_interval
        self._timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=max_parallel, thread_name_prefix="orderhub-hub")
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.heartbeat = Heartbeat("event dispatcher")

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self.heartbeat.beat()
        self._thread = threading.Thread(target=self._run, name="orderhub-hub-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def stalled(self, stale_after: float) -> str | None:
        """Why the dispatcher is not alive (not running, or neither a turn of its loop nor an event
        sent or failed for ``stale_after`` seconds), or None."""
        return self.heartbeat.stalled(self._thread, stale_after)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.heartbeat.beat()
            self._wake.clear()
            try:
                claimed = self._hub.claim_due()
                # Each listener in its own thread; the round ends when all of them are done.
                for future in [self._pool.submit(self.deliver, listener) for listener in claimed]:
                    future.result()
            except DatabaseUnavailable as exc:
                log.warning("hub dispatcher waits for the database: %s", exc.reason)
            except Exception:
                log.exception("hub dispatcher loop error; retrying")
            self._wake.wait(self._poll_interval)

    def deliver(self, listener: Listener) -> int:
        """Send the listener its pending events in order, until it fails or is up to date; how many
        were delivered."""
        import httpx  # here: the CLI's commands, which never deliver, start without it

        delivered = 0
        try:
            with httpx.Client(timeout=self._timeout, follow_redirects=False) as http:
                while not self._stop.is_set():
                    batch = self._hub.pending(listener)
                    if not batch:
                        return delivered
                    for pending in batch:
                        body = self._render(pending)
                        if not chosen(listener.query, body):
                            self._hub.delivered(listener.id, pending.event_id)  # passed over, as asked
                            listener = replace(listener, delivered_event_id=pending.event_id)
                            continue
                        error = self._post(http, self._hub.callbacks, listener.callback, body)
                        self.heartbeat.beat()  # a round may take long with many events: each one is progress
                        if error is not None:
                            EVENTS_SENT.labels("failed").inc()
                            retry_at = self._hub.failed(listener, error)
                            log.warning(
                                "listener %s failed (%s); event %d again at %s",
                                listener.id,
                                error,
                                pending.event_id,
                                retry_at.isoformat(),
                            )
                            return delivered
                        self._hub.delivered(listener.id, pending.event_id)
                        EVENTS_SENT.labels("delivered").inc()
                        listener = replace(listener, delivered_event_id=pending.event_id, failures=0)
                        delivered += 1
        finally:
            self._hub.release(listener.id)
        return delivered

    @staticmethod
    def _post(http: httpx.Client, allowed: CallbackAddresses, url: str, body: dict[str, Any]) -> str | None:
        target = pinned(url, allowed)
        if isinstance(target, str):
            return target
        pinned_url, headers, extensions = target
        import httpx

        try:
            answer = http.post(pinned_url, json=body, headers=headers, extensions=extensions)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if 200 <= answer.status_code < 300:
            return None
        return f"HTTP {answer.status_code}"


def pinned(url: str, allowed: CallbackAddresses) -> tuple[str, dict[str, str], dict[str, Any]] | str:
    """The request for ``url`` sent to the address its host resolves to now, once every address it
    resolves to passed ``allowed``; or why not. Sent to that address itself (the host goes in the Host
    header and, for TLS, as the server name the certificate is checked against), so that the name cannot
    resolve to another address between the check and the connection (DNS rebinding)."""
    parts = urlsplit(url)
    try:
        # As registration read it: a listener stored before that check, or under an older one, is held
        # to it here too (127.0.0.1%2e is 127.0.0.1, and refused).
        host = callback_host(parts.hostname or "")
    except ValueError as exc:
        return f"callback address refused: {exc}"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"cannot resolve {host}: {exc}"
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    for address in addresses:
        refused = allowed.refusal(address)
        if refused is not None:
            return f"callback address refused: {refused}"
    address = addresses[0]
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"[{address}]" if ":" in address else address
    # The Host header and the TLS server name are the host as resolved, not as spelt (SNI takes no
    # trailing dot, and a percent-encoded name is no name a server knows itself by).
    host_header = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
        host_header += f":{parts.port}"
    if userinfo:
        netloc = f"{userinfo}@{netloc}"
    request_url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return request_url, {"Host": host_header}, {"sni_hostname": host}
