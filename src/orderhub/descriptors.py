"""The file descriptors a process that serves needs, checked before it starts.

A descriptor limit that lets start-up through but not much more makes a server that starts and then
cannot work: the database connections are opened as they are first needed (a reading thread's, a
writer's, the worker's, a callback's), and partners' connections as they come, so its probes answer 503,
an order 500, and a partner's connection is refused, with nothing said at start. `serve` and `worker`
refuse such a limit at start instead, in one line (README "Running on PostgreSQL, on several hosts",
open files).
"""

from __future__ import annotations

import os
import resource

from sqlalchemy.engine import make_url

from orderhub.settings import Settings

# TMF622 event deliveries under way at once (fulfilment.hub_dispatcher): each holds a database
# connection and a socket to its listener.
CALLBACKS_AT_ONCE = 8
# The database connections of a process besides its writers and reading threads: its event loop's,
# its worker's, its event dispatcher's and its worker's LISTEN.
OTHER_CONNECTIONS = 4
# What the process holds besides the database's: its listening socket, the event loop's own (epoll,
# its wake-up pipe), the log files and the worker's probe server.
OWN_DESCRIPTORS = 16
# Partners' connections a server must be able to take at once, at the least, to be serving at all.
CLIENTS_AT_LEAST = 16


def descriptors_needed(settings: Settings) -> int:
    """Descriptors the process may hold at once with these settings, beyond those open before it
    starts (the defaults: 19 database connections, 11 kept and 8 while callbacks go out)."""
    sqlite = make_url(settings.database_url).get_backend_name() == "sqlite"
    writers = 1 if sqlite else settings.db_writers
    connections = writers + settings.db_pool_size + OTHER_CONNECTIONS + CALLBACKS_AT_ONCE
    # A SQLite connection holds the database file and its write-ahead log.
    per_connection = 2 if sqlite else 1
    return connections * per_connection + CALLBACKS_AT_ONCE + OWN_DESCRIPTORS + CLIENTS_AT_LEAST


def descriptor_limit() -> int | None:
    """The process's limit of open files, None when there is none."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return None if soft == resource.RLIM_INFINITY else soft


def descriptors_open() -> int:
    """How many descriptors the process holds now."""
    for listing in ("/proc/self/fd", "/dev/fd"):
        try:
            return len(os.listdir(listing)) - 1  # less the one the listing itself opened
        except OSError:
            continue
    held = 0
    for descriptor in range(descriptor_limit() or 1024):
        try:
            os.fstat(descriptor)
        except OSError:
            continue
        held += 1
    return held


def too_few_descriptors(settings: Settings) -> int | None:
    """The limit, when it leaves this process too few descriptors to serve; None when it is enough."""
    limit = descriptor_limit()
    if limit is None or limit >= descriptors_open() + descriptors_needed(settings):
        return None
    return limit
