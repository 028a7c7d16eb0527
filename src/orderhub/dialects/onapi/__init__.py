"""onapi-order: ON-API 2.5's order endpoint served by the SP (seed 002): services on network accesses."""

from orderhub.dialects.context import Dialect
from orderhub.dialects.onapi.erasure import erase_customer
from orderhub.dialects.onapi.errors import refusal_error
from orderhub.dialects.onapi.routes import DIALECT, PREFIX, create_onapi_app, create_onapi_hot_routes

ONAPI = Dialect(
    name=DIALECT,
    prefix=PREFIX,
    create_app=create_onapi_app,
    create_hot_routes=create_onapi_hot_routes,
    render_http_error=refusal_error,
    erase_customer=erase_customer,
    root_without_slash=True,
)

__all__ = ["ONAPI", "PREFIX"]
