"""What the hot-path comparison tests share: one set of services on a small database (a SQLite file, or
a PostgreSQL database of its own when ``ORDERHUB_TEST_POSTGRES`` is set), and each request asked of the
application with and without its hot routes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from orderhub.api.app import create_app
from orderhub.bootstrap import Services, build_services
from orderhub.services.demo import load_demo_data
from orderhub.settings import Settings
from tests.databases import database_url


@contextmanager
def demo_services(path: Path, *, inventory_size: int = 50) -> Iterator[Services]:
    """Services over a migrated database with the demo data; bodies are capped at 4 KiB."""
    built = build_services(Settings(database_url=database_url(path), max_body_bytes=4096))
    built.migrate()
    load_demo_data(built.uow_factory, inventory_size=inventory_size)
    try:
        yield built
    finally:
        built.close()


def session(services: Services, hot: bool, requests: list[tuple[str, str, dict[str, Any]]]) -> list[httpx.Response]:
    """The requests in turn on one application (so on one rate limiter), with or without hot routes."""

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(services, run_worker=False, hot_paths=hot))
        async with httpx.AsyncClient(transport=transport, base_url="http://orderhub.test") as http:
            return [await http.request(method, path, **kwargs) for method, path, kwargs in requests]

    return asyncio.run(go())


def ask(services: Services, hot: bool, method: str, path: str, **kwargs: Any) -> httpx.Response:
    (answer,) = session(services, hot, [(method, path, kwargs)])
    return answer
