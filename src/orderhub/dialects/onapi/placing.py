"""What the order POST does, whichever way it is served: by its FastAPI route (routes.py, which also
makes the OpenAPI document) or by its hot route (hot_routes.py). Both call these, in this order:
``operator`` (HTTP Basic credentials, role, rate limit), then ``place`` (the Idempotency-Key, the body)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from starlette.responses import Response

from orderhub.dialects.context import DialectContext
from orderhub.domain.accesses import ActivationRefused
from orderhub.domain.errors import NotAuthenticated, TooManyAttempts
from orderhub.domain.orders import OrderState
from orderhub.domain.partners import ACCESS_ORDERING_ROLES, Principal
from orderhub.observability import correlation_id
from orderhub.services.order_commands import PlaceOrder
from orderhub.web.json_response import json_response

from . import wire
from .errors import REALM, OnapiError
from .messages import message

DIALECT = "onapi-order"
BASIC = HTTPBasic(auto_error=False, realm="onapi")
MAX_IDEMPOTENCY_KEY_LENGTH = 255


async def operator(context: DialectContext, credentials: HTTPBasicCredentials | None, source: str | None) -> Principal:
    """The communication operator the request speaks for, within its rate limit (the application's)."""
    if credentials is None:
        raise OnapiError(401, "Authentication required", headers={"WWW-Authenticate": REALM})
    try:
        caller = await context.auth.verify_client(credentials.username, credentials.password, source=source)
    except NotAuthenticated:
        raise OnapiError(401, "Bad credentials", headers={"WWW-Authenticate": REALM}) from None
    except TooManyAttempts as exc:
        raise OnapiError(429, "Too many failed sign-ins", headers={"Retry-After": str(exc.retry_after)}) from None
    if not caller.has_any_role(ACCESS_ORDERING_ROLES) or caller.partner.co_id is None:
        raise OnapiError(403, "Not a communication operator")
    wait = context.rate_limiter.retry_after(caller.partner_id, caller.partner.rate_limit_per_minute)
    if wait:
        raise OnapiError(429, "Too many requests", headers={"Retry-After": str(wait)})
    return caller


def order_status(state: OrderState, due_at: datetime | None, language: str, now: datetime) -> dict[str, str]:
    """The answer for an order in ``state``: ACTIVATED, RECEIVED (with when) or REJECTED."""
    if state is OrderState.COMPLETED:
        return {"status": "ACTIVATED", "message": message("activated", language)}
    if state.is_final:
        return {"status": "REJECTED", "message": message("failed", language)}
    if due_at is None or due_at <= now:
        # Due already, but not finished within the answer's budget (no worker in time): the requested
        # date is gone, so the end customer is not told it as the date to come.
        return {"status": "RECEIVED", "message": message("received_due", language)}
    when = f"{due_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return {"status": "RECEIVED", "message": message("received", language, when=when)}


async def place(context: DialectContext, caller: Principal, raw_body: bytes, idempotency_key: str | None) -> Response:
    """The order placed (or the first one, for a retry), answered in its state once settled."""
    language = caller.partner.language
    if idempotency_key is not None and len(idempotency_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise OnapiError(400, "Bad Idempotency-Key", message("order", language))
    try:
        body = orjson.loads(raw_body)
    except orjson.JSONDecodeError:
        raise OnapiError(400, "Bad request body", message("body", language)) from None
    co_id, activation = wire.read_order(body, language, datetime.now(UTC).date())
    if co_id != caller.partner.co_id:
        raise OnapiError(403, f"coId {co_id} is not the authenticated communication operator")
    key, basis = wire.natural_key(co_id, activation, body["customerDetails"])
    keys = (key, idempotency_key) if idempotency_key else (key,)
    try:
        placed = await context.ordering.place(
            caller,
            PlaceOrder(
                request=activation,
                raw_request=body,
                dialect=DIALECT,
                idempotency_keys=keys,
                correlation_id=correlation_id.get(),
                key_basis={key: basis},
            ),
        )
    except ActivationRefused as refused:
        return json_response({"status": "REJECTED", "message": message(refused.reason, language)})
    order = await context.ordering.settled_order(caller, placed, context.settings.final_answer_budget_seconds)
    return json_response(order_status(order.state, order.due_at, language, datetime.now(UTC)))
