"""The instruction count (``./dev bench instructions``) counts orders and GETs: valgrind, no database server.
./dev test runs it in a SQLite pass, apart from the smoke runs' PostgreSQL pass, to even out the passes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


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
