"""esim-v1 HTTP routes, served under ``/esim/v1`` with their own OpenAPI document."""

import asyncio
import io
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal

import segno
from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from orderhub.dialects.context import DialectContext
from orderhub.domain.errors import DomainError, ProductNotFound
from orderhub.domain.identifiers import ActivationCode
from orderhub.domain.order_states import OrderState
from orderhub.domain.orders import ESIM_OPERATIONS
from orderhub.domain.partners import Principal
from orderhub.domain.results import EsimResult
from orderhub.web.docs_page import serve_docs_page
from orderhub.web.hot_paths import HotRoute, HotStack
from orderhub.web.middleware import (
    RequireHeaderMiddleware,
    add_request_guards,
)

from . import mapping
from .errors import Answer, EsimError, error_response, install_error_handlers, internal_error_response
from .hot_routes import (
    EsimHotRoutes,
    body_to_check,
    caller_of,
    failure_response,
    json_response,
    parse_body,
    place_wire_order,
    refusal,
)
from .openapi import declare_answers
from .wire import (
    ErrorBody,
    InstallLinks,
    OrderAccepted,
    OrderRequest,
    OrderResource,
    ProductResource,
    SimResource,
    SubscriptionResource,
)

DIALECT = mapping.DIALECT
PREFIX = "/esim/v1"


def _http_error_renderer(status: int, message: str) -> JSONResponse:
    return error_response(status, "INVALID_HTTP_MESSAGE", message)


_DOC_PATHS = ("/openapi.json", "/docs", "/docs/oauth2-redirect")
_BEARER = HTTPBearer(auto_error=False, scheme_name="bearer", description="A token from POST /oauth2/token")
_CORRELATION_DOC = "Identifies the request end to end; echoed on the answer. 1-200 visible ASCII characters."


def create_esim_v1_hot_routes(services: DialectContext) -> tuple[HotRoute, HotStack]:
    """The hot routes and the guards around them: those the dialect's app puts around its other routes."""
    routes = EsimHotRoutes(
        prefix=PREFIX,
        dialect=DIALECT,
        auth=services.auth,
        ordering=services.ordering,
        limiter=services.rate_limiter,
    )
    stack = HotStack(
        required_header="X-Correlation-ID",
        max_bytes=services.settings.max_body_bytes,
        body_timeout=services.settings.request_body_timeout_seconds,
        render_error=_http_error_renderer,
        render_internal_error=internal_error_response,
        render_failure=failure_response,
        big_numbers=True,
    )
    return routes.claims, stack


class _BodyAsHotRouteReadsIt(Request):
    async def json(self) -> Any:
        raw = await self.body()
        body, _ = parse_body(raw)
        if isinstance(body, Response):  # not JSON after all: FastAPI says so, as the hot route does
            return await super().json()
        return body_to_check(raw, body)


