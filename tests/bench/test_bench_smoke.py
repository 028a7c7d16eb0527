"""The benchmark's smoke mode runs end to end: both servers, every scenario, wrk, JSON and chart.

It asserts nothing about speed (that is for bench/README.md's full runs), only that the benchmark still
works and that every scenario got answers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
# The PostgreSQL server ./dev test checked is there (the benchmark makes its own database on it).
POSTGRES = os.environ.get("ORDERHUB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


# Its databases' fill (2,000 orders, 30,000 profiles) and every scenario's servers are CPU work: a
# couple of minutes with the suite's other passes on two cores, more than five on a machine busier still.
# Its time is not what it checks.
@pytest.mark.timeout(900)
def test_the_benchmark_smoke_run_measures_every_scenario(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--out", str(tmp_path), "--postgres", POSTGRES],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    document = json.loads((tmp_path / "latest.json").read_text())
    scenarios = {row["scenario"] for row in document["load"]}
    assert {"baseline POST", "baseline GET", "esim-v1 accept (NEW_ESIM)", "esim-v1 GET order"} <= scenarios
    assert {"esim-v1 accept, paced 50 %", "esim-v1 accept, paced 80 %"} <= scenarios
    other_apis = {"tmf-productorder POST (Addon)", "TMF622 POST productOrder (Addon)", "onapi-order POST (RECEIVED)"}
    assert other_apis <= scenarios
    assert any("stored" in name for name in scenarios)
    # The stored accept and GET measured in turns with the empty database's, whose server stayed up.
    assert {"esim-v1 GET order, empty (turn 1)", "esim-v1 GET order, 2k stored (turn 1)"} <= scenarios
    assert {"esim-v1 accept, empty (turn 1)", "esim-v1 accept, 2k stored (turn 1)"} <= scenarios
    assert document["stored_get_share_of_empty"] > 0 and document["stored_accept_share_of_empty"] > 0
    assert {"PostgreSQL, 1 API: esim-v1 accept", "PostgreSQL, 2 API: esim-v1 accept"} <= scenarios
    # Every request answered as expected (201 for orders, 200 for reads): an error is a bug, not slowness.
    assert all(row["rps"] > 0 and row["errors"] == 0 for row in document["load"]), document["load"]
    assert document["sustained"]["completion"]["orders"] > 0
    assert document["machine"]["cores"] >= 1
    assert (tmp_path / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_the_instruction_count_counts_orders_and_gets() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.instructions", "--orders", "64"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    row = next(line for line in done.stdout.splitlines() if line.startswith("this checkout"))
    accept, get = (int(figure.replace(",", "")) for figure in row.split()[-2:])
    # An order is hundreds of thousands of instructions, a GET tens of thousands: a count of nothing
    # (instrumentation never switched on) or of everything (never switched off) would be far off.
    assert 200_000 < accept < 20_000_000
    assert 20_000 < get < accept


def test_the_remote_postgresql_run_places_orders_through_the_delaying_proxy_for_each_checkout() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.remote_pg", "--postgres", POSTGRES, "--src", str(REPO / "src"),
         "--orders", "64", "--rounds", "1", "--delay-ms", "0.1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    means = {line.split()[0]: float(line.split()[-1]) for line in done.stdout.splitlines() if " mean " in line}
    assert set(means) == {"this", "--src"}, done.stdout
    assert all(rate > 0 for rate in means.values())


def test_the_mixed_postgresql_run_orders_alone_and_under_polling() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.mixed_pg", "--postgres", POSTGRES,
         "--rounds", "1", "--duration", "1", "--polling", "8", "--ordering", "2"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith(("this checkout", "--src"))]
    assert len(rows) == 1, done.stdout
    for row in rows:
        alone, polled, gets, errors = float(row[-7]), float(row[-5]), float(row[-2]), int(row[-1])
        assert alone > 0 and polled > 0 and gets > 0 and errors == 0, row
