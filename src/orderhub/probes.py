"""What ``/readyz`` and ``/metrics`` answer, without a web framework: the API (api/health.py) and the
standalone worker's operations endpoint (api/worker_ops.py) answer the same."""

from __future__ import annotations

import contextlib
import hmac
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

import sqlalchemy as sa
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from orderhub.metrics import DATABASE_LEVELS, ESIM_PROFILES
from orderhub.services.inventory import InventoryService
from orderhub.services.ports import DatabaseUnavailable
from orderhub.store import migrate
from orderhub.store.errors import unavailable_cause
from orderhub.store.operating_levels import read_operating_levels
from orderhub.store.runtime import SqlDatabase

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST

log = logging.getLogger("orderhub.probes")

T = TypeVar("T")


@dataclass(frozen=True)
class ProbeAnswer:
    """A probe's HTTP status, JSON body and headers."""

    status: int
    body: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)


# The answer to a scrape without the metrics token (settings.metrics_token), on either port.
METRICS_REFUSED = ProbeAnswer(
    401, {"status": "unauthorized", "reason": "send Authorization: Bearer <ORDERHUB_METRICS_TOKEN>"},
    {"WWW-Authenticate": 'Bearer realm="orderhub-metrics"'},
)  # fmt: skip


def metrics_allowed(authorization: str | None, token: str) -> bool:
    """Whether a scrape with this Authorization header may read /metrics: always without a token set."""
    if not token:
        return True
    # Compared in constant time, as bytes: a header may hold any Latin-1 text.
    sent = (authorization or "").encode("latin-1", "replace")
    return hmac.compare_digest(sent, f"Bearer {token}".encode())


def not_ready(problem: DatabaseUnavailable) -> ProbeAnswer:
    body = {"status": "unavailable", "reason": problem.reason}
    return ProbeAnswer(503, body, {"Retry-After": str(problem.retry_after)})


