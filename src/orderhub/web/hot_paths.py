"""Serving the busiest routes without the web framework's per-request machinery.

FastAPI costs about 0.8 ms of CPU per request in dependency solving, validation plumbing and its
middleware stack (measured in bench/README.md): more than the order itself. A dialect may therefore
hand its hottest routes to a plain ASGI handler that answers byte for byte as its FastAPI routes do;
the FastAPI routes stay declared, so the OpenAPI document and every other route are unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Receive, Scope, Send

# Given a request, the handler that serves it fast, or None to leave it to the framework.
HotRoute = Callable[[Scope], Callable[[Scope, Receive, Send], Awaitable[None]] | None]


class HotPathRouter:
    """Sends the requests a hot route claims to ``hot_stack`` (which calls the route's handler, kept in
    ``scope["orderhub.handler"]``) and everything else, lifespan included, to ``app``."""

    def __init__(self, app: ASGIApp, routes: list[tuple[HotRoute, ASGIApp]]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for claims, stack in self.routes:
                handler = claims(scope)
                if handler is not None:
                    scope["orderhub.handler"] = handler
                    await stack(scope, receive, send)
                    return
        await self.app(scope, receive, send)


async def call_claimed_handler(scope: Scope, receive: Receive, send: Send) -> None:
    """The innermost app of a hot stack: the handler the route claimed the request for."""
    await scope["orderhub.handler"](scope, receive, send)
