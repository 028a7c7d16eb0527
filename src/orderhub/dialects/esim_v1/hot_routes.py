"""esim-v1's two busiest routes as plain ASGI handlers: place an order, read an order.

They answer exactly as the FastAPI routes in routes.py do (tests/api/test_hot_paths.py holds them to
it, request by request): the same parsing order (JSON, then the caller, then headers and body), the
same validation messages (the same pydantic models), the same envelopes and headers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import orjson
from pydantic import Field, TypeAdapter, ValidationError
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from orderhub.access_facts import signed_in
from orderhub.domain.errors import AccessDenied, DomainError, InvalidInput, NotAuthenticated, RateLimited
from orderhub.domain.orders import ESIM_OPERATIONS
from orderhub.domain.partners import ESIM_ORDERING_ROLES, Principal
from orderhub.services.auth import AuthService, Caller
from orderhub.services.order_commands import OrderView, PlacedOrder
from orderhub.services.ordering import OrderingService
from orderhub.services.ports import DatabaseUnavailable
from orderhub.services.rate_limits import RateLimiter
from orderhub.services.rendered_orders import RenderedOrders
from orderhub.web.body_guard import BIG_NUMBER, loads_big_numbers
from orderhub.web.body_values import NUL_ESCAPE, unkeepable
from orderhub.web.hot_paths import HotHandler, HotRequest, path_parameter

from . import mapping
from .errors import EsimError, database_unavailable_response, domain_error_response, error_response
from .wire import OrderRequest

_IDEMPOTENCY_KEY = TypeAdapter(Annotated[str, Field(min_length=1, max_length=255)])
_MISSING = object()


class EsimHotRoutes:
    def __init__(
        self, *, prefix: str, dialect: str, auth: AuthService, ordering: OrderingService, limiter: RateLimiter
    ):
        self._order_path = f"{prefix}/order"
        self._order_prefix = f"{prefix}/order/"
        self._dialect = dialect
        self._auth = auth
        self._ordering = ordering
        self._limiter = limiter
        # The answer to a GET, kept per order version (services.rendered_orders); the hot stack only
        # reads a response, so one may be sent any number of times.
        self._rendered: RenderedOrders[OrderView, Response] = RenderedOrders(rendered_order)

    def claims(self, scope: Scope) -> HotHandler | None:
        path, method = scope["path"], scope["method"]
        if method == "POST" and path == self._order_path:
            return self.place_order
        if method == "GET" and path.startswith(self._order_prefix) and path_parameter(path[len(self._order_prefix) :]):
            return self.get_order
        return None

    async def place_order(self, request: HotRequest) -> Response:
        body, unusual = parse_body(request.body)
        if isinstance(body, Response):
            return body
        try:
            caller = await self._auth.caller(bearer_token(request.headers.get("authorization")), esim_caller)
            # A partner with no limit costs an attribute read here: no call, no await.
            if caller.principal.partner.rate_limit_per_minute is not None:
                wait = self._limiter.wait(caller.principal)
                if wait:
                    caller = await judged_anew(self._limiter, caller, wait)
        except DomainError as exc:  # 401, 403, 429: the body is read by now, and says what it used
            return refusal(exc, mapping.deprecations(body))
        problems: list[dict[str, Any]] = []
        key = request.headers.get("idempotency-key")
        if key is not None:
            try:
                _IDEMPOTENCY_KEY.validate_python(key)
            except ValidationError as exc:
                problems += [{**p, "loc": ("header", "idempotency-key", *p["loc"])} for p in exc.errors()]
        wire: OrderRequest | None = None
        if body is _MISSING:
            problems.append({"type": "missing", "loc": ("body",), "msg": "Field required"})
        else:
            try:
                # As FastAPI validates a body parameter (objects' attributes count as fields).
                wire = OrderRequest.model_validate(body_to_check(request.body, body), from_attributes=True)
            except ValidationError as exc:
                problems += [{**p, "loc": ("body", *p["loc"])} for p in exc.errors()]
        if problems or wire is None:
            return _validation_failed(problems, None if body is _MISSING else body)
        return await place_wire_order(self._ordering, caller, wire, body, key, unusual=unusual)

    async def get_order(self, request: HotRequest) -> Response:
        token = bearer_token(request.headers.get("authorization"))
        order_id = request.scope["path"][len(self._order_prefix) :]

        async def caller(config_version: int) -> Principal:
            principal = await self._auth.authenticate(token, config_version=config_version)
            request.partner = principal.partner.id  # the access line's (web.hot_paths: a GET records it)
            allowed = esim_caller(principal)
            if allowed.partner.rate_limit_per_minute is not None:  # no call for a partner with no limit
                self._limiter.admit(allowed)
            return allowed

        return await self._ordering.get_rendered(caller, order_id, self._rendered, ESIM_OPERATIONS)


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("a bearer token is required (POST /oauth2/token)")
    return token.strip()


def esim_caller(principal: Principal) -> Principal:
    if not principal.has_any_role(ESIM_ORDERING_ROLES):
        raise AccessDenied("this API needs the RESELLER or ACCOUNT_MANAGER role")
    return principal


async def caller_of(auth: AuthService, limiter: RateLimiter, authorization: str | None) -> Principal:
    """Who an esim-v1 request speaks for: a bearer token of a partner with an eSIM ordering role, within
    its partner's rate limit (RateLimited)."""
    caller = esim_caller(signed_in(await auth.authenticate(bearer_token(authorization))))
    limiter.admit(caller)
    return caller