def readiness(engine: sa.Engine, database: SqlDatabase) -> ProbeAnswer:
    """Whether the database can be written now (it takes and releases the write lock) and is migrated
    at least as far as this code (a newer schema: see store.migrate.SchemaState). Waits on the
    database: call it on a thread, and bound the wait."""
    problem = database.probe_writable()
    if problem is not None:
        return not_ready(problem)
    try:
        schema = migrate.schema_state(engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return ProbeAnswer(503, {"status": "unavailable", "reason": f"database: {type(exc).__name__}"})
    if schema.status == "foreign":
        reason = str(schema.refusal())
        return ProbeAnswer(503, {"status": "unavailable", "reason": reason})
    if schema.status == "behind":
        reason = f"migrations at {schema.revision}, expected {schema.head}"
        return ProbeAnswer(503, {"status": "unavailable", "reason": reason})
    body = {"status": "ready", "migration": str(schema.revision)}
    if schema.status == "newer":
        # A newer orderhub migrated it (a rolling upgrade, or this code rolled back): a release's
        # migrations are additive, so this process keeps serving rather than leave the load balancer.
        body["schema"] = f"newer than this version ({schema.head})"
    return ProbeAnswer(200, body)


class ReadinessChanges:
    """Logs when what ``/readyz`` answers changes, with the reason: the probe's answers alone left the
    log with a 503 line and a 200 line, and the operator asking why the node left the load balancer
    with nothing. Once a change, not once a probe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: bool | None = None

    def seen(self, answer: ProbeAnswer) -> ProbeAnswer:
        ready = answer.status == 200
        with self._lock:
            was, self._ready = self._ready, ready
        if was is not None and was != ready:
            if ready:
                log.warning("ready again: the database can be written")
            else:
                log.warning("not ready: %s", answer.body.get("reason", "unknown"))
        elif was is None and not ready:
            log.warning("not ready: %s", answer.body.get("reason", "unknown"))
        return answer


# How long a worker's /readyz waits for the database before it answers 503: an orchestrator's probe gives
# up after 1 s by default (Kubernetes' timeoutSeconds), and a probe that times out says nothing of why.
READINESS_WAIT_SECONDS = 0.8


class OneAtATime(Generic[T]):
    """Runs ``call`` (one that waits on the database) for its callers on a thread of its own, at most one
    run in flight: callers that come while it lasts join it rather than start another (each would hold a
    thread and a connection until the database answers, and later callers would queue behind them)."""

    def __init__(self, call: Callable[[], T], thread_name: str) -> None:
        self._call = call
        self._lock = threading.Lock()
        self._in_flight: Future[T] | None = None
        self._started = 0.0
        self._runs = ThreadPoolExecutor(max_workers=1, thread_name_prefix=thread_name)

    def joined(self) -> tuple[Future[T], float]:
        """The run under way, or a new one, and when it started (time.monotonic)."""
        with self._lock:
            if self._in_flight is None or self._in_flight.done():
                self._in_flight, self._started = self._runs.submit(self._call), time.monotonic()
            return self._in_flight, self._started

    def close(self) -> None:
        self._runs.shutdown(wait=False, cancel_futures=True)


class ReadinessCheck:
    """Runs ``check`` (readiness, which waits on the database) for the probes, one at a time
    (OneAtATime). A probe waits for it at most ``wait`` seconds; when it has not ended by then, the
    answer is 503 with how long the database has been silent."""

    def __init__(self, check: Callable[[], ProbeAnswer], *, wait: float = READINESS_WAIT_SECONDS) -> None:
        self._checks = OneAtATime(check, "orderhub-readiness")
        self._wait = wait

    def answer(self) -> ProbeAnswer:
        in_flight, started = self._checks.joined()
        try:
            return in_flight.result(timeout=self._wait)
        except FutureTimeout:
            silent = time.monotonic() - started
            return not_ready(DatabaseUnavailable(f"the database has not answered for {silent:.1f} s"))
        except DatabaseUnavailable as exc:
            return not_ready(exc)

    def close(self) -> None:
        self._checks.close()


def read_inventory_levels(inventory: InventoryService) -> None:
    """Sets the eSIM inventory gauges from the database. Waits on the database: call it on a thread,
    and bound the wait (the gauges keep the last levels read when it does not answer in time).
    DatabaseUnavailable when it cannot be read now: the inventory is read straight through the store,
    whose errors come raw, and one that says the database cannot be used (no file descriptor left to
    open it, say) is told as such; any other is a bug."""
    try:
        levels = inventory.levels()
    except Exception as exc:
        cause = unavailable_cause(exc, None)
        if cause is None:
            raise
        raise DatabaseUnavailable(f"database unavailable: {cause}") from exc
    for state, count in levels.items():
        ESIM_PROFILES.labels(state).set(count)


def read_database_gauges(inventory: InventoryService, engine: sa.Engine) -> None:
    """Sets every gauge read from the database at a scrape: the inventory levels, then the worker's
    backlog and the failing TMF622 listeners (metrics.DatabaseLevels). Waits on the database, raises
    DatabaseUnavailable as read_inventory_levels does: call it through GaugeRefresh."""
    read_inventory_levels(inventory)
    try:
        with engine.connect() as connection:
            now = datetime.now(UTC)
            levels = read_operating_levels(connection, now)
    except Exception as exc:
        cause = unavailable_cause(exc, None)
        if cause is None:
            raise
        raise DatabaseUnavailable(f"database unavailable: {cause}") from exc
    # A due_at ahead of now (written before the clock was set back) is due, not due in the future.
    oldest = 0.0 if levels.oldest_due_at is None else max((now - levels.oldest_due_at).total_seconds(), 0.0)
    DATABASE_LEVELS.update(levels.due_by_dialect, oldest, levels.listeners_failing)


# How long a scrape waits for fresh gauges before it answers with the values last read: a database that
# is slow or does not answer must not hold /metrics past Prometheus' scrape timeout (10 s by default),
# nor for the store's bound on a read (10 s at least), as it did.
FRESH_GAUGES_WAIT_SECONDS = 0.5


class GaugeRefresh:
    """Reads the gauges that come from the database (``read``) for a scrape, one read at a time
    (OneAtATime: each scrape would hold a thread and a connection for as long as the store lets a read
    wait)."""

    def __init__(self, read: Callable[[], None], *, wait: float = FRESH_GAUGES_WAIT_SECONDS) -> None:
        self._reads = OneAtATime(read, "orderhub-gauges")
        self._wait = wait

    def refresh(self) -> None:
        """The read under way, or a new one, waited for at most FRESH_GAUGES_WAIT_SECONDS: when it does not
        end in time, or the database is unavailable, the gauges keep the values last read. Any other
        error is a bug, raised."""
        in_flight, _started = self._reads.joined()
        with contextlib.suppress(FutureTimeout, DatabaseUnavailable):
            in_flight.result(timeout=self._wait)

    def close(self) -> None:
        self._reads.close()


def metrics_text() -> bytes:
    """The process's Prometheus registry in the text exposition format."""
    return generate_latest()
