"""One typed settings object, read from ``ORDERHUB_*`` environment variables."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from ipaddress import ip_network
from typing import Any

from orderhub.database_urls import UnusableDatabaseUrl, usable_database_url

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
    # How long a connection may stay idle between requests before orderhub closes it. Whatever keeps
    # connections to orderhub (a proxy, a load balancer) must let go sooner (README "Deploying").
    keep_alive_seconds: int = 5
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
    # The address partners reach this service at: absolute hrefs in TMF622 events and answers, the served
    # documents' server and token URL. Unset: events name http://<host>:<port>, answers the address the
    # request came to.
    public_url: str = ""
    log_level: str = "INFO"
    demo_inventory_size: int = 2000
    # How long tmf-productorder waits for provisioning before answering acknowledged instead of final.
    final_answer_budget_seconds: float = 2.0
    # Networks (comma-separated CIDR blocks) event callbacks may reach although they are not public
    # addresses; by default callbacks reach public addresses only (domain.callbacks).
    hub_allowed_networks: str = ""
    # How long a TMF622 event that a listener did not take waits before it is sent again; doubled with
    # each failure in a row, up to 30 s (services.hub).
    hub_retry_seconds: float = 1.0
    # How long one delivery of a TMF622 event may take, connecting, sending and reading the whole answer:
    # past it the delivery failed and is retried as any other. A listener's lease (one worker delivers to
    # it at a time) is renewed before each delivery and is twice this plus 10 s (services.hub).
    hub_delivery_timeout_seconds: float = 10.0
    # PostgreSQL: how often an API process adds its onapi-order requests to the partners' shared rate-limit
    # buckets and learns the other processes' (services.rate_limits), while a limited partner sends.
    rate_limit_sync_seconds: float = 1.0
    # When set, /metrics (on serve's port and the worker's) answers only "Authorization: Bearer <it>".
    metrics_token: str = ""
    # A syslog socket (/dev/log) that `orderhub` commands also send their audit-trail entries to (cli.audit).
    audit_syslog: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """The settings of ``ORDERHUB_*`` variables, then ``overrides`` (the CLI's options, None: not
        given). A value orderhub cannot use raises ``SettingError``, which names the variable, the value
        and what is allowed."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in fields(cls):
            if spec.name == "extra":
                continue
            name = f"ORDERHUB_{spec.name.upper()}"
            raw = env.get(name)
            if raw is not None:
                values[spec.name] = parse_setting(spec.name, raw, name)
        # The CLI's options are checked as their variables are, named as the operator typed them.
        for setting, option in _OPTIONS.items():
            if overrides.get(setting) is not None:
                overrides[setting] = parse_setting(setting, str(overrides[setting]), option)
        settings = cls(**values)
        return replace(settings, **{k: v for k, v in overrides.items() if v is not None})


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """One line for each ``ORDERHUB_*`` variable that is no setting, naming the setting it was likely meant
    to be: a misspelled variable would otherwise leave its setting at the default without a word. Not an
    error: during a rolling upgrade the environment may already hold a newer release's settings."""
    env = os.environ if environ is None else environ
    known = [spec.name.upper() for spec in fields(Settings) if spec.name != "extra"]
    lines = []
    for name in sorted(key for key in env if key.startswith("ORDERHUB_") and key[9:] not in known):
        if name.startswith(_NOT_SETTINGS):
            continue
        # Compared without the prefix, which every name shares and which would make any two look alike.
        close = difflib.get_close_matches(name[9:], known, n=1)
        hint = f" (did you mean ORDERHUB_{close[0]}?)" if close else ""
        lines.append(f"{name} is not an orderhub setting{hint}: ignored")
    return lines


# Variables of orderhub's own tools (the test suite), not of the service.
_NOT_SETTINGS = ("ORDERHUB_TEST_", "ORDERHUB_SCHEMATHESIS_")


class SettingError(ValueError):
    """A setting orderhub cannot use; the message is the one line the operator reads."""


class _Refused(Exception):
    """A parser's refusal, carrying what is allowed."""


def parse_setting(field_name: str, raw: str, name: str | None = None) -> Any:
    """The value of setting ``field_name`` read from the text ``raw``; ``name`` is how the operator gave
    it (the variable, by default)."""
    try:
        return _PARSERS[field_name](raw)
    except _Refused as exc:
        label = name or f"ORDERHUB_{field_name.upper()}"
        shown = "***" if field_name in _SECRETS else _shown(raw)
        raise SettingError(f"{label} must be {exc} (got {shown!r})") from None


# A URL's user and password (up to its last "@": a password may hold "/" or "?"; a mistyped scheme,
# "postgresql//", keeps them no less secret), and a password given as a parameter (libpq takes
# ?password=): an error line ends up in logs, which never show them.
_URL_CREDENTIALS = re.compile(r"(?s)^(\s*(?:[A-Za-z][A-Za-z0-9+.-]*:?//)?).*@")
_PASSWORD_PARAMETER = re.compile(r"(?i)(password=)[^&\s]*")


