"""One typed settings object, read from ``ORDERHUB_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///./orderhub.db"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8080
    # Largest request body accepted, in bytes.
    max_body_bytes: int = 64 * 1024
    # How long a request body may take to arrive (a client that stops sending gets a 408).
    request_body_timeout_seconds: float = 10.0
    # How long request headers may take to arrive (past it the connection is closed).
    request_header_timeout_seconds: float = 10.0
    access_token_ttl_seconds: int = 3600
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    worker_poll_seconds: float = 0.5
    worker_lease_seconds: float = 30.0
    worker_max_attempts: int = 5
    # `orderhub worker`'s operations endpoint (/healthz, /readyz, /metrics): off while the port is 0.
    worker_host: str = "127.0.0.1"
    worker_port: int = 0
    low_stock_threshold: int = 100
    sqlite_synchronous: str = "FULL"
    # How long a write may wait for the database (a lock, a full pool) before answering 503.
    db_write_timeout_seconds: float = 2.0
    # Connections each pool keeps (PostgreSQL; up to twice as many more under a burst).
    db_pool_size: int = 5
    # PostgreSQL: group-commit writers side by side, each with a connection of its own (store.writer_pool).
    db_writers: int = 2
    # Fulfil an order in the transaction that accepts it when its provisioner works on local data
    # (eSIM inventory); off for API processes that leave fulfilment to separate workers.
    fulfil_inline: bool = True
    # The address partners reach this service at (for absolute hrefs in TMF622 events); by default
    # http://<host>:<port>. Answers to requests use the address the request came to.
    public_url: str = ""
    log_level: str = "INFO"
    demo_inventory_size: int = 2000
    # How long tmf-productorder waits for provisioning before answering acknowledged instead of final.
    final_answer_budget_seconds: float = 2.0
    # Networks (comma-separated CIDR blocks) event callbacks may reach although they are not public
    # addresses; by default callbacks reach public addresses only (domain.callbacks).
    hub_allowed_networks: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in fields(cls):
            if spec.name == "extra":
                continue
            raw = env.get(f"ORDERHUB_{spec.name.upper()}")
            if raw is None:
                continue
            kind = type(getattr(cls, spec.name))
            values[spec.name] = _flag(raw) if kind is bool else kind(raw)
        settings = cls(**values)
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})


def _flag(raw: str) -> bool:
    if raw.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if raw.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {raw!r}")
