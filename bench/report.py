"""The run's figures as a table on the terminal, a JSON document and a PNG chart."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.load import LoadResult
from bench.servers import REPO


def machine_facts() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO).stdout
    versions: dict[str, str | None] = {}
    for package in ("uvicorn", "uvloop", "httptools", "fastapi", "sqlalchemy", "orjson"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": versions,
        "commit": commit.strip(),
    }


def table(results: list[LoadResult], ratios: dict[tuple[str, int], float | None]) -> str:
    width = max([34, *(len(result.scenario) for result in results)])
    header = f"{'scenario':<{width}} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'ratio':>7}"
    lines = [header, "-" * len(header)]
    for result in results:
        ratio = ratios.get((result.scenario, result.connections))
        shown = f"{ratio:.3f}" if ratio is not None else "-"
        lines.append(
            f"{result.scenario:<{width}} {result.connections:>5} {result.rps:>9.0f} {result.p50_ms:>8.2f}"
            f" {result.p99_ms:>8.2f} {result.errors:>7} {shown:>7}"
        )
    return "\n".join(lines)


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")


def write_chart(path: Path, document: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = document["load"]
    figure, (bars, backlog) = plt.subplots(2, 1, figsize=(12, 9), gridspec_kw={"height_ratios": [3, 2]})
    labels = [f"{r['scenario']}\n@{r['connections']}" for r in results]
    values = [r["rps"] for r in results]
    drawn = bars.bar(
        range(len(values)), values, color=["#999" if "baseline" in r["scenario"] else "#3a7" for r in results]
    )
    for bar, result in zip(drawn, results, strict=True):
        if result.get("ratio") is not None:
            bars.annotate(
                f"{result['ratio']:.0%}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
            )
    bars.set_xticks(range(len(values)), labels, rotation=60, ha="right", fontsize=7)
    bars.set_ylabel("requests / s")
    facts = document["machine"]
    bars.set_title(f"orderhub {facts['commit']} vs bare ASGI, {facts['cores']} cores, {facts['cpu'][:50]}", fontsize=9)
    sustained = document.get("sustained") or {}
    samples = sustained.get("backlog", [])
    if samples:
        backlog.plot([s[0] for s in samples], [s[1] for s in samples], label="orders not yet final")
        backlog.plot([s[0] for s in samples], [s[2] / 1e6 for s in samples], label="API RSS (MB)")
        backlog.set_xlabel("seconds into the sustained run")
        backlog.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
