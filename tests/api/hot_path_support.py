"""What the hot-path comparison tests share: one set of services on a small database (a SQLite file, or
a PostgreSQL database of its own when ``ORDERHUB_TEST_POSTGRES`` is set), and each request asked of the
application with and without its hot routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp

from orderhub.api.app import create_app
from orderhub.bootstrap import Services, build_services
from orderhub.services.demo import load_demo_data
from orderhub.settings import Settings
from tests.demo_databases import demo_database_url

# The two applications (with and without hot routes) over each set of services demo_services holds,
# built on first use: create_app costs ~60 ms (FastAPI builds every route), more than most comparisons.
_APPS: dict[int, dict[bool, ASGIApp]] = {}


@contextmanager
def demo_services(path: Path, *, inventory_size: int = 50) -> Iterator[Services]:
    """Services over a migrated database with the demo data; bodies are capped at 4 KiB."""
    built = build_services(Settings(database_url=demo_database_url(path, inventory_size), max_body_bytes=4096))
    built.migrate()
    load_demo_data(built.uow_factory, inventory_size=inventory_size)
    _APPS[id(built)] = {}
    try:
        yield built
    finally:
        del _APPS[id(built)]  # before the id can name other services
        built.close()


def application(services: Services, hot: bool, *, fresh: bool = False) -> ASGIApp:
    """The services' application with or without hot routes, the same one each time unless ``fresh``:
    a new one then, with per-application state of its own (the dialects' rate limiter)."""
    if fresh:
        return create_app(services, run_worker=False, hot_paths=hot)
    apps = _APPS[id(services)]
    if hot not in apps:
        apps[hot] = create_app(services, run_worker=False, hot_paths=hot)
    return apps[hot]


def session(
    services: Services, hot: bool, requests: list[tuple[str, str, dict[str, Any]]], *, fresh: bool = False
) -> list[httpx.Response]:
    """The requests in turn on one application (so on one rate limiter), with or without hot routes."""

    async def go() -> list[httpx.Response]:
        app = application(services, hot, fresh=fresh)
        transport = httpx.ASGITransport(app=app)
        async with running(app, fresh), httpx.AsyncClient(transport=transport, base_url="http://orderhub.test") as http:
            return [await http.request(method, path, **kwargs) for method, path, kwargs in requests]

    return asyncio.run(go())


@asynccontextmanager
async def running(app: ASGIApp, lifespan: bool) -> AsyncIterator[None]:
    """The application's lifespan around its requests, as a server runs it, when ``lifespan``: a fresh
    application ends with the session (its rate limiter's sync with it)."""
    if not lifespan:
        yield
        return
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    serving = asyncio.ensure_future(app(scope, received.get, sent.put))  # type: ignore[arg-type]
    await received.put({"type": "lifespan.startup"})
    assert (await sent.get())["type"] == "lifespan.startup.complete"
    try:
        yield
    finally:
        await received.put({"type": "lifespan.shutdown"})
        assert (await sent.get())["type"] == "lifespan.shutdown.complete"
        await serving


def ask(services: Services, hot: bool, method: str, path: str, **kwargs: Any) -> httpx.Response:
    (answer,) = session(services, hot, [(method, path, kwargs)])
    return answer


def ask_fresh(services: Services, hot: bool, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """As ``ask``, of an application built for this request alone."""
    (answer,) = session(services, hot, [(method, path, kwargs)], fresh=True)
    return answer