async def judged_anew(limiter: RateLimiter, caller: Caller, wait: int) -> Caller:
    """``caller``, refused by its partner's rate limit (``wait`` seconds). Refused on a principal the
    credentials cache held (its limit may be stale; a refusal counts nothing): judged again on the
    principal checked now. RateLimited when refused still."""
    if caller.unchecked_at is None or caller.again is None:
        raise RateLimited(wait)
    checked = Caller(await caller.again())
    limiter.admit(checked.principal)
    return checked


async def place_wire_order(
    ordering: OrderingService,
    caller: Principal | Caller,
    wire: OrderRequest,
    body: Any,
    key: str | None,
    *,
    unusual: bool = False,
) -> Response:
    """The order placed (201), or refused by a rule (4xx); either answer signals the deprecated
    spellings the request used. ``unusual``: the body may hold what cannot be kept (parse_body)."""
    used = mapping.deprecations(body)
    try:
        # What the wire model did not refuse in its own fields, and could not be kept elsewhere.
        wrong = unkeepable(body) if unusual else None
        if wrong is not None:
            raise InvalidInput(wrong[1], field=wrong[0])
        placed = await ordering.place(caller, mapping.place_command(mapping.to_domain(wire), body, key))
    except DomainError as exc:
        return refusal(exc, used)
    return accepted_response(placed, used)


def refusal(exc: DomainError, deprecations: list[str]) -> Response:
    """An order refused (4xx, the deprecated spellings its body used signalled) or failed (5xx)."""
    refused = domain_error_response(exc)
    if refused.status_code < 500:
        refused.headers.update(mapping.deprecation_headers(deprecations))
    return refused


def accepted_response(placed: PlacedOrder, deprecations: list[str]) -> Response:
    """201 with both ids; deprecated spellings signalled (RFC 9745), a replay marked."""
    headers = mapping.deprecation_headers(deprecations)
    if placed.replayed:
        headers["Idempotent-Replayed"] = "true"
    accepted = {"id": placed.order_id, "externalId": placed.order_id, "status": "ACCEPTED"}
    return json_response(accepted, status_code=201, headers=headers)


def json_response(body: Any, *, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body, option=orjson.OPT_UTC_Z),
        status_code=status_code,
        headers=headers,
        media_type="application/json",
    )


def rendered_order(view: OrderView) -> Response:
    """A GET's answer as the rendered-orders cache keeps it. orjson's bytes keep the buffer they were
    written into, several times their length (4 KB for a 1 KB order, 56 KB for 5 KB): the body is
    copied to its own length, or the cache's 20,000 answers would take a few hundred MB."""
    answer = json_response(mapping.order_resource(view))
    answer.body = bytes(memoryview(answer.body))
    return answer


def failure_response(exc: Exception) -> Response | None:
    """What the hot routes raised, answered as errors.install_error_handlers answers it; None for a bug."""
    if isinstance(exc, DomainError):
        return domain_error_response(exc)
    if isinstance(exc, EsimError):
        return error_response(exc.status, exc.type, exc.message)
    if isinstance(exc, DatabaseUnavailable):
        return database_unavailable_response(exc)
    return None


def parse_body(raw: bytes) -> tuple[Any, bool]:
    """The body as sent, and whether it may hold what orderhub cannot keep (web.body_values): a
    NUL character, numbers beyond a double (RFC 8259 allows them; the body guard let them through and
    the standard json module reads them); or a 400 for what is not JSON."""
    if not raw:
        return _MISSING, False
    # Strict JSON, as the hot stack's body guard already checked: no NaN, Infinity or lone surrogates.
    try:
        return orjson.loads(raw), NUL_ESCAPE in raw
    except orjson.JSONDecodeError as exc:
        parsed = loads_big_numbers(raw) if str(exc).startswith(BIG_NUMBER) else None
        if parsed is None:
            return error_response(400, "INVALID_HTTP_MESSAGE", "request body is not valid JSON"), False
        return parsed, True


def body_to_check(raw: bytes, body: Any) -> Any:
    """What the wire model checks: the body as parsed, or, when a price came as a JSON fraction, the
    body read again with its fractions as written. orjson reads a fraction as the nearest double, and
    9.99999999999999999 as 10.0 passed the price's 14 digits and 4 decimals. An integer price (the
    seed's, the hot path's) costs no second reading."""
    data = body.get("input") if isinstance(body, dict) else None
    subscriptions = data.get("subscriptions") if isinstance(data, dict) else None
    if not isinstance(subscriptions, list):
        return body
    for subscription in subscriptions:
        if isinstance(subscription, dict) and isinstance(subscription.get("price"), float):
            exact = loads_big_numbers(raw, fractions=Decimal)
            return body if exact is None else exact
    return body


def _validation_failed(problems: list[dict[str, Any]], body: Any) -> JSONResponse:
    from fastapi.exceptions import RequestValidationError

    from .errors import validation_response

    return validation_response(RequestValidationError(problems, body=body))