class _ValidatedAsHotRoute(APIRoute):
    """A route whose JSON body FastAPI reads as the hot route reads it (orjson, the json module for
    numbers beyond a double; prices as written: hot_routes.body_to_check), to validate it alike."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def read_as_hot_route(request: Request) -> Response:
            return await handle(_BodyAsHotRouteReadsIt(request.scope, request.receive))

        return read_as_hot_route


def _qr_image(text: str, kind: str, scale: int) -> bytes:
    buffer = io.BytesIO()
    # Medium error correction and the standard 4-module quiet zone keep phone cameras happy.
    segno.make(text, error="m", micro=False).save(buffer, kind=kind, scale=scale, border=4)
    return buffer.getvalue()


# Each handler's operationId, for the methods of clients generated from the document (an unnamed handler
# fails the app's build): FastAPI's own ids, such as place_order_order_post, changed with any path.
OPERATION_IDS = {
    "place_order": "placeOrder",
    "get_order": "getOrder",
    "qrcode": "getOrderQrCode",
    "install_links": "getOrderInstallLinks",
    "list_products": "listProducts",
    "get_product": "getProduct",
    "get_sim": "getSim",
    "get_sim_subscriptions": "listSimSubscriptions",
}


def create_esim_v1_app(services: DialectContext) -> FastAPI:
    app = FastAPI(
        generate_unique_id_function=lambda route: OPERATION_IDS[route.name],
        title="orderhub esim-v1",
        version="1.0",
        description="eSIM order API: order eSIMs (NEW_ESIM) and top them up (TOPUP), poll by externalId.",
        openapi_url="/openapi.json",
        docs_url=None,  # web.docs_page serves it, with its assets pinned
        swagger_ui_oauth2_redirect_url=None,
        redoc_url=None,
        # "/order/" is not "/order": 404 in the dialect's envelope. A redirect would answer before
        # authentication, with a Location built from the client's Host header.
        redirect_slashes=False,
    )
    serve_docs_page(app)
    app.router.route_class = _ValidatedAsHotRoute
    install_error_handlers(app)
    declare_answers(app)
    add_request_guards(
        app,
        max_bytes=services.settings.max_body_bytes,
        body_timeout=services.settings.request_body_timeout_seconds,
        render_error=_http_error_renderer,
        render_internal_error=internal_error_response,
        big_numbers=True,
    )
    app.add_middleware(
        RequireHeaderMiddleware,
        header="X-Correlation-ID",
        render_error=_http_error_renderer,
        exempt_paths=_DOC_PATHS,
    )

    async def principal(
        request: Request,
        # Required, as the middleware requires it (a missing one never reaches a route).
        _x_correlation_id: Annotated[
            str, Header(alias="X-Correlation-ID", min_length=1, max_length=200, description=_CORRELATION_DOC)
        ],
        authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
        # For the OpenAPI document: the bearer scheme and the correlation id every request carries
        # (RequireHeaderMiddleware enforces the header before any route runs).
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)] = None,
    ) -> Principal:
        try:
            return await caller_of(services.auth, services.rate_limiter, authorization)
        except DomainError as exc:
            if request.method != "POST":
                raise
            # POST /order, whose body FastAPI read first: a 401 or 403 signals its deprecated spellings too.
            raise Answer(refusal(exc, mapping.deprecations(parse_body(await request.body())[0]))) from None

    Caller = Annotated[Principal, Depends(principal)]

    async def with_each_parameter_once(request: Request, caller: Caller) -> Principal:
        # ?currency=USD&currency=EUR was read as its last value alone, whichever the partner meant: refused
        # (once the caller is known, as every other bad request), as TMF622 refuses it.
        seen: set[str] = set()
        for name, _ in request.query_params.multi_items():
            if name in seen:
                raise EsimError(400, "INVALID_REQUEST_PARAMS", f"{name} is given more than once")
            seen.add(name)
        return caller

    QueryCaller = Annotated[Principal, Depends(with_each_parameter_once)]

    @app.post("/order", status_code=201, response_model=OrderAccepted, summary="Order a new eSIM or a top-up")
    async def place_order(
        body: OrderRequest,
        caller: Caller,
        request: Request,
        idempotency_key: Annotated[str | None, Header(min_length=1, max_length=255)] = None,
    ) -> Response:
        # The body kept as sent (numbers stay numbers) for the echo in GET and for idempotency
        # fingerprints, read as the hot route reads it (orjson; the json module for numbers beyond a double).
        raw, unusual = parse_body(await request.body())
        if isinstance(raw, Response):
            return raw
        return await place_wire_order(services.ordering, caller, body, raw, idempotency_key, unusual=unusual)

    @app.get(
        "/order/{order_id}",
        response_model=OrderResource,
        response_model_exclude_none=True,
        summary="Status and output of an order",
    )
    async def get_order(order_id: str, caller: Caller) -> Response:
        view = await services.ordering.get_order(caller, order_id, ESIM_OPERATIONS)
        return json_response(mapping.order_resource(view))

    async def activation_code(order_id: str, caller: Principal) -> ActivationCode:
        order = (await services.ordering.get_order(caller, order_id, ESIM_OPERATIONS)).order
        if mapping.STATUS[order.state] == "FAILED":  # it never completes: polling would not help
            raise EsimError(422, "NO_ACTIVATION_CODE", "the order FAILED; it has no eSIM and no activation code")
        if order.state is not OrderState.COMPLETED:
            raise EsimError(409, "ORDER_NOT_COMPLETED", "the order has no eSIM yet; poll until COMPLETED")
        result = order.result
        if not isinstance(result, EsimResult) or result.matching_id is None:
            raise EsimError(
                422,
                "NO_ACTIVATION_CODE",
                "a top-up has no activation code; use the order that issued the eSIM",
            )
        return ActivationCode(result.smdp_address, result.matching_id)

    @app.get(
        "/order/{order_id}/qrcode",
        summary="The eSIM activation code as a QR image",
        responses={
            200: {"content": {"image/png": {}, "image/svg+xml": {}}},
            409: {"model": ErrorBody},
            422: {"model": ErrorBody},
        },
        response_class=Response,
    )
    async def qrcode(
        order_id: str,
        caller: QueryCaller,
        format: Literal["png", "svg"] = "png",
        scale: Annotated[int, Query(ge=1, le=40)] = 8,
    ) -> Response:
        code = await activation_code(order_id, caller)
        # Drawing a large image takes milliseconds of CPU: not on the event loop.
        image = await asyncio.to_thread(_qr_image, code.lpa_string, format, scale)
        media_type = "image/png" if format == "png" else "image/svg+xml"
        return Response(image, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})

    @app.get(
        "/order/{order_id}/install-links",
        response_model=InstallLinks,
        summary="One-tap install links",
        responses={409: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    )
    async def install_links(order_id: str, caller: Caller) -> dict[str, str]:
        code = await activation_code(order_id, caller)
        return {"lpa_url": code.lpa_string, "ios": code.ios_install_url, "android": code.android_install_url}

    @app.get("/product", response_model=list[ProductResource], summary="Products of your catalog")
    def list_products(
        caller: QueryCaller, currency: Annotated[str | None, Query(min_length=3, max_length=3)] = None
    ) -> list[dict[str, Any]]:
        return [mapping.product_resource(p) for p in services.catalog.products_for(caller, currency)]

    @app.get("/product/{product_id}", response_model=ProductResource, summary="One product of your catalog")
    def get_product(
        product_id: str,
        caller: QueryCaller,
        currency: Annotated[str | None, Query(min_length=3, max_length=3)] = None,
    ) -> dict[str, Any]:
        try:
            return mapping.product_resource(services.catalog.product_for(caller, product_id, currency))
        except ProductNotFound as exc:
            raise EsimError(404, "PRODUCT_NOT_FOUND", exc.message) from exc

    @app.get("/sim/{iccid}", response_model=SimResource, summary="State of an eSIM and its subscriptions")
    def get_sim(iccid: str, caller: Caller) -> dict[str, Any]:
        return mapping.sim_resource(services.inventory.sim_for(caller, iccid))

    @app.get(
        "/sim/{iccid}/subscriptions",
        response_model=list[SubscriptionResource],
        summary="Subscriptions of an eSIM",
    )
    def get_sim_subscriptions(iccid: str, caller: Caller) -> list[dict[str, Any]]:
        return mapping.subscription_resources(services.inventory.sim_for(caller, iccid))

    return app
