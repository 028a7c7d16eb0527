"""Wire dialects: thin adapters that translate a partner API's format to and from the services."""

from orderhub.dialects.context import Dialect, DialectContext
from orderhub.dialects.esim_v1 import ESIM_V1
from orderhub.dialects.onapi import ONAPI
from orderhub.dialects.tmf622 import TMF622
from orderhub.dialects.tmf_productorder import TMF_PRODUCTORDER

# Every dialect the service serves; the app, the metrics and the docs iterate over this list.
DIALECTS: tuple[Dialect, ...] = (ESIM_V1, TMF_PRODUCTORDER, TMF622, ONAPI)

__all__ = ["DIALECTS", "Dialect", "DialectContext"]
