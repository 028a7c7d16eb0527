"""The access log of a real ``orderhub serve``: a JSON line per request, masked, in order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.support import OrderhubProcesses, api_headers, client, get_token, wait_until

pytestmark = pytest.mark.integration


def _access_lines(log: str) -> list[dict[str, object]]:
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return [entry for entry in entries if entry.get("logger") == "orderhub.access"]


def test_every_request_gets_one_masked_access_line_in_order(orderhub_procs: OrderhubProcesses, tmp_path: Path) -> None:
    server = orderhub_procs.serve(tmp_path / "x.db")
    token = get_token(server.base_url)
    sent = [f"/esim/v1/order/unknown-{n}" for n in range(20)] + ["/esim/v1/order/jane.doe@example.com"]
    with client(server.base_url) as http:
        for number, path in enumerate(sent):
            answer = http.get(path, headers=api_headers(token, correlation_id=f"access-{number}"))
            assert answer.status_code == 404, answer.text

    # Written at the end of the event loop's turn that answered them, not at shutdown. (Counted by their
    # own path: the readiness polls and the sign-in have lines too, which made the count early under load.)
    def esim_lines() -> list[dict[str, object]]:
        return [entry for entry in _access_lines(server.log(10**7)) if str(entry.get("path", "")).startswith("/esim/")]

    wait_until(lambda: len(esim_lines()) >= len(sent), timeout=10, message="access lines")
    log = server.log(10**7)
    lines = esim_lines()
    assert [entry["correlation_id"] for entry in lines] == [f"access-{n}" for n in range(len(sent))]
    assert {(entry["method"], entry["status"]) for entry in lines} == {("GET", 404)}
    assert lines[-1]["path"] == "/esim/v1/order/j***@example.com"
    assert lines[-1]["message"] == "GET /esim/v1/order/j***@example.com 404"
    assert all(isinstance(entry["duration_ms"], float) and entry["level"] == "INFO" for entry in lines)
    assert "jane.doe@" not in log
