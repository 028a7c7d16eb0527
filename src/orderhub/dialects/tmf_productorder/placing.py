"""What a productOrder POST does, whichever way it is served: by its FastAPI route (routes.py, which
also makes the OpenAPI document) or by its hot route (hot_routes.py). Both call these, in this order:
``caller`` (headers, credentials, business unit; ``orderer`` on the hot route), the Idempotency-Key
check, then ``place``."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from starlette.responses import Response

from orderhub.dialects.context import DialectContext
from orderhub.domain.errors import IdempotencyConflict, IdempotencyKeysDisagree
from orderhub.domain.lines import BusinessUnit
from orderhub.domain.partners import Principal
from orderhub.observability import correlation_id
from orderhub.services.auth import Caller
from orderhub.services.order_commands import PlaceOrder
from orderhub.web.json_response import json_response
from orderhub.web.middleware import MAX_CORRELATION_ID_LENGTH, correlation_id_valid

from . import mapping, wire
from .errors import TmfError

MIN_CREDENTIAL_LENGTH = 5
# X-Correlation-ID is this API's idempotency key: longer values would be cut (web.middleware), and two
# different ids must never count as one.
MAX_HEADER_LENGTH = MAX_CORRELATION_ID_LENGTH
CORRELATION_KEY_PREFIX = "x-correlation-id:"
MAX_IDEMPOTENCY_KEY_LENGTH = 255


def required_header(value: str | None, name: str, *, min_length: int = 1, visible_ascii: bool = False) -> str:
    if value is None or not value.strip():
        raise TmfError(400, "MISSING_HEADER", f"the {name} header is required", field=name)
    if len(value.strip()) < min_length:
        message = f"the {name} header must be at least {min_length} characters"
        raise TmfError(400, "MISSING_HEADER", message, field=name)
    if len(value) > MAX_HEADER_LENGTH:
        message = f"the {name} header must be at most {MAX_HEADER_LENGTH} characters"
        raise TmfError(400, "INVALID_REQUEST", message, field=name)
    if visible_ascii and not correlation_id_valid(value.strip()):
        raise TmfError(400, "INVALID_REQUEST", f"the {name} header must be visible ASCII characters", field=name)
    return value.strip()


@dataclass
class Orderer:
    """Who a productOrder speaks for (a ``Caller`` the order's write checks, on the hot route) and the
    business unit it orders under: the one checked again with the principal when the request starts
    over (services.auth.Caller), whose timezone the answer is then given in."""

    caller: Principal | Caller
    unit: BusinessUnit


async def caller(
    context: DialectContext,
    business_id: str,
    *,
    client_id: str | None,
    client_secret: str | None,
    x_correlation_id: str | None,
    source: str | None,
) -> tuple[Principal, BusinessUnit]:
    """Who the request speaks for, and the business unit it orders under."""
    client, secret = _credentials(x_correlation_id, client_id, client_secret)
    return await _checked(context, business_id, client, secret, source)


def _credentials(x_correlation_id: str | None, client_id: str | None, client_secret: str | None) -> tuple[str, str]:
    """The client id and secret, once the headers every order needs are there and well formed."""
    required_header(x_correlation_id, "X-Correlation-ID", visible_ascii=True)
    client = required_header(client_id, "client_id", min_length=MIN_CREDENTIAL_LENGTH)
    return client, required_header(client_secret, "client_secret", min_length=MIN_CREDENTIAL_LENGTH)


async def _checked(
    context: DialectContext, business_id: str, client: str, secret: str, source: str | None, *, count: bool = True
) -> tuple[Principal, BusinessUnit]:
    """The principal, counted against its partner's rate limit (``count``; RateLimited past it) once the
    credentials are right, and the business unit."""
    principal = await context.auth.verify_client(client, secret, source=source)
    if count:
        context.rate_limiter.admit(principal)
    return principal, await context.lines.business_unit(principal, business_id)


async def orderer(
    context: DialectContext,
    business_id: str,
    *,
    client_id: str | None,
    client_secret: str | None,
    x_correlation_id: str | None,
    source: str | None,
) -> Orderer:
    """``caller``, for the hot route. On PostgreSQL reading the store's config version is a wait of its
    own: a principal and a business unit that the caches hold are taken unchecked, and the order's write
    checks the version they were cached at (services.auth.Caller). The request is counted against the
    rate limit here, once: when it starts over, only who it speaks for is checked again."""
    client, secret = _credentials(x_correlation_id, client_id, client_secret)
    cached = context.auth.cached_client(client, secret)
    unit = context.lines.cached_unit(cached[0], business_id, cached[1]) if cached is not None else None
    if cached is None or unit is None or context.rate_limiter.wait(cached[0]):
        # Not cached, or refused on what may be stale (a limiter's refusal counts nothing): decided anew.
        return Orderer(*await _checked(context, business_id, client, secret, source))

    async def again() -> Principal:
        principal, who.unit = await _checked(context, business_id, client, secret, source, count=False)
        return principal

    who = Orderer(Caller(cached[0], cached[1], again), unit)
    return who


async def place(context: DialectContext, who: Orderer, raw_body: bytes, idempotency_key: str | None) -> Response:
    """The order placed (or the first one, for a retry), answered in its state once settled."""
    unit = who.unit
    try:
        body = orjson.loads(raw_body)
    except orjson.JSONDecodeError:
        raise TmfError(400, "INVALID_REQUEST", "the request body is not valid JSON") from None
    wire.refuse_nul(raw_body, body)
    line_order, echo = wire.read_order(body, unit.id)
    correlation = correlation_id.get()
    assert correlation is not None  # the caller required it
    keys: tuple[str, ...] = (CORRELATION_KEY_PREFIX + correlation,)
    if idempotency_key:
        keys += (idempotency_key,)
    try:
        placed = await context.ordering.place(
            who.caller,
            PlaceOrder(
                request=line_order,
                raw_request=mapping.stored_request(unit.id, echo),
                dialect=mapping.DIALECT,
                idempotency_keys=keys,
                correlation_id=correlation,
                numbered=True,
                scope=unit.id,
            ),
        )
    except IdempotencyKeysDisagree:
        message = "the X-Correlation-ID and the Idempotency-Key were used for different orders"
        raise TmfError(409, "CONFLICT", message) from None
    except IdempotencyConflict as conflict:
        header = "X-Correlation-ID" if conflict.key == keys[0] else "Idempotency-Key"
        raise TmfError(409, "CONFLICT", f"the {header} was already used with a different request") from None
    # The answer is final when provisioning finishes within the budget (at once when it ran at intake).
    principal = who.caller.principal if isinstance(who.caller, Caller) else who.caller
    order = await context.ordering.settled_order(principal, placed, context.settings.final_answer_budget_seconds)
    headers = {"Idempotent-Replayed": "true"} if placed.replayed else None
    return json_response(mapping.order_resource(order, who.unit.timezone), 201, headers)
