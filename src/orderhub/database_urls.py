"""Which database URLs orderhub works on: SQLite files and PostgreSQL servers, as operators write them."""

from __future__ import annotations

import re

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError


class UnusableDatabaseUrl(ValueError):
    """A URL orderhub cannot work on; the message says what it takes."""


_HOST_AND_PORT = (
    "a database URL whose host is followed by a port from 1 to 65535, if any (host:5432, or [::1]:5432 for an"
    " IPv6 address), such as postgresql://user@host:5432/name"
)


def usable_database_url(raw: str) -> str:
    """The URL orderhub opens for ``raw`` (postgres:// read as postgresql://); UnusableDatabaseUrl."""
    if not re.match(r"(sqlite|postgres|postgresql)(\+[a-z0-9_]+)?://", raw.strip()):
        raise UnusableDatabaseUrl(
            "a database URL, such as sqlite:///path/to/orderhub.db or postgresql://user@host:5432/name"
        )
    # The scheme many platforms hand out (Heroku, Render, Fly.io); SQLAlchemy knows only postgresql.
    url = re.sub(r"^postgres(?=[+:])", "postgresql", raw.strip())
    try:
        parsed = make_url(url)
        port = parsed.port
    except (ArgumentError, ValueError):  # ValueError: a port that is no number ("54x2", "[::1:5432")
        raise UnusableDatabaseUrl(_HOST_AND_PORT) from None
    if port is not None and not 1 <= port <= 65535:
        raise UnusableDatabaseUrl(_HOST_AND_PORT)
    if _in_memory(parsed, url):
        # Every process would have a database of its own, and every order would be gone when it stops.
        raise UnusableDatabaseUrl(
            "a database file or server, not an in-memory SQLite database, which loses every order when orderhub"
            " stops (such as sqlite:///path/to/orderhub.db)"
        )
    return url


def _in_memory(parsed: URL, url: str) -> bool:
    """A SQLite URL SQLAlchemy opens in memory: no file (sqlite://), :memory:, or a URI of mode=memory."""
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database or ""
    return database in ("", ":memory:") or database.startswith("file::memory:") or "mode=memory" in url
