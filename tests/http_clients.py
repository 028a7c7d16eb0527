"""What the tests' HTTP clients are made with."""

from __future__ import annotations

import httpx

# httpx makes a TLS context for every client it makes, reading the whole CA bundle: some 20 ms of CPU
# each, and the suite makes thousands of clients (one or more a test, one an order in the load tests).
# This one, made once, serves them all: the same checks as httpx's own (the tests talk plain HTTP to
# 127.0.0.1 and never use it), as the hub dispatcher shares one for its deliveries.
TLS = httpx.create_ssl_context()
