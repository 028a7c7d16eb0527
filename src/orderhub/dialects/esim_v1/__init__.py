"""esim-v1: the eSIM order API (seed 000): NEW_ESIM and TOPUP orders, polled by externalId."""

from orderhub.dialects.esim_v1.routes import PREFIX, create_esim_v1_app, create_esim_v1_hot_routes

__all__ = ["PREFIX", "create_esim_v1_app", "create_esim_v1_hot_routes"]
