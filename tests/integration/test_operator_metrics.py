"""What an operator on call reads from /metrics, on real processes: the worker's backlog and how long it
has waited, whether the worker and event dispatcher loops come round, TMF622 listeners that fail; the
exposition parses as Prometheus text, and every metric README names is served."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.api.test_tmf622 import BASE, CHANNELS, auth, create, order_body
from tests.api.test_tmf622_events import unused_port
from tests.integration.support import (
    HOST,
    OrderhubProcesses,
    client,
    free_port,
    get_order,
    get_token,
    place_order,
    sqlite_url,
    wait_until,
)

README = Path(__file__).resolve().parents[2] / "README.md"


def _samples(metrics: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, parsed as Prometheus parses it (an invalid exposition raises)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
    }


def _value(metrics: str, name: str, **labels: str) -> float | None:
    return _samples(metrics).get((name, tuple(sorted(labels.items()))))


def _scrape(base_url: str) -> str:
    with client(base_url) as http:
        answer = http.get("/metrics")
    assert answer.status_code == 200, answer.text
    return answer.text


def test_an_order_no_worker_takes_shows_as_backlog_that_ages_until_a_worker_takes_it(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    db_path = tmp_path / "backlog.db"
    server = orderhub_procs.serve(db_path, extra_args=["--no-worker"])
    token = get_token(server.base_url)
    order_id = place_order(server.base_url, token, f"backlog-{uuid.uuid4().hex[:8]}@example.com")

    # Nothing fulfils it: the API process shows it due, and for longer and longer.
    first = _scrape(server.base_url)
    assert _value(first, "orderhub_orders_due", dialect="esim-v1") == 1.0, first
    wait_until(
        lambda: (_value(_scrape(server.base_url), "orderhub_orders_due_oldest_seconds") or 0.0) > 0.0,
        timeout=10,
        message="the backlog's age to grow",
    )
    # serve --no-worker runs no background loop: no age is made up for one.
    assert "orderhub_loop_progress_age_seconds{" not in first, first

    port = free_port()
    worker = orderhub_procs.spawn(["worker", "--db", sqlite_url(db_path), "--host", HOST, "--port", str(port)])
    worker_url = f"http://{HOST}:{port}"

    def worker_answers() -> bool:
        assert worker.popen.poll() is None, worker.log()
        try:
            return httpx.get(f"{worker_url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(worker_answers, timeout=30, interval=0.1, message="the worker's /healthz")
    wait_until(
        lambda: get_order(server.base_url, token, order_id)["status"] == "COMPLETED",
        timeout=20,
        message="the worker to complete the order",
    )
    worked_off = _scrape(worker_url)
    assert _value(worked_off, "orderhub_orders_due_oldest_seconds") == 0.0, worked_off
    for loop in ("worker", "event_dispatcher"):
        age = _value(worked_off, "orderhub_loop_progress_age_seconds", loop=loop)
        assert age is not None and age >= 0.0, worked_off
    # The API process read the backlog while it was there; worked off, its API shows 0, not nothing.
    after = _scrape(server.base_url)
    assert _value(after, "orderhub_orders_due", dialect="esim-v1") == 0.0, after


def test_a_listener_that_cannot_be_reached_counts_as_failing(orderhub_procs: OrderhubProcesses, tmp_path: Path) -> None:
    loopback_listeners = {"ORDERHUB_HUB_ALLOWED_NETWORKS": "127.0.0.0/8", "ORDERHUB_HUB_RETRY_SECONDS": "1"}
    server = orderhub_procs.serve(tmp_path / "listeners.db", env=loopback_listeners)
    assert _value(_scrape(server.base_url), "orderhub_hub_listeners_failing") == 0.0
    with client(server.base_url) as http:
        token = http.post(
            "/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": str(CHANNELS[0]["client_id"]),
                "client_secret": str(CHANNELS[0]["client_secret"]),
            },
        ).json()["access_token"]
        callback = f"http://127.0.0.1:{unused_port()}/events"  # nothing listens there
        registered = http.post(f"{BASE}/hub", json={"callback": callback}, headers=auth(token))
        assert registered.status_code == 201, registered.text
        create(http, token, order_body())
    wait_until(
        lambda: _value(_scrape(server.base_url), "orderhub_hub_listeners_failing") == 1.0,
        timeout=20,
        message="the listener to count as failing",
    )
    failed = _value(_scrape(server.base_url), "orderhub_events_sent_total", outcome="failed")
    assert failed is not None and failed >= 1.0


def test_every_metric_readme_names_is_served_in_valid_exposition(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    server = orderhub_procs.serve(tmp_path / "names.db")
    token = get_token(server.base_url)
    place_order(server.base_url, token, f"names-{uuid.uuid4().hex[:8]}@example.com")
    metrics = _scrape(server.base_url)
    served = {name for name, _labels in _samples(metrics)}  # parses the whole scrape
    served |= {re.sub(r"_(bucket|count|sum|created)$", "", name) for name in served}
    named = set(re.findall(r"\borderhub_[a-z_]+[a-z]\b", README.read_text()))
    # Counters no process has counted yet show their HELP and TYPE lines only.
    declared = set(re.findall(r"^# TYPE (orderhub_\w+) ", metrics, re.M))
    declared |= {f"{name}_total" for name in declared}
    missing = sorted(name for name in named if name not in served | declared)
    assert not missing, f"README names metrics /metrics does not serve: {missing}"
