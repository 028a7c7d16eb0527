"""The worker's operations endpoint over loopback HTTP, with its probes' answers given: a stalled loop
is a 503 /healthz, and a database that does not answer is a bounded 503 /readyz."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from orderhub.api.worker_ops import OpsEndpoint
from orderhub.probes import ProbeAnswer


@pytest.fixture
def stuck() -> Iterator[threading.Event]:
    released = threading.Event()
    yield released
    released.set()


def _endpoint(problems: list[str], readiness: ProbeAnswer | threading.Event) -> OpsEndpoint:
    def ready() -> ProbeAnswer:
        if isinstance(readiness, threading.Event):
            readiness.wait(10)  # a database that does not answer
            return ProbeAnswer(200, {"status": "ready"})
        return readiness

    endpoint = OpsEndpoint(
        "127.0.0.1", 0, liveness=lambda: problems, readiness=ready, refresh_metrics=lambda: None, answer_timeout=0.5
    )
    endpoint.start()
    return endpoint


def test_healthz_is_503_with_the_reason_while_a_loop_is_stalled() -> None:
    problems = ["worker loop made no progress for 31.0 s (the limit is 30.5 s)"]
    endpoint = _endpoint(problems, ProbeAnswer(200, {"status": "ready"}))
    try:
        stalled = httpx.get(f"{endpoint.url}/healthz")
        assert stalled.status_code == 503
        assert stalled.json() == {"status": "stalled", "reason": problems[0]}
        problems.clear()
        assert httpx.get(f"{endpoint.url}/healthz").json() == {"status": "ok"}
    finally:
        endpoint.stop()


def test_readyz_answers_503_in_time_when_the_database_does_not_answer(stuck: threading.Event) -> None:
    endpoint = _endpoint([], stuck)
    try:
        started = time.monotonic()
        answer = httpx.get(f"{endpoint.url}/readyz", timeout=5)
        assert time.monotonic() - started < 2
        assert answer.status_code == 503
        assert answer.json()["status"] == "unavailable"
        assert re.fullmatch(r"the database has not answered for \d+\.\d s", answer.json()["reason"]), answer.text
        assert int(answer.headers["retry-after"]) >= 1
        # Metrics still answer, with the gauges last read.
        assert httpx.get(f"{endpoint.url}/metrics", timeout=5).status_code == 200
    finally:
        endpoint.stop()


def test_readyz_probes_that_come_while_a_check_is_stuck_join_it_and_say_for_how_long(
    stuck: threading.Event,
) -> None:
    """Each probe started a check of its own on two threads: once both were stuck, the next probes queued
    behind them, and every one held a connection until the database answered."""
    checks: list[int] = []

    def ready() -> ProbeAnswer:
        checks.append(1)
        stuck.wait(10)  # a database that does not answer
        return ProbeAnswer(200, {"status": "ready"})

    endpoint = OpsEndpoint(
        "127.0.0.1", 0, liveness=list, readiness=ready, refresh_metrics=lambda: None, answer_timeout=0.3
    )  # fmt: skip
    endpoint.start()
    try:
        reasons = []
        for _ in range(4):
            answer = httpx.get(f"{endpoint.url}/readyz", timeout=3)
            assert answer.status_code == 503, answer.text
            reasons.append(answer.json()["reason"])
        assert len(checks) == 1, reasons
        seconds = [float(re.search(r"for (\S+) s", reason).group(1)) for reason in reasons]  # type: ignore[union-attr]
        assert seconds == sorted(seconds) and seconds[-1] >= 1.2, reasons
        stuck.set()  # the database answers: the next probe has the check's answer, or starts one
        deadline = time.monotonic() + 5
        while (answer := httpx.get(f"{endpoint.url}/readyz", timeout=3)).status_code != 200:
            assert time.monotonic() < deadline, answer.text
        assert answer.json() == {"status": "ready"}
    finally:
        endpoint.stop()


def test_metrics_answer_while_a_gauge_read_is_stuck_and_scrapes_meanwhile_start_no_other(
    stuck: threading.Event,
) -> None:
    reads: list[int] = []

    def read_levels() -> None:
        reads.append(1)
        stuck.wait(10)  # a database that does not answer

    endpoint = OpsEndpoint(
        "127.0.0.1",
        0,
        liveness=lambda: [],
        readiness=lambda: ProbeAnswer(200, {"status": "ready"}),
        refresh_metrics=read_levels,
        answer_timeout=5,
    )
    endpoint.start()
    try:
        for _ in range(3):
            assert httpx.get(f"{endpoint.url}/metrics", timeout=4).status_code == 200
        assert len(reads) == 1  # the later scrapes joined the read under way
        stuck.set()
        deadline = time.monotonic() + 5
        while len(reads) == 1 and time.monotonic() < deadline:  # once it ended, a scrape reads anew
            assert httpx.get(f"{endpoint.url}/metrics", timeout=4).status_code == 200
        assert len(reads) == 2
    finally:
        endpoint.stop()


def test_metrics_answer_only_the_token_when_one_is_set() -> None:
    endpoint = OpsEndpoint(
        "127.0.0.1", 0, liveness=list, readiness=lambda: ProbeAnswer(200, {}), refresh_metrics=lambda: None,
        answer_timeout=0.5, metrics_token="scrape-token-0123456789",
    )  # fmt: skip
    endpoint.start()
    try:
        wrong = ["Bearer scrape-token-012345678", "scrape-token-0123456789"]
        for sent in [{}] + [{"Authorization": value} for value in wrong]:
            refused = httpx.get(f"{endpoint.url}/metrics", headers=sent)
            assert refused.status_code == 401, sent
            assert refused.headers["www-authenticate"] == 'Bearer realm="orderhub-metrics"'
            assert "orderhub_" not in refused.text
        scraped = httpx.get(f"{endpoint.url}/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"})
        assert scraped.status_code == 200 and "orderhub_" in scraped.text
        assert httpx.get(f"{endpoint.url}/healthz").status_code == 200  # the probes need no token
    finally:
        endpoint.stop()
