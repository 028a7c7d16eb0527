"""The request that sends an event to a listener's callback: to the address its name resolves to now,
once that address is one events may go to, with the name looked up within a bound."""

from __future__ import annotations

import socket
import threading
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from orderhub.domain.callbacks import CallbackAddresses, callback_host

DEFAULT_LOOK_UP_SECONDS = 10.0


def pinned(
    url: str, allowed: CallbackAddresses, *, within: float = DEFAULT_LOOK_UP_SECONDS
) -> tuple[str, dict[str, str], dict[str, Any]] | str:
    """The request for ``url`` sent to the address its host resolves to now, once every address it
    resolves to passed ``allowed``; or why not. Sent to that address itself (the host goes in the Host
    header and, for TLS, as the server name the certificate is checked against), so that the name cannot
    resolve to another address between the check and the connection (DNS rebinding). The name is looked
    up for ``within`` seconds at most."""
    parts = urlsplit(url)
    try:
        # As registration read it: a listener stored before that check, or under an older one, is held
        # to it here too (127.0.0.1%2e is 127.0.0.1, and refused).
        host = callback_host(parts.hostname or "")
    except ValueError as exc:
        return f"callback address refused: {exc}"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = _look_up(host, port, within)
    except OSError as exc:
        return f"cannot resolve {host}: {exc}"
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    for address in addresses:
        refused = allowed.refusal(address)
        if refused is not None:
            return f"callback address refused: {refused}"
    address = addresses[0]
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"[{address}]" if ":" in address else address
    # The Host header and the TLS server name are the host as resolved, not as spelt (SNI takes no
    # trailing dot, and a percent-encoded name is no name a server knows itself by).
    host_header = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
        host_header += f":{parts.port}"
    if userinfo:
        netloc = f"{userinfo}@{netloc}"
    request_url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return request_url, {"Host": host_header}, {"sni_hostname": host}


def _look_up(host: str, port: int, within: float) -> list[Any]:
    """``socket.getaddrinfo`` given at most ``within`` seconds. It cannot be interrupted, so it runs on a
    thread of its own that is left to finish alone (a daemon: it never holds up the process's exit)
    when the answer does not come in time."""
    answer: list[Any] = []
    failure: list[OSError] = []
    done = threading.Event()

    def look_up() -> None:
        try:
            answer.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            failure.append(exc)
        finally:
            done.set()

    threading.Thread(target=look_up, name="callback-look-up", daemon=True).start()
    if not done.wait(within):
        raise TimeoutError(f"no answer from the resolver within {within:g} s")
    if failure:
        raise failure[0]
    return answer
