"""Which peers may tell who the client is: `FORWARDED_ALLOW_IPS`, the addresses of the proxies in front
whose `X-Forwarded-For` and `X-Forwarded-Proto` the server believes (uvicorn's setting, SECURITY.md).

uvicorn takes any entry it cannot read as an address or network for a literal name that no peer ever
matches, without a word: `localhost`, `10.0.0.5;10.0.0.6`, `10.0.0.5/24` (host bits set) or `*` in a
list trusted nobody, so every partner behind the proxy counted as the proxy's one address and a few
wrong secrets from anyone locked all of them out of signing in (services.sign_ins), and links went out
with the scheme the proxy spoke to orderhub. Checked when `serve` starts, as orderhub's own settings are.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from ipaddress import ip_address, ip_network

from orderhub.settings import SettingError

VARIABLE = "FORWARDED_ALLOW_IPS"
# uvicorn's default: a proxy on the same host, over IPv4 or IPv6 loopback.
DEFAULT = "127.0.0.1,::1"
ALLOWED = (
    "`*` alone (any peer: only where nothing but the proxy can reach orderhub) or comma-separated IP addresses"
    " or networks of the proxies in front, such as 127.0.0.1 or 10.0.0.0/24"
)


def trusted_proxies(environ: Mapping[str, str] | None = None) -> str:
    """FORWARDED_ALLOW_IPS as uvicorn reads it, each entry written as uvicorn parses it (a network's host
    bits cleared); empty: no proxy is trusted. A value whose entries are not all addresses or networks
    raises SettingError naming it."""
    raw = (os.environ if environ is None else environ).get(VARIABLE, DEFAULT)
    if raw.strip() == "*":
        return "*"
    entries = [part.strip() for part in raw.split(",") if part.strip()]
    try:
        return ",".join(str(ip_network(part, strict=False) if "/" in part else ip_address(part)) for part in entries)
    except ValueError:
        raise SettingError(f"{VARIABLE} must be {ALLOWED} (got {raw!r})") from None
