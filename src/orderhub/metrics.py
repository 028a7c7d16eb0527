"""Prometheus metrics of the process (scraped at ``GET /metrics``)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector


class RequestDurations(Collector):
    """A Prometheus histogram of request durations, kept in plain lists.

    prometheus_client's Histogram takes two locks and walks its buckets at every observation, a
    tenth of what a cached GET costs (bench/README.md). Requests are recorded by the event loop's
    thread alone; a scrape, from another thread, reads copies.
    """

    def __init__(self, name: str, documentation: str, buckets: tuple[float, ...]) -> None:
        self._name = name
        self._documentation = documentation
        self._bounds = buckets
        self._bound_texts = [*(str(float(bound)) for bound in buckets), "+Inf"]  # the le labels, once
        # (api, method, status) -> a count per bucket, then one for +Inf, then the sum of durations.
        self._series: dict[tuple[str, str, int], list[float]] = {}

    def observe(self, api: str, method: str, status: int, seconds: float) -> None:
        series = self._series.get((api, method, status))
        if series is None:
            series = self._series[(api, method, status)] = [0] * (len(self._bounds) + 2)
        series[bisect_left(self._bounds, seconds)] += 1  # the first bucket whose bound is >= seconds
        series[-1] += seconds

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(self._name, self._documentation, labels=["api", "method", "status"])
        for (api, method, status), series in list(self._series.items()):
            counts = series[:]
            buckets, total = [], 0.0
            for bound, count in zip(self._bound_texts, counts[:-1], strict=True):
                total += count
                buckets.append((bound, total))
            family.add_metric([api, method, str(status)], buckets, sum_value=counts[-1])
        yield family


HTTP_REQUESTS = RequestDurations(
    "orderhub_http_request_duration_seconds",
    "HTTP requests by API, method and status, with their duration",
    # From 1 ms: a GET or an accepted order takes about one on an idle server, and its p50 must show.
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
REGISTRY.register(HTTP_REQUESTS)
ORDERS_ACCEPTED = Counter("orderhub_orders_accepted_total", "Orders accepted", ["dialect", "operation"])
ORDERS_FINISHED = Counter(
    "orderhub_orders_finished_total", "Orders that reached a final state", ["dialect", "operation", "state"]
)


@cache
def orders_accepted(dialect: str, operation: str) -> Any:
    """The accepted-orders counter of one dialect and operation (``labels()`` costs microseconds)."""
    return ORDERS_ACCEPTED.labels(dialect, operation)


@cache
def orders_finished(dialect: str, operation: str, state: str) -> Any:
    """The finished-orders counter of one dialect (the API that placed the order), operation and final state."""
    return ORDERS_FINISHED.labels(dialect, operation, state)


# Counted where events are sent: in the worker process (or a serve with its worker).
EVENTS_SENT = Counter(
    "orderhub_events_sent_total",
    "TMF622 events sent to listeners, by outcome (delivered: answered 2xx; failed: sent again later)",
    ["outcome"],
)
ESIM_PROFILES = Gauge("orderhub_esim_profiles", "eSIM profiles in inventory by state (read at scrape)", ["state"])
# Counted by the store where a batch of writes fails (store.write_health): nothing on a write that succeeds.
DB_WRITES_REFUSED = Counter(
    "orderhub_db_writes_refused",
    "Writes of requests (orders, sign-ins, changes) the database refused or did not answer in time (answered 503)",
)


class DatabaseLevels(Collector):
    """What a scrape reads from the database besides the inventory (probes.read_database_gauges): the
    orders due and not finished (the worker's backlog) by the API that placed them, how long the oldest of
    them has been due, and the TMF622 listeners whose last delivery failed. One snapshot, replaced whole,
    so a scrape never shows half of one read; nothing before the first read."""

    def __init__(self) -> None:
        self._due: dict[str, int] | None = None
        self._oldest_due_seconds = 0.0
        self._listeners_failing = 0

    def update(self, due: dict[str, int], oldest_due_seconds: float, listeners_failing: int) -> None:
        # An API whose backlog was worked off shows 0 rather than vanishing (its series would go stale).
        shown = dict.fromkeys(self._due or {}, 0) | due
        self._oldest_due_seconds, self._listeners_failing = oldest_due_seconds, listeners_failing
        self._due = shown

    def collect(self) -> Iterator[GaugeMetricFamily]:
        due = self._due
        if due is None:
            return
        family = GaugeMetricFamily(
            "orderhub_orders_due", "Orders due now and not finished (the worker's backlog), by API", labels=["dialect"]
        )
        for dialect, count in sorted(due.items()):
            family.add_metric([dialect], count)
        yield family
        yield GaugeMetricFamily(
            "orderhub_orders_due_oldest_seconds",
            "How long the order due longest, and not finished, has been due (0: none is)",
            value=self._oldest_due_seconds,
        )
        yield GaugeMetricFamily(
            "orderhub_hub_listeners_failing",
            "TMF622 listeners whose last delivery failed (their events wait and are sent again)",
            value=self._listeners_failing,
        )


DATABASE_LEVELS = DatabaseLevels()
REGISTRY.register(DATABASE_LEVELS)


class LoopProgress(Collector):
    """Seconds since each background loop this process runs (the worker's, the event dispatcher's) last
    showed progress (fulfilment.liveness.Heartbeat): a few tenths while it works or waits for work,
    growing without end once it is stuck or its thread died. What a standalone worker's /healthz
    judges, for a `serve` with its worker too, whose /healthz says only that the process answers."""

    def __init__(self) -> None:
        self._silences: dict[str, Callable[[], float | None]] = {}

    def watch(self, loop: str, silence: Callable[[], float | None]) -> None:
        """From now on, ``loop``'s age is ``silence()`` (the loop started last of that name: one a process)."""
        self._silences[loop] = silence

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "orderhub_loop_progress_age_seconds",
            "Seconds since a background loop of this process (worker, event_dispatcher) last made progress",
            labels=["loop"],
        )
        for loop, silence in sorted(self._silences.items()):
            seconds = silence()
            if seconds is not None:
                family.add_metric([loop], seconds)
        yield family


LOOP_PROGRESS = LoopProgress()
REGISTRY.register(LOOP_PROGRESS)


# (path prefix, label) of each API served; the app registers every dialect at start.
_APIS: list[tuple[str, str]] = []


def register_api(prefix: str, label: str) -> None:
    if (prefix, label) not in _APIS:
        _APIS.append((prefix, label))


def api_of(path: str) -> str:
    """A low-cardinality label for a request path: which API it belongs to, never ids."""
    for prefix, label in _APIS:
        if path.startswith(prefix):
            return label
    if path.startswith("/oauth2"):
        return "oauth2"
    if path in ("/healthz", "/readyz", "/metrics"):
        return "ops"
    return "other"
