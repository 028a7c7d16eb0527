"""API tests: the real application served over real HTTP (uvicorn, loopback) on a real SQLite file."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from orderhub.observability import JsonFormatter
from tests.api.support import RunningServer, get_token, running_server

# The hot routes of esim-v1, tmf-productorder and onapi-order take a cached caller on PostgreSQL that
# the order's write then checks (services.auth.Caller), where their FastAPI routes read the config
# version first: compared on both.


@pytest.fixture(autouse=True, scope="session")
def session_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every log line of the API test run, formatted as in production (test_zz_log_scan reads it)."""
    path = tmp_path_factory.mktemp("logs") / "api-tests.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        handler.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    # The worker poll is 30 s: orders complete quickly only because acceptance wakes the worker.
    with running_server(tmp_path_factory.mktemp("api") / "orderhub.db") as running:
        yield running


@pytest.fixture
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


@pytest.fixture(scope="session")
def tokens(server: RunningServer) -> dict[str, str]:
    with server.client() as http:
        return {
            name: get_token(http, name, f"{name}-secret")
            for name in ("demo-reseller-1", "demo-reseller-2", "demo-account-manager")
        }


@pytest.fixture
def reseller(tokens: dict[str, str]) -> str:
    return tokens["demo-reseller-1"]
