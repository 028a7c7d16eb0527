"""What the order POST does, whichever way it is served: by its FastAPI route (routes.py, which also
makes the OpenAPI document) or by its hot route (hot_routes.py). Both call these, in this order:
``operator`` (HTTP Basic credentials, role, rate limit; ``hot_operator`` on the hot route), then ``place``
(the Idempotency-Key, the body)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi.security import HTTPBasicCredentials
from starlette.responses import Response

from orderhub.dialects.context import DialectContext
from orderhub.domain.accesses import RefusalReason
from orderhub.domain.errors import BusinessRefusal, NotAuthenticated, TooManyAttempts
from orderhub.domain.order_states import OrderState
from orderhub.domain.partners import ACCESS_ORDERING_ROLES, Principal
from orderhub.observability import correlation_id
from orderhub.services.auth import Caller
from orderhub.services.order_commands import PlaceOrder
from orderhub.web.basic_auth import StrictHTTPBasic
from orderhub.web.body_guard import NotJson, strict_json
from orderhub.web.json_response import json_response

from . import wire
from .errors import REALM, OnapiError
from .messages import message

DIALECT = "onapi-order"
log = logging.getLogger("orderhub.onapi")
BASIC = StrictHTTPBasic(
    auto_error=False,
    realm="onapi",
    scheme_name="basic",
    description="The communication operator's client id and secret, on every request",
)
MAX_IDEMPOTENCY_KEY_LENGTH = 255


async def operator(context: DialectContext, credentials: HTTPBasicCredentials | None, source: str | None) -> Principal:
    """The communication operator the request speaks for, within its rate limit (the application's)."""
    caller = await _checked_operator(context, _required(credentials), source)
    _within_rate_limit(context, caller)
    return caller


async def hot_operator(
    context: DialectContext, credentials: HTTPBasicCredentials | None, source: str | None
) -> Principal | Caller:
    """``operator``, for the hot route. On PostgreSQL reading the store's config version is a wait of its
    own: an operator the credentials cache holds is taken unchecked, and the order's write checks the
    version it was cached at (services.auth.Caller). The request is counted against the rate limit here,
    once: when it starts over, only who it speaks for is checked again."""
    basic = _required(credentials)
    cached = context.auth.cached_client(basic.username, basic.password)
    if cached is None or not _may_order(cached[0]) or context.rate_limiter.wait(cached[0]):
        # Not cached, or refused on what may be stale (a limiter's refusal counts nothing): decided anew.
        return await operator(context, basic, source)
    return Caller(cached[0], cached[1], lambda: _checked_operator(context, basic, source))


def _required(credentials: HTTPBasicCredentials | None) -> HTTPBasicCredentials:
    if credentials is None:
        raise OnapiError(401, "Authentication required", headers={"WWW-Authenticate": REALM})
    return credentials


async def _checked_operator(
    context: DialectContext, credentials: HTTPBasicCredentials, source: str | None
) -> Principal:
    try:
        caller = await context.auth.verify_client(credentials.username, credentials.password, source=source)
    except NotAuthenticated:
        raise OnapiError(401, "Bad credentials", headers={"WWW-Authenticate": REALM}) from None
    except TooManyAttempts as exc:
        raise OnapiError(429, "Too many failed sign-ins", headers={"Retry-After": str(exc.retry_after)}) from None
    if not _may_order(caller):
        raise OnapiError(403, "Not a communication operator")
    return caller


def _may_order(caller: Principal) -> bool:
    return caller.has_any_role(ACCESS_ORDERING_ROLES) and caller.partner.co_id is not None


def _within_rate_limit(context: DialectContext, caller: Principal) -> None:
    wait = context.rate_limiter.wait(caller)
    if wait:
        raise OnapiError(429, "Too many requests", headers={"Retry-After": str(wait)})


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
    # To the second when the time asked for has seconds: cut to the minute, it named a moment before the
    # activation, which the end customer reads.
    shown = "%Y-%m-%d %H:%M" if due_at.second == due_at.microsecond == 0 else "%Y-%m-%d %H:%M:%S"
    when = f"{due_at.astimezone(UTC).strftime(shown)} UTC"
    return {"status": "RECEIVED", "message": message("received", language, when=when)}


async def place(
    context: DialectContext, caller: Principal | Caller, raw_body: bytes, idempotency_key: str | None
) -> Response:
    """The order placed (or the first one, for a retry), answered in its state once settled."""
    principal = caller.principal if isinstance(caller, Caller) else caller
    language = principal.partner.language
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        raise OnapiError(400, "Bad Idempotency-Key", message("order", language), field="Idempotency-Key")
    try:
        body = strict_json(raw_body)  # the body guard leaves it to this API (routes.py)
    except NotJson:
        raise OnapiError(400, "Bad request body", message("body", language)) from None
    co_id, activation = wire.read_order(body, language, datetime.now(UTC).date())
    if isinstance(caller, Caller) and caller.unchecked_at is not None:
        again = _owning(co_id, caller)
        # A refusal may be the stale principal's: the operator checked now decides it.
        caller = Caller(principal, caller.unchecked_at, again) if co_id == principal.partner.co_id else await again()
    else:
        _check_co(co_id, principal)
    key, basis = wire.natural_key(co_id, activation, body["customerDetails"])
    keys = (key, idempotency_key) if idempotency_key else (key,)
    key_basis: dict[str, Any] = {key: basis}
    earlier_basis: dict[str, Any] = {}
    if idempotency_key:
        # A retry may stamp orderDateTime anew, with its key as without one (wire.natural_key); keys
        # stored before 2026-12-07 stood for the whole body, which still matches them.
        key_basis[idempotency_key] = wire.without_order_date_time(body)
        earlier_basis[idempotency_key] = body
    try:
        placed = await context.ordering.place(
            caller,
            PlaceOrder(
                request=activation,
                raw_request=body,
                dialect=DIALECT,
                idempotency_keys=keys,
                correlation_id=correlation_id.get(),
                key_basis=key_basis,
                earlier_basis=earlier_basis,
                refusal_keys=(idempotency_key,) if idempotency_key else (),
                # An order placed before 2026-12-06 stored its natural key without the customer.
                earlier_keys=lambda: (wire.natural_key_before_customers(co_id, activation, body["customerDetails"]),),
            ),
        )
    except BusinessRefusal as refused:
        # No order is stored of a refused one (its Idempotency-Key keeps the reason's code): this line is
        # its trace, once. The reason's code, not its message, and no customer data; the access id is the
        # CO's own and is masked as any line is.
        if not refused.replayed:
            log.info(
                "onapi-order refused: partner %s, coAccessId %s, reason %s",
                principal.partner_id,
                activation.access_ref,
                refused.code,
            )
        answer = {"status": "REJECTED", "message": _rejection(refused.code, language)}
        return json_response(answer, headers={"Idempotent-Replayed": "true"} if refused.replayed else None)
    order = await context.ordering.settled_order(principal, placed, context.settings.final_answer_budget_seconds)
    replayed = {"Idempotent-Replayed": "true"} if placed.replayed else None
    return json_response(order_status(order.state, order.due_at, language, datetime.now(UTC)), headers=replayed)


def _rejection(code: str, language: str) -> str:
    """The end customer's message for the refusal ``code`` (a RefusalReason's value)."""
    try:
        reason = RefusalReason(code)
    except ValueError:  # kept by a later release, asked again after a rollback: no words of its own here
        return message("failed", language)
    return message(reason, language)


def _check_co(co_id: str, caller: Principal) -> Principal:
    if co_id != caller.partner.co_id:
        cause = f"coId {co_id} is not the authenticated communication operator"
        raise OnapiError(403, cause, reason="Not the authenticated communication operator", field="coId")
    return caller


def _owning(co_id: str, caller: Caller) -> Callable[[], Awaitable[Principal]]:
    """``caller.again``, whose principal must still be the operator of ``co_id``."""
    again = caller.again
    assert again is not None

    async def checked() -> Principal:
        return _check_co(co_id, await again())

    return checked
