"""Benchmarks: orderhub against a bare ASGI app on the same server stack, in one run (see README.md)."""
