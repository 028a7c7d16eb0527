"""The standalone worker's operations endpoint: ``/healthz``, ``/readyz`` and ``/metrics`` on a port of
its own (``orderhub worker --port``).

The standard library's http.server on a thread of its own: the worker has no event loop and no web
framework, and three GETs scraped every few seconds need neither (uvicorn and FastAPI would bring an
event loop, their import time and their memory to every worker for them). One thread per connection,
each with a socket timeout, so a slow or silent client holds only its own thread, never the worker.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from orderhub.probes import (
    METRICS_CONTENT_TYPE,
    METRICS_REFUSED,
    READINESS_WAIT_SECONDS,
    GaugeRefresh,
    ProbeAnswer,
    ReadinessChanges,
    ReadinessCheck,
    metrics_allowed,
    metrics_text,
    read_database_gauges,
    readiness,
)
from orderhub.store.database import statement_timeout_seconds

if TYPE_CHECKING:  # the wired process: this endpoint sits above it, as the API does
    from orderhub.bootstrap import Services

log = logging.getLogger("orderhub.ops")

# How long a client may take to send its request before its connection is closed.
CLIENT_TIMEOUT_SECONDS = 10.0


class OpsEndpoint:
    """Serves the probes; ``liveness`` names what is stuck (empty: alive); ``readiness`` and
    ``refresh_metrics`` (the gauges read from the database) wait on the database, each one call at a
    time on a thread of its own (probes.ReadinessCheck, probes.GaugeRefresh): a probe waits for the
    check at most ``answer_timeout`` seconds, a scrape for the gauges briefly."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        liveness: Callable[[], list[str]],
        readiness: Callable[[], ProbeAnswer],
        refresh_metrics: Callable[[], None],
        answer_timeout: float,
        metrics_token: str = "",
    ) -> None:
        self._metrics_token = metrics_token
        self._liveness = liveness
        self._readiness = ReadinessCheck(readiness, wait=answer_timeout)
        self._readiness_changes = ReadinessChanges()
        self._metrics_gauges = GaugeRefresh(refresh_metrics)
        self._server = ThreadingHTTPServer((host, port), self._handler())  # binds now: a taken port fails here
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="orderhub-ops", daemon=True)
        self._thread.start()
        log.info("worker operations endpoint on %s (/healthz, /readyz, /metrics)", self.url)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._readiness.close()
        self._metrics_gauges.close()

    # -- the answers -------------------------------------------------------------------------------

    def answer(self, path: str, authorization: str | None = None) -> tuple[int, str, bytes, dict[str, str]]:
        """Status, content type, body and headers for a GET of ``path`` with this Authorization header."""
        if path == "/healthz":
            problems = self._liveness()
            if problems:
                return _json(ProbeAnswer(503, {"status": "stalled", "reason": "; ".join(problems)}))
            return _json(ProbeAnswer(200, {"status": "ok"}))
        if path == "/readyz":
            return _json(self._readiness_changes.seen(self._readiness.answer()))
        if path == "/metrics":
            if not metrics_allowed(authorization, self._metrics_token):
                return _json(METRICS_REFUSED)
            # As the API's: the inventory gauges keep the last levels read when the database is late, and
            # a scrape never queues behind readiness probes that wait on it.
            self._metrics_gauges.refresh()
            return 200, METRICS_CONTENT_TYPE, metrics_text(), {}
        return _json(ProbeAnswer(404, {"status": "not found", "reason": "served: /healthz, /readyz, /metrics"}))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            timeout = CLIENT_TIMEOUT_SECONDS
            server_version = "orderhub-worker"

            def do_GET(self) -> None:
                try:
                    path = self.path.split("?", 1)[0]
                    status, content_type, body, headers = endpoint.answer(path, self.headers.get("Authorization"))
                except Exception:
                    log.exception("operations endpoint: %s failed", self.path)
                    status, content_type, body, headers = _json(ProbeAnswer(500, {"status": "error"}))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("operations endpoint: " + format, *args)

        return Handler


def _json(answer: ProbeAnswer) -> tuple[int, str, bytes, dict[str, str]]:
    return answer.status, "application/json", json.dumps(answer.body).encode(), answer.headers


def worker_ops_endpoint(services: Services, host: str, port: int) -> OpsEndpoint:
    """The endpoint of an ``orderhub worker`` process: alive while its worker loop and its event
    dispatcher keep coming round, ready while the database can be written (as the API's /readyz)."""
    settings = services.settings
    answer_timeout = statement_timeout_seconds(settings.db_write_timeout_seconds)
    # A loop is stuck past the longest a turn may rightly take: a batch within its lease (a worker
    # slower than that loses its orders to others anyway), or a database call within the store's bound;
    # plus the poll, the longest an idle loop waits between turns.
    stale_after = max(settings.worker_lease_seconds, answer_timeout) + settings.worker_poll_seconds

    def liveness() -> list[str]:
        stalled = (services.worker.stalled(stale_after), services.hub_dispatcher.stalled(stale_after))
        return [problem for problem in stalled if problem is not None]

    return OpsEndpoint(
        host,
        port,
        liveness=liveness,
        readiness=lambda: readiness(services.engine, services.database),
        refresh_metrics=lambda: read_database_gauges(services.inventory, services.engine),
        answer_timeout=READINESS_WAIT_SECONDS,
        metrics_token=settings.metrics_token,
    )
