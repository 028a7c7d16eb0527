"""`orderhub hub list`: a TMF622 listener's health without reading the database, credentials masked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orderhub.bootstrap import build_services
from orderhub.domain.changes import Listener
from orderhub.services.ports import UnitOfWork
from orderhub.settings import Settings
from tests.integration.support import run_cli

pytestmark = pytest.mark.integration


def test_hub_list_shows_each_listeners_health_with_its_credentials_masked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    services = build_services(Settings(database_url=url))
    services.migrate()
    for partner in ("shop", "kiosk"):
        services.partners.create_partner(partner, name=partner, roles=["BUSINESS_CHANNEL"], currencies=["USD"])
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    retry = now + timedelta(seconds=8)
    down = Listener("l-down", "shop", "https://hook:s3cr3t-pw@events.shop.example/in?api_key=k-123", None, now, 41)
    fine = Listener("l-fine", "kiosk", "https://kiosk.example/events", "eventType=ProductOrderStateChangeEvent", now, 7)

    def store(uow: UnitOfWork) -> None:
        for listener in (down, fine):
            uow.listeners.register(listener)
        for _ in range(3):
            error = "HTTP 503 from https://hook:s3cr3t-pw@events.shop.example"
            uow.listeners.failed("l-down", error, retry)

    services.database.write_now(store)
    services.close()

    shown = run_cli("hub", "list", "--json", "--db", url, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["listeners"] == [
        {
            "id": "l-fine", "partner": "kiosk", "callback": "https://kiosk.example/events",
            "query": "eventType=ProductOrderStateChangeEvent", "failures": 0, "last_error": None,
            "next_attempt": None, "delivered_event_id": 7,
        },
        {
            "id": "l-down", "partner": "shop", "callback": "https://***@events.shop.example/in?***",
            "query": None, "failures": 3, "last_error": "HTTP 503 from https://****@events.shop.example",
            "next_attempt": retry.isoformat(), "delivered_event_id": 41,
        },
    ]  # fmt: skip
    text = run_cli("hub", "list", "--partner", "shop", "--db", url, cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "l-down" in text.stdout and "l-fine" not in text.stdout
    assert "https://***@events.shop.example/in?***" in text.stdout and "HTTP 503" in text.stdout
    for secret in ("s3cr3t-pw", "k-123", "hook:"):
        assert secret not in shown.stdout + text.stdout
    none = run_cli("hub", "list", "--partner", "nobody", "--db", url, cwd=tmp_path)
    assert (none.returncode, none.stdout.strip()) == (0, "no listeners of nobody")
