"""Prometheus metrics of the process (scraped at ``GET /metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Histogram(
    "orderhub_http_request_duration_seconds",
    "HTTP requests by API, method and status, with their duration",
    ["api", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ORDERS_ACCEPTED = Counter("orderhub_orders_accepted_total", "Orders accepted", ["dialect", "operation"])
ORDERS_FINISHED = Counter("orderhub_orders_finished_total", "Orders that reached a final state", ["operation", "state"])
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
