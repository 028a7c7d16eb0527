"""Drives a server with wrk (a load generator that is not Python) and reads its figures."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"


@dataclass
class LoadResult:
    scenario: str
    connections: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def ensure_wrk() -> str:
    """wrk's path; installs Debian's package when it is missing and we may (CI runs as root)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
        if shutil.which("wrk") is None:
            subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("bench needs wrk: apt-get install wrk (Debian/Ubuntu) or brew install wrk")
    return found


def run_wrk(
    scenario: str, url: str, script: str, *, connections: int, seconds: float, env: dict[str, str]
) -> LoadResult:
    threads = min(2, connections)
    argv = [ensure_wrk(), f"-t{threads}", f"-c{connections}", f"-d{max(round(seconds), 1)}s"]
    argv += ["--timeout", "10s", "-s", str(LUA / script), url]
    run_env = {**os.environ, "BENCH_LUA_DIR": str(LUA), "BENCH_THREADS": str(threads), **env}
    done = subprocess.run(argv, capture_output=True, text=True, env=run_env, timeout=seconds + 60)
    line = next((row for row in done.stdout.splitlines() if row.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed for {scenario}:\n{done.stdout}\n{done.stderr}")
    figures = json.loads(line.removeprefix("BENCH "))
    duration = figures["duration_us"] / 1e6
    return LoadResult(
        scenario=scenario,
        connections=connections,
        seconds=round(duration, 2),
        requests=figures["requests"],
        rps=round(figures["requests"] / duration, 1) if duration else 0.0,
        p50_ms=round(figures["p50_us"] / 1000, 2),
        p99_ms=round(figures["p99_us"] / 1000, 2),
        errors=figures["socket_errors"] + figures["unexpected_status"],
    )
