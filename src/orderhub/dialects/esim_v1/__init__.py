"""esim-v1: the eSIM order API (seed 000): NEW_ESIM and TOPUP orders, polled by externalId."""

from orderhub.dialects.context import Dialect
from orderhub.dialects.esim_v1.erasure import erase_customer
from orderhub.dialects.esim_v1.errors import http_error
from orderhub.dialects.esim_v1.routes import DIALECT, PREFIX, create_esim_v1_app, create_esim_v1_hot_routes

ESIM_V1 = Dialect(
    name=DIALECT,
    prefix=PREFIX,
    create_app=create_esim_v1_app,
    create_hot_routes=create_esim_v1_hot_routes,
    render_http_error=http_error,
    erase_customer=erase_customer,
)

__all__ = ["ESIM_V1", "PREFIX", "create_esim_v1_app", "create_esim_v1_hot_routes"]
