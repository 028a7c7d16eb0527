"""What a dialect gets to work with: the use cases and the settings, nothing of the wiring."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp

from orderhub.services.access_orders import AccessQueries
from orderhub.services.auth import AuthService
from orderhub.services.catalog import CatalogService
from orderhub.services.customer_erasure import EraseCustomer
from orderhub.services.hub import HubService, PendingEvent
from orderhub.services.inventory import InventoryService
from orderhub.services.line_orders import LineService
from orderhub.services.order_changes import OrderChanges
from orderhub.services.ordering import OrderingService
from orderhub.services.rate_limits import RateLimiter
from orderhub.settings import Settings
from orderhub.web.hot_paths import HotRoute, HotStack


@dataclass(frozen=True)
class DialectContext:
    settings: Settings
    auth: AuthService
    ordering: OrderingService
    catalog: CatalogService
    inventory: InventoryService
    lines: LineService
    changes: OrderChanges
    hub: HubService
    accesses: AccessQueries
    # Per-partner request budgets, one per application: a dialect's hot routes and its framework routes
    # draw on the same one (on PostgreSQL shared with the other API processes: Services.new_rate_limiter).
    rate_limiter: RateLimiter = field(default_factory=RateLimiter)


@dataclass(frozen=True)
class Dialect:
    """A partner API served under ``prefix``: its FastAPI app (routes, OpenAPI document) and, optionally,
    the routes it serves as plain ASGI (web.hot_paths)."""

    name: str
    prefix: str
    create_app: Callable[[DialectContext], ASGIApp]
    create_hot_routes: Callable[[DialectContext], tuple[HotRoute, HotStack]] | None = None
    # Further prefixes serving the same API (e.g. a shorter path partners already call).
    aliases: tuple[str, ...] = ()
    # How this API's listeners receive an order event (the body posted to them), given the public
    # base URL for absolute links; set by a dialect that has a hub.
    render_event: Callable[[PendingEvent, str], dict[str, Any]] | None = None
    # The API's error shape for HTTP-level answers (404, 405) given outside its own app: a path
    # under the prefix that the mount itself cannot take (e.g. one holding a control character).
    render_http_error: Callable[[int, str], Response] | None = None
    # Where this API's orders keep their customer's personal data (`orderhub customer erase`).
    erase_customer: EraseCustomer | None = None
    # The prefix alone (``/2.5``) is the API's root as the prefix with its slash is: for an API that
    # serves each of its paths with and without the trailing slash (onapi-order).
    root_without_slash: bool = False
    # X-Correlation-ID is this API's idempotency key (tmf-productorder), not only a log key: two such
    # fields of different values are refused with the head (web.request_head), as two Idempotency-Keys are.
    keyed_by_correlation_id: bool = False

    @property
    def prefixes(self) -> tuple[str, ...]:
        return (self.prefix, *self.aliases)