def _shown(raw: str) -> str:
    """A refused value as its error line shows it: without credentials (SECURITY.md)."""
    return _PASSWORD_PARAMETER.sub(r"\1***", _URL_CREDENTIALS.sub(r"\1***@", raw))


def _integer(low: int, high: int | None = None) -> Callable[[str], int]:
    allowed = f"a whole number from {low} to {high}" if high is not None else f"a whole number of at least {low}"

    def parse(raw: str) -> int:
        if not re.fullmatch(r"[0-9]+", raw.strip()):
            raise _Refused(allowed)
        value = int(raw.strip())
        if value < low or (high is not None and value > high):
            raise _Refused(allowed)
        return value

    return parse


def _seconds(*, zero: bool = False) -> Callable[[str], float]:
    allowed = "a number of seconds" + (" of at least 0" if zero else " greater than 0")

    def parse(raw: str) -> float:
        if not re.fullmatch(r"[0-9]+(\.[0-9]*)?|\.[0-9]+", raw.strip()):
            raise _Refused(allowed)
        value = float(raw.strip())
        if value < 0 or (value == 0 and not zero):
            raise _Refused(allowed)
        return value

    return parse


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw.strip().upper() not in choices:
            raise _Refused(f"one of {', '.join(choices)}")
        return raw.strip().upper()

    return parse


def _flag(raw: str) -> bool:
    if raw.strip().lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise _Refused("true or false (or 1/0, yes/no, on/off)")
    return raw.strip().lower() in ("1", "true", "yes", "on")


def _database_url(raw: str) -> str:
    try:
        return usable_database_url(raw)
    except UnusableDatabaseUrl as exc:
        raise _Refused(str(exc)) from None


def _host(raw: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9.:_%-]+", raw.strip()):
        raise _Refused("a host name or IP address to listen on, such as 127.0.0.1 or 0.0.0.0")
    return raw.strip()


def _public_url(raw: str) -> str:
    if raw.strip() and not re.fullmatch(r"https?://[^\s/?#]+(/\S*)?", raw.strip()):
        raise _Refused("empty or an http:// or https:// URL, such as https://orders.example.com")
    return raw.strip()


def _token(raw: str) -> str:
    if raw and not re.fullmatch(r"[\x21-\x7e]{16,256}", raw):
        raise _Refused("empty or 16 to 256 visible ASCII characters without spaces")
    return raw


def _socket_path(raw: str) -> str:
    if raw.strip() and not raw.strip().startswith("/"):
        raise _Refused("empty or the absolute path of a syslog socket, such as /dev/log")
    return raw.strip()


# Settings whose value an error line never shows, not even refused.
_SECRETS = frozenset({"metrics_token"})


def _networks(raw: str) -> str:
    try:
        for part in raw.split(","):
            if part.strip():
                ip_network(part.strip(), strict=False)
    except ValueError:
        raise _Refused("empty or comma-separated CIDR blocks, such as 10.0.0.0/8,192.168.1.0/24") from None
    return raw


# Options of the CLI that set a setting, and how the operator types them.
_OPTIONS = {"database_url": "--db", "port": "--port", "worker_port": "--port"}

_PARSERS: dict[str, Callable[[str], Any]] = {
    "database_url": _database_url,
    "host": _host,
    "port": _integer(1, 65535),
    "max_body_bytes": _integer(1),
    "request_body_timeout_seconds": _seconds(),
    "request_header_timeout_seconds": _seconds(),
    "keep_alive_seconds": _integer(1, 3600),
    "access_token_ttl_seconds": _integer(1),
    "refresh_token_ttl_seconds": _integer(1),
    "worker_poll_seconds": _seconds(),
    "worker_lease_seconds": _seconds(),
    "worker_max_attempts": _integer(1),
    "worker_host": _host,
    "worker_port": _integer(0, 65535),  # 0: the worker serves no operations endpoint
    "low_stock_threshold": _integer(0),
    "sqlite_synchronous": _one_of("FULL", "EXTRA", "NORMAL"),
    "db_write_timeout_seconds": _seconds(),
    "db_pool_size": _integer(1),
    "db_writers": _integer(1),
    "fulfil_inline": _flag,
    "public_url": _public_url,
    "log_level": _one_of("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
    "demo_inventory_size": _integer(0),
    "final_answer_budget_seconds": _seconds(zero=True),
    "hub_allowed_networks": _networks,
    "hub_retry_seconds": _seconds(),
    "hub_delivery_timeout_seconds": _seconds(),
    "rate_limit_sync_seconds": _seconds(),
    "metrics_token": _token,
    "audit_syslog": _socket_path,
}
