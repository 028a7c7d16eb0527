"""Schemathesis over every served OpenAPI document, authenticated: no 5xx, every status code and body as
documented (each API's own error shape included); on PostgreSQL without the stateful phase and with fewer
examples. Bounded for CI; for a release run it longer (every phase, on either database, that many examples
an operation): ``ORDERHUB_SCHEMATHESIS_EXAMPLES=500 ./dev test tests/api/test_schemathesis.py``."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.support import RunningServer, get_token, running_server
from tests.databases import on_postgres

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
CHOSEN_EXAMPLES = os.environ.get("ORDERHUB_SCHEMATHESIS_EXAMPLES")
EXAMPLES = CHOSEN_EXAMPLES or "25"
# A run's time grows with its examples (1,000 took over 5 minutes for each TMF API on a busy 2-core
# machine), so its bound does too: a longer run is not cut off by the suite's 300 s per test.
RUN_SECONDS = 240 + 3 * int(EXAMPLES)
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    # Its own server: the fuzzer creates orders, listeners and cancellations by the hundred.
    with running_server(tmp_path_factory.mktemp("fuzz") / "orderhub.db") as running:
        yield running


def examples_for_ci() -> str:
    """Examples an operation, as a Schemathesis configuration. What CI's minutes go to: on SQLite every
    phase, the stateful one (its cases are sequences of requests, and the slowest to draw) with fewer; on
    PostgreSQL, whose run looks for what the other database does differently (the coverage phase's edge
    values, run whole whatever the number), fewer throughout. A chosen number applies everywhere."""
    if CHOSEN_EXAMPLES:
        return f"[generation]\nmax-examples = {int(CHOSEN_EXAMPLES)}\n"
    if on_postgres():
        return "[generation]\nmax-examples = 10\n"
    return f"[generation]\nmax-examples = {EXAMPLES}\n\n[phases.stateful.generation]\nmax-examples = 10\n"


def api_headers(server: RunningServer, api: str) -> list[str]:
    with server.client() as http:
        if api == "esim-v1":
            return [f"Authorization: Bearer {get_token(http, 'demo-reseller-1', 'demo-reseller-1-secret')}",
                    "X-Correlation-ID: fuzz-esim"]  # fmt: skip
        if api == "tmf622":
            return [f"Authorization: Bearer {get_token(http, 'demo-channel-2', 'demo-channel-2-secret')}"]
    if api == "tmf-productorder":
        return ["client_id: demo-channel-2", "client_secret: demo-channel-2-secret", "X-Correlation-ID: fuzz-tmf"]
    basic = base64.b64encode(b"demo-co-acme:demo-co-acme-secret").decode()
    return [f"Authorization: Basic {basic}"]


@pytest.mark.timeout(RUN_SECONDS + 60)
@pytest.mark.parametrize(
    ("api", "prefix"),
    [
        ("esim-v1", "/esim/v1"),
        ("tmf-productorder", "/emida-ux-lcr/emida-ux/v1"),
        ("tmf622", "/tmf-api/productOrderingManagement/v4"),
        ("onapi-order", "/2.5"),
    ],
)
def test_every_answer_is_as_documented(fuzzed: RunningServer, api: str, prefix: str, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(examples_for_ci())
    argv = [str(SCHEMATHESIS), "--config-file", str(config), "run", f"{fuzzed.base_url}{prefix}/openapi.json"]
    argv += ["--url", f"{fuzzed.base_url}{prefix}", "--checks", CHECKS, "--seed", "20261124", "--no-color"]
    if on_postgres():
        # The stateful phase (each created resource followed through its links) is most of a run's time and
        # asks nothing of the database that the SQLite pass's run does not: PostgreSQL gets the input fuzzing.
        argv += ["--phases", "examples,coverage,fuzzing"]
    for header in api_headers(fuzzed, api):
        argv += ["-H", header]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=RUN_SECONDS, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
