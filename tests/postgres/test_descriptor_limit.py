"""A descriptor limit too low to serve on PostgreSQL is refused at start, in one line.

On PostgreSQL the database connections are opened as they are first needed, so a process with 40
descriptors used to start, and then answered its probes 503 and orders 500 (no descriptor left for a
writer's or a reading thread's connection), having said nothing at start."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest

from tests.integration.support import HOST, base_env, free_port


def _few_descriptors() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (40, 40))


@pytest.mark.parametrize("command", [["serve", "--no-worker", "--host", HOST, "--port", str(free_port())], ["worker"]])
def test_a_limit_too_low_to_serve_is_one_line_and_exit_1(pg_url: str, command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "orderhub", *command, "--db", pg_url],
        env=base_env({"COLUMNS": "300"}), capture_output=True, text=True, timeout=10, preexec_fn=_few_descriptors,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    said = [line for line in done.stderr.splitlines() if not line.startswith('{"ts"')]
    assert said == [
        "error: too many open files: this process may open 40; raise the limit (`ulimit -n 65536`) and start again"
    ], done.stderr
