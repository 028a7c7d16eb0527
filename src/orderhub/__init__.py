"""orderhub: order management for connectivity products."""

__version__ = "0.1.0"
