"""tmf622: TM Forum's standard TMF622 v4 Product Ordering API over the line orders."""

from orderhub.dialects.context import Dialect
from orderhub.dialects.tmf622.mapping import DIALECT, PREFIX, event_envelope
from orderhub.dialects.tmf622.routes import create_tmf622_app
from orderhub.dialects.tmf_productorder.erasure import erase_customer
from orderhub.dialects.tmf_productorder.errors import http_error

# Its orders are tmf-productorder's line orders, kept in the same shape.
TMF622 = Dialect(
    name=DIALECT,
    prefix=PREFIX,
    create_app=create_tmf622_app,
    render_event=event_envelope,
    render_http_error=http_error,
    erase_customer=erase_customer,
)

__all__ = ["PREFIX", "TMF622"]
