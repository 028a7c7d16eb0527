"""Delivers order events to partners' listeners, from its own threads: a slow or failing listener
never holds up order intake, nor the other listeners."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from orderhub.domain.changes import Listener
from orderhub.fulfilment.callback_requests import pinned
from orderhub.fulfilment.database_outage import DatabaseOutage
from orderhub.fulfilment.delivery_deadline import DeliveryDeadline
from orderhub.fulfilment.liveness import Heartbeat
from orderhub.metrics import EVENTS_SENT, LOOP_PROGRESS
from orderhub.services.hub import HubService
from orderhub.services.ports import DatabaseUnavailable

if TYPE_CHECKING:
    import ssl

    import httpx

log = logging.getLogger("orderhub.hub")


class HubDispatcher:
    def __init__(
        self,
        hub: HubService,
        *,
        poll_interval: float = 0.2,
        timeout: float = 10.0,
        max_parallel: int = 8,
    ) -> None:
        self._hub = hub
        self._poll_interval = poll_interval
        # The most one delivery may take, connecting, sending and reading the whole answer.
        self._timeout = timeout
        self._max_parallel = max_parallel
        self._pool = ThreadPoolExecutor(max_workers=max_parallel, thread_name_prefix="orderhub-hub")
        # The listeners this process delivers to now (the loop's thread alone reads and changes it).
        self._running: dict[str, Future[int]] = {}
        self._more_due = False
        # The deadlines of the deliveries under way, cut when the dispatcher stops.
        self._deadlines: set[DeliveryDeadline] = set()
        self._deadlines_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.heartbeat = Heartbeat("event dispatcher")
        self._outage = DatabaseOutage("hub dispatcher", log)
        self._tls: ssl.SSLContext | None = None
        self._tls_lock = threading.Lock()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self.heartbeat.beat()
        LOOP_PROGRESS.watch("event_dispatcher", self.heartbeat.silence)
        self._thread = threading.Thread(target=self._run, name="orderhub-hub-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        # A delivery under way ends now rather than at its deadline; its event is sent again next time.
        with self._deadlines_lock:
            under_way = list(self._deadlines)
        for deadline in under_way:
            deadline.cut_now()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._hub.stopped_dispatching()

    def stalled(self, stale_after: float) -> str | None:
        """Why the dispatcher is not alive (not running, or neither a turn of its loop nor an event
        sent or failed for ``stale_after`` seconds), or None."""
        return self.heartbeat.stalled(self._thread, stale_after)

    def _run(self) -> None:
        reclaimed = False
        while not self._stop.is_set():
            self.heartbeat.beat()
            self._wake.clear()
            try:
                if not reclaimed:
                    self._hub.reclaim_abandoned()
                    reclaimed = True
                self._start_due()
            except DatabaseUnavailable as exc:
                self.heartbeat.wait(self._wake, self._outage.failed(exc.reason))
                continue
            except Exception:
                log.exception("hub dispatcher loop error; retrying")
            else:
                self._outage.answered()
            self._wake.wait(self._poll_interval)

    def _start_due(self) -> None:
        """Starts the listeners that are due on the threads that are free, waiting for none: a slow
        listener holds its own thread, never the others' deliveries (a round waiting for every listener
        would hold all of them for the slowest)."""
        for listener_id in [listener_id for listener_id, run in self._running.items() if run.done()]:
            del self._running[listener_id]
        free = self._max_parallel - len(self._running)
        if free <= 0:
            return
        claimed = self._hub.claim_due(free)
        # All threads taken: more listeners may be due, to start as soon as a thread is free.
        self._more_due = len(claimed) == free
        for listener in claimed:
            run = self._pool.submit(self._serve, listener)
            run.add_done_callback(self._ended)
            self._running[listener.id] = run

    def _ended(self, run: Future[int]) -> None:
        """A listener's run is over. Started again at once only when it delivered (it may have more
        waiting) or when others wait for its thread: a listener with nothing pending waits for the next
        poll, instead of being claimed, read and released back to back, two writes each time."""
        if self._more_due or (not run.cancelled() and run.exception() is None and run.result() > 0):
            self._wake.set()

    def _serve(self, listener: Listener) -> int:
        try:
            return self.deliver(listener)
        except DatabaseUnavailable as exc:
            log.warning("listener %s waits for the database: %s", listener.id, exc.reason)
        except Exception as exc:
            log.exception("delivery to listener %s failed; retrying", listener.id)
            # A fault here, not the listener's answer: it waits its backoff as after a failed delivery (and
            # its last error says so), else the next poll claims it again, a traceback each time, for ever.
            try:
                self._hub.failed(listener, f"internal error ({type(exc).__name__}); see the worker's log")
            except Exception:  # the store may be what failed: the next poll tries the listener again
                log.warning("listener %s: its failure could not be recorded", listener.id)
        return 0

    def deliver(self, listener: Listener) -> int:
        """Send the listener its next pending events (a batch) in order, until one fails; how many were
        delivered. The dispatcher then starts it again, after the listeners that waited longer."""
        import httpx  # here: the CLI's commands, which never deliver, start without it

        delivered = 0
        deadline = DeliveryDeadline()
        with self._deadlines_lock:
            self._deadlines.add(deadline)
        try:
            with httpx.Client(timeout=self._timeout, follow_redirects=False, verify=self._tls_context()) as http:
                for pending in self._hub.pending(listener):
                    if self._stop.is_set():
                        break
                    body = self._hub.body_for(listener, pending)
                    if body is None:
                        self._hub.delivered(listener.id, pending.event_id)  # passed over, as asked
                        listener = replace(listener, delivered_event_id=pending.event_id)
                        continue
                    # The name is looked up before the renewal, not after: a DELETE answered while the
                    # resolver took its time was followed by the event all the same.
                    started = time.monotonic()
                    target = pinned(listener.callback, self._hub.callbacks, within=self._timeout)
                    # Renewed before each delivery, the lease never runs out while this process delivers
                    # (so no other worker sends the same events at the same time), and it cannot be for a
                    # listener that was removed: nothing is sent to it after its DELETE.
                    if not self._hub.renew(listener.id):
                        log.info("listener %s removed, or served elsewhere: no more events from here", listener.id)
                        break
                    error = target if isinstance(target, str) else self._post(http, deadline, target, body, started)
                    self.heartbeat.beat()  # a round may take long with many events: each one is progress
                    if error is not None and self._stop.is_set():
                        break  # cut by the stop, not the listener's failure: the event goes at the next start
                    if error is not None:
                        EVENTS_SENT.labels("failed").inc()
                        retry_at = self._hub.failed(listener, error)
                        # Whose listener and which host: what the operator tells the partner, without the
                        # callback's user, password or keys.
                        log.warning(
                            "listener %s of %s (callback host %s) failed (%s); event %d again at %s",
                            listener.id,
                            listener.partner_id,
                            urlsplit(listener.callback).hostname,
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
            with self._deadlines_lock:
                self._deadlines.discard(deadline)
            self._hub.release(listener.id)
        return delivered

    def _tls_context(self) -> ssl.SSLContext:
        """One TLS context for every delivery. A client makes its own otherwise, reading the whole CA bundle
        (some 20 ms of CPU), and a client is made each time a listener is served, with events to send or
        none: every listener, every poll. With hundreds of listeners that kept both cores busy idle."""
        with self._tls_lock:
            if self._tls is None:
                import httpx

                self._tls = httpx.create_ssl_context()
            return self._tls

    def _post(
        self,
        http: httpx.Client,
        deadline: DeliveryDeadline,
        target: tuple[str, dict[str, str], dict[str, Any]],
        body: dict[str, Any],
        started: float,
    ) -> str | None:
        """Send the event to ``target`` (callback_requests.pinned), within the deadline of a delivery that
        ``started``: the name's look-up counts against it, since a resolver that does not answer would
        otherwise hold the listener (and its lease) for as long as the system's resolver waits."""
        pinned_url, headers, extensions = target
        left = self._timeout - (time.monotonic() - started)
        if left <= 0:
            return f"no whole answer within {self._timeout:g} s (the name's look-up took it all)"
        import httpx

        try:
            with deadline.within(left):
                answer = http.post(
                    pinned_url, json=body, headers=headers, extensions={**extensions, "trace": deadline.trace}
                )
        except httpx.HTTPError as exc:
            if deadline.cut or isinstance(exc, httpx.TimeoutException):
                return f"no whole answer within {self._timeout:g} s ({type(exc).__name__})"
            return f"{type(exc).__name__}: {exc}"
        if 200 <= answer.status_code < 300:
            return None
        return f"HTTP {answer.status_code}"
