"""tmf-productorder: prepaid line orders (seed 001), a TMF622-style vendor API, served under two prefixes."""

from orderhub.dialects.context import Dialect
from orderhub.dialects.tmf_productorder.erasure import erase_customer
from orderhub.dialects.tmf_productorder.errors import http_error
from orderhub.dialects.tmf_productorder.mapping import DIALECT
from orderhub.dialects.tmf_productorder.routes import create_tmf_productorder_app, create_tmf_productorder_hot_routes

# The documented base path, and the shorter one the seed's own curl examples call.
PREFIX = "/emida-ux-lcr/emida-ux/v1"
ALIASES = ("/emida-ux/v1",)

TMF_PRODUCTORDER = Dialect(
    name=DIALECT,
    prefix=PREFIX,
    aliases=ALIASES,
    create_app=create_tmf_productorder_app,
    create_hot_routes=lambda context: create_tmf_productorder_hot_routes(context, (PREFIX, *ALIASES)),
    render_http_error=http_error,
    erase_customer=erase_customer,
    keyed_by_correlation_id=True,
)

__all__ = ["ALIASES", "PREFIX", "TMF_PRODUCTORDER"]
