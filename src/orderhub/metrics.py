"""Prometheus metrics of the process (scraped at ``GET /metrics``)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from functools import cache
from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge
from prometheus_client.core import HistogramMetricFamily
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
