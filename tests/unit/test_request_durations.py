"""The request-duration histogram: Prometheus's bucket semantics (le: at most the bound), cumulative."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from orderhub.metrics import RequestDurations


def test_each_duration_counts_in_every_bucket_at_or_above_it() -> None:
    durations = RequestDurations("t_seconds", "test", buckets=(0.01, 0.1, 1))
    registry = CollectorRegistry()
    registry.register(durations)
    for seconds in (0.001, 0.01, 0.0101, 0.5, 7):
        durations.observe("esim-v1", "GET", 200, seconds)
    durations.observe("esim-v1", "POST", 201, 0.2)

    text = generate_latest(registry).decode()

    def value(series: str) -> float:
        line = next(line for line in text.splitlines() if line.startswith(series + " "))
        return float(line.rsplit(" ", 1)[1])

    get = 'api="esim-v1",le="{}",method="GET",status="200"'
    assert value("t_seconds_bucket{" + get.format("0.01") + "}") == 2  # 0.01 itself is in le="0.01"
    assert value("t_seconds_bucket{" + get.format("0.1") + "}") == 3
    assert value("t_seconds_bucket{" + get.format("1.0") + "}") == 4
    assert value("t_seconds_bucket{" + get.format("+Inf") + "}") == 5
    assert value('t_seconds_count{api="esim-v1",method="GET",status="200"}') == 5
    assert abs(value('t_seconds_sum{api="esim-v1",method="GET",status="200"}') - 7.5211) < 1e-9
    assert value('t_seconds_count{api="esim-v1",method="POST",status="201"}') == 1
