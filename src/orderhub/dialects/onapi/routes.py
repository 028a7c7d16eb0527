"""ON-API 2.5, served by the SP: the order endpoint, the products a CO may order, and the list of
endpoints ON-API asks every party to publish."""

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.security import HTTPBasicCredentials

from orderhub.access_facts import note_refusal
from orderhub.dialects.context import DialectContext
from orderhub.domain.partners import Principal
from orderhub.web.docs_page import DOCS_PATH, serve_docs_page
from orderhub.web.hot_paths import HotRoute, HotStack
from orderhub.web.json_response import json_response
from orderhub.web.middleware import add_request_guards

from . import placing
from .errors import failure_response, http_error, install_error_handlers, internal_error_response
from .hot_routes import OnapiHotRoutes
from .openapi import declare_answers
from .placing import BASIC, DIALECT

__all__ = ["DIALECT", "PREFIX", "create_onapi_app", "create_onapi_hot_routes"]

PREFIX = "/2.5"
VERSION = "2.5"
ORDER_PATH = "/sp_spec/order/"
PRODUCTS_PATH = "/sp_spec/products/"
# The paths served here (without the trailing slash) and their methods, for 405 answers.
_ALLOWED = {"": "GET", ORDER_PATH.strip("/"): "POST", PRODUCTS_PATH.strip("/"): "GET"}


def create_onapi_hot_routes(services: DialectContext) -> tuple[HotRoute, HotStack]:
    """The order POST as a hot route, in the guards the app puts around its other routes."""
    stack = HotStack(
        required_header=None,
        max_bytes=services.settings.max_body_bytes,
        body_timeout=services.settings.request_body_timeout_seconds,
        render_error=http_error,
        render_internal_error=internal_error_response,
        render_failure=failure_response,
        check_json=False,  # as the app's guard
    )
    paths = (PREFIX + ORDER_PATH, PREFIX + ORDER_PATH.rstrip("/"))
    return OnapiHotRoutes(services, paths).claims, stack


def create_onapi_app(services: DialectContext) -> FastAPI:
    app = FastAPI(
        title="orderhub ON-API 2.5 (SP)",
        version=VERSION,
        description=(
            "ON-API 2.5 order endpoint served by the service provider: communication operators order "
            "services on network accesses. HTTP Basic authentication per communication operator."
        ),
        openapi_url="/openapi.json",
        docs_url=None,  # web.docs_page serves it, with its assets pinned
        swagger_ui_oauth2_redirect_url=None,
        redoc_url=None,
        redirect_slashes=False,  # as esim-v1's: a redirect answered before authentication, to the Host sent
    )
    serve_docs_page(app)
    install_error_handlers(app)
    declare_answers(app)
    add_request_guards(
        app,
        max_bytes=services.settings.max_body_bytes,
        body_timeout=services.settings.request_body_timeout_seconds,
        render_error=http_error,
        render_internal_error=internal_error_response,
        # Read after the sign-in (placing.place): a caller without credentials is 401 whatever it sent,
        # and a CO's unreadable body is told in its language. Size and media type still come first.
        check_json=False,
    )

    async def operator(
        request: Request, credentials: Annotated[HTTPBasicCredentials | None, Depends(BASIC)]
    ) -> Principal:
        source = request.client.host if request.client else None
        caller = await placing.operator(services, credentials, source)
        request.state.language = caller.partner.language
        return caller

    Operator = Annotated[Principal, Depends(operator)]

    # At the address partners reach this service at, if one is set; else relative to the list's own. Never
    # from the request's Host header, which the client writes: a list that linked anywhere it was told to.
    docs = f"{services.settings.public_url.rstrip('/')}{PREFIX}/docs"

    @app.get("/", summary="The ON-API endpoints served here", operation_id="listEndpoints")
    async def endpoints() -> Response:
        served = {"order": ORDER_PATH, "products": PRODUCTS_PATH}
        return json_response(
            [
                {"name": name, "endpoint": f"{PREFIX}{path}", "version": VERSION, "documentation": docs}
                for name, path in served.items()
            ]
        )

    @app.get(PRODUCTS_PATH, summary="The products and offerings you may order", operation_id="listProducts")
    @app.get(PRODUCTS_PATH.rstrip("/"), include_in_schema=False)
    async def products(caller: Operator) -> Response:
        listed: dict[str, dict[str, Any]] = {}
        for offering in await services.accesses.offerings_for(caller):
            entry = listed.setdefault(
                offering.product_id,
                {"productId": offering.product_id, "name": offering.product_name, "offerings": []},
            )
            entry["offerings"].append({"offeringId": offering.offering_id, "name": offering.name})
        return json_response(list(listed.values()))

    @app.post(ORDER_PATH, summary="Order a service on an access", operation_id="placeOrder")
    @app.post(ORDER_PATH.rstrip("/"), include_in_schema=False)
    async def order(
        request: Request,
        caller: Operator,
        # At most MAX_IDEMPOTENCY_KEY_LENGTH characters, checked by placing.place (400 Bad Idempotency-Key).
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> Response:
        return await placing.place(services, caller, await request.body(), idempotency_key)

    # The documents the framework serves (GET), at exactly these paths: another method is 405 there too.
    documents = {url.strip("/") for url in (app.openapi_url, DOCS_PATH) if url}

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def not_implemented(path: str) -> Response:
        # One trailing slash or none: "sp_spec/order//" is not a path served here (501).
        allowed = _ALLOWED.get(path.removesuffix("/")) if not path.endswith("//") and path != "/" else None
        if path in documents:
            allowed = "GET"
        if allowed is not None:  # a path served here, asked with another method
            note_refusal("Method not allowed")
            return json_response({"cause": "Method not allowed"}, 405, {"Allow": allowed})
        note_refusal("Not implemented")  # the cause quotes the path
        return json_response({"cause": f"Not implemented: {PREFIX}/{path}"}, 501)

    return app
