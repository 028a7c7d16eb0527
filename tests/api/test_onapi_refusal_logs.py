"""An onapi-order order refused at intake (REJECTED, nothing stored) leaves one INFO line: the partner,
the coAccessId, the refusal's reason code and the request's correlation id; no customer data."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from orderhub.observability import JsonFormatter
from tests.api.support import running_server
from tests.api.test_onapi import send, valid_body


def test_a_refused_order_is_logged_once_with_its_reason_code_and_no_customer_data(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with running_server(tmp_path / "refusals.db") as server, server.client() as http:
        refused = send(
            http, valid_body("access-free-1", product="iptv", offering="premium"), **{"X-Correlation-ID": "co-77"}
        )
        assert refused.json()["status"] == "REJECTED", refused.text
        unknown = send(http, valid_body("no-such-access", product="iptv", offering="basic"))
        assert unknown.json()["status"] == "REJECTED", unknown.text
        accepted = send(
            http, valid_body("access-free-2", product="iptv", offering="basic"), **{"X-Correlation-ID": "co-78"}
        )
        assert accepted.json()["status"] == "ACTIVATED", accepted.text

    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records]
    said = [json.loads(line) for line in lines if "refused" in line]
    assert [(e["level"], e["message"]) for e in said] == [
        ("INFO", "onapi-order refused: partner demo-co-acme, coAccessId access-free-1, reason offering_not_available"),
        ("INFO", "onapi-order refused: partner demo-co-acme, coAccessId no-such-access, reason access_not_found"),
    ]
    assert said[0]["correlation_id"] == "co-77"
    joined = "\n".join(lines)
    for personal in ("Anna", "Berg", "anna@example.se", "19121212", "+4670"):
        assert personal not in joined
