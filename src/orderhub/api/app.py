"""The application factory: health, OAuth2 and every dialect, over one set of services."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from orderhub import __version__
from orderhub.access_facts import note_refusal
from orderhub.api.health import health_router
from orderhub.api.oauth import TOKEN_PATH, method_not_allowed, token_router
from orderhub.bootstrap import Services
from orderhub.dialects import DIALECTS, DialectContext
from orderhub.metrics import register_api
from orderhub.services.ports import DatabaseUnavailable
from orderhub.web.hot_paths import HotPathRouter, HotRoute, HotStack
from orderhub.web.middleware import HeadAsGetMiddleware, RequestContextMiddleware, UnexpectedErrorMiddleware
from orderhub.web.openapi_answers import name_the_public_server, offer_client_credentials

log = logging.getLogger("orderhub")
_STATUS_NAMES = {status.value: status.name for status in HTTPStatus}


def _server_error() -> JSONResponse:
    # The token endpoint's shape (RFC 6749 §5.2 server_error), for every route outside the dialects.
    body = {"error": "server_error", "error_description": "internal error; quote the X-Correlation-ID to support"}
    note_refusal("server_error")
    return JSONResponse(body, status_code=500, headers={"Cache-Control": "no-store"})


_RENDERERS = [
    (prefix, dialect.render_http_error)
    for dialect in DIALECTS
    if dialect.render_http_error is not None
    for prefix in dialect.prefixes
]

# The paths under which X-Correlation-ID names the request a retry repeats (Dialect.keyed_by_correlation_id).
CORRELATION_KEYED_PREFIXES = tuple(
    prefix for dialect in DIALECTS if dialect.keyed_by_correlation_id for prefix in dialect.prefixes
)


def _renderer_for(path: str) -> Callable[[int, str], Response] | None:
    """The error shape of the API whose prefix ``path`` is under, if any."""
    for prefix, render in _RENDERERS:
        if path.startswith(prefix + "/") or path == prefix:
            return render
    return None


def not_http_answer(path: str, status: int, message: str) -> Response:
    """The answer to a request the server refused before any route (web.parser_refusals: not HTTP, a
    head too large, a transfer coding not implemented), in the error shape of the API its path names,
    if its path could be read."""
    render = _renderer_for(path)
    if render is not None:
        return render(status, message)
    if path.startswith("/oauth2/"):
        note_refusal("invalid_request")  # the access line's reason, as the token endpoint's own errors
        body = {"error": "invalid_request", "error_description": message}
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
    return _outside_the_apis(status, message)


def _outside_the_apis(status: int, detail: object, headers: Mapping[str, str] | None = None) -> Response:
    """The framework's ``{"detail": …}`` answer to a path under no API (a mistyped path, a method /healthz
    does not take), its status's name as the access line's reason, so that such refusals can be counted
    and told apart like every API's."""
    if status in _STATUS_NAMES:  # a status the standard library does not name gets no reason, not a made-up one
        note_refusal(_STATUS_NAMES[status])
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


class _AtItsRoot:
    """A request for an API's bare prefix (``/2.5``), handed to the API's app as its root (``/2.5/``), the
    path its mount takes: served, not redirected (a redirect would come before authentication, to a
    ``Location`` built from the client's ``Host``)."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A scope of its own: the access line names the path as it was asked.
        root = {"path": scope["path"] + "/", "raw_path": scope.get("raw_path", self.prefix.encode()) + b"/"}
        await self.app({**scope, **root, "root_path": scope.get("root_path", "") + self.prefix}, receive, send)


def dialect_context(services: Services) -> DialectContext:
    """What the dialects of one application work with (one rate limiter among them)."""
    return DialectContext(
        settings=services.settings,
        auth=services.auth,
        ordering=services.ordering,
        catalog=services.catalog,
        inventory=services.inventory,
        lines=services.lines,
        changes=services.changes,
        hub=services.hub,
        accesses=services.accesses,
        rate_limiter=services.new_rate_limiter(),
    )


def _load_before_serving(services: Services) -> None:
    """What requests would otherwise load on first use, when the process may have no file descriptor
    left to load it with (and answer 500; after an order's commit too): anyio's asyncio backend, which
    runs every route or dependency declared with plain ``def`` (/healthz) on its threads and is imported
    by the first such call, and every business unit's time zone (domain.zones). A database that cannot
    be read now leaves a unit's zone to be read with the unit, before its first order."""
    importlib.import_module("anyio._backends._asyncio")
    try:
        services.lines.read_zones()
    except DatabaseUnavailable as exc:
        log.warning("business units' time zones not read at start-up (%s): read with their first order", exc)


def create_app(
    services: Services, *, run_worker: bool = True, hot_paths: bool = True, close_at_stop: bool = False
) -> ASGIApp:
    """The ASGI application. ``hot_paths=False`` serves every route through FastAPI (tests compare both);
    ``close_at_stop`` closes the services when the server stops (`orderhub serve`: the server re-raises
    the signal that stopped it once it is done, so nothing after it runs)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if run_worker:
            services.worker.start()
            services.hub_dispatcher.start()
        try:
            yield
        finally:
            await context.rate_limiter.stop()
            if run_worker:
                services.hub_dispatcher.stop()
                services.worker.stop()
            if close_at_stop:
                services.close()

    # No redirect to the path with or without a trailing slash (esim-v1 says why): 404.
    app = FastAPI(
        title="orderhub", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None, redirect_slashes=False
    )
    app.add_middleware(UnexpectedErrorMiddleware, render_error=_server_error)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(
        health_router(services.engine, services.database, services.inventory, services.settings.metrics_token)
    )
    app.include_router(token_router(services.auth, body_timeout=services.settings.request_body_timeout_seconds))
    context = dialect_context(services)
    hot_routes: list[tuple[HotRoute, HotStack]] = []
    for dialect in DIALECTS:
        dialect_app = dialect.create_app(context)
        if isinstance(dialect_app, FastAPI):
            name_the_public_server(dialect_app, services.settings.public_url, dialect.prefix)
            if services.settings.public_url:  # OpenAPI 3.1: a token URL is absolute
                offer_client_credentials(dialect_app, services.settings.public_url.rstrip("/") + TOKEN_PATH)
        for prefix in dialect.prefixes:
            register_api(prefix, dialect.name)
            app.mount(prefix, dialect_app)
            if dialect.root_without_slash:
                app.router.routes.append(Route(prefix, _AtItsRoot(dialect_app, prefix), include_in_schema=False))
        if dialect.create_hot_routes is not None:
            hot_routes.append(dialect.create_hot_routes(context))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405 and request.url.path == TOKEN_PATH:
            return method_not_allowed()
        # A path under an API's prefix gets that API's error shape, even when its mount cannot take it.
        render = _renderer_for(request.url.path)
        if render is not None:
            answer = render(exc.status_code, str(exc.detail))
            answer.headers.update(exc.headers or {})
            return answer
        return _outside_the_apis(exc.status_code, exc.detail, exc.headers)

    app.state.services = services
    _load_before_serving(services)
    if not hot_paths or not hot_routes:
        return HeadAsGetMiddleware(app)
    # HEAD never takes a hot route (it is not busy): the framework's routes answer it as they do GET.
    return HotPathRouter(HeadAsGetMiddleware(app), hot_routes)
