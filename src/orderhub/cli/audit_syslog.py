"""A copy of each audit-trail entry for the host's syslog (ORDERHUB_AUDIT_SYSLOG, e.g. /dev/log).

The trail in the database can be changed by whoever holds the database's password. A syslog that ships
its lines to another host keeps a copy they cannot reach: what a command was, when it started and how
it ended, as the trail has it. Sent as sudo logs its commands: facility authpriv, one line a message.
"""

from __future__ import annotations

import errno
import json
import os
import socket
from typing import Any

# authpriv (10) * 8 + notice (5): where sudo's lines go, and what log shippers take for security events.
PRIORITY = 10 * 8 + 5
TAG = "orderhub"
TIMEOUT_SECONDS = 2.0


def send(path: str, entry: dict[str, Any]) -> str | None:
    """Sends ``entry`` (already masked) to the syslog socket at ``path``; why not, when it could not be."""
    line = f"<{PRIORITY}>{TAG}[{os.getpid()}]: audit {json.dumps(entry, ensure_ascii=False)}".encode()
    try:
        _deliver(path, line)
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def _deliver(path: str, line: bytes) -> None:
    # Most syslog daemons (journald, rsyslog) read datagrams there; syslog-ng may read a stream instead,
    # where each message ends with a newline.
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as datagrams:
        datagrams.settimeout(TIMEOUT_SECONDS)  # a daemon that reads nothing more does not hold the command
        try:
            datagrams.connect(path)
        except OSError as exc:
            if exc.errno != errno.EPROTOTYPE:  # a stream socket
                raise
        else:
            datagrams.send(line)
            return
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stream:
        stream.settimeout(TIMEOUT_SECONDS)
        stream.connect(path)
        stream.sendall(line + b"\n")
