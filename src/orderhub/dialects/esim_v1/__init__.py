"""esim-v1: the eSIM order API (seed 000): NEW_ESIM and TOPUP orders, polled by externalId."""

from orderhub.dialects.esim_v1.routes import create_esim_v1_app

__all__ = ["create_esim_v1_app"]
