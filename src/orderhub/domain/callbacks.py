"""Where event callbacks may be sent: to public addresses, and to the networks the operator allows.

A listener's callback URL is the partner's to choose, and orderhub then sends requests to it from
inside the operator's network. Left open, a partner could make orderhub call the database, a cloud
metadata service (169.254.169.254) or any other internal service for it (server-side request forgery).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from urllib.parse import unquote, urlsplit

# What may be an IPv4 address in one of inet_aton's forms (127.1, 0x7f000001, 2130706433, 0177.0.0.1).
_NUMERIC_HOST = re.compile(r"[0-9a-fA-FxX.]+")


# What a host name holds once read as the resolver reads it: letters, digits, hyphens and dots (RFC 1123),
# and the underscore DNS names carry in practice, each label of 63 characters at most (RFC 1035: the
# resolver's IDNA step refuses a longer one, a ValueError where a failed look-up is an OSError). Anything
# else (a space, a percent sign, a NUL) is no name: a resolver may cut the name there, or read it
# otherwise than the checks below did.
_HOST_NAME = re.compile(r"[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*")


def url_host(url: str) -> str | None:
    """The host of an absolute http or https URL as ``urlsplit`` reads it; None for anything else, and for a
    URL holding a blank or a control character (none is part of a URL, RFC 3986): ``urlsplit`` drops a tab
    or newline where it stands, so a listener was kept, shown and answered with one URL and called at
    another. An unbalanced or malformed bracketed host ("https://[::1/x") is None, as a port that is no
    number is."""
    if not url.isprintable() or any(char.isspace() for char in url):
        return None
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname if parts.scheme in ("http", "https") else None, parts.port
    except ValueError:
        return None
    return host


def callback_host(host: str) -> str:
    """The host a callback URL names, as the resolver reads it (``urlsplit(url).hostname``, lowercase):
    percent-decoded (``127.0.0.1%2e`` is ``127.0.0.1.``), without the one trailing dot that names the
    DNS root (``127.0.0.1.`` is ``127.0.0.1``), an international name in its ASCII form (which folds
    full-width digits and dots too). ValueError for a host no name or IP address spells. Registration and
    every delivery read the host through this alone, so the two cannot disagree about it."""
    not_a_host = ValueError(f"{host!r} is not a host name or an IP address")
    try:
        decoded = unquote(host, errors="strict")
    except UnicodeDecodeError:
        raise not_a_host from None
    if decoded.endswith("."):
        decoded = decoded[:-1]
    if ":" in decoded:  # an IPv6 literal, its zone (fe80::1%eth0) decoded above, or nothing
        try:
            ip_address(decoded)
        except ValueError:
            raise not_a_host from None
        return decoded.lower()
    if not decoded.isascii():
        try:
            decoded = decoded.encode("idna").decode("ascii")
        except UnicodeError:
            raise not_a_host from None
    decoded = decoded.lower()
    if not _HOST_NAME.fullmatch(decoded):
        raise not_a_host
    return decoded


def ipv4_of(host: str) -> str | None:
    """The dotted-quad IPv4 address a host means when it is one in any form the system's resolver takes
    (inet_aton: one to four parts, each decimal, octal with a leading 0 or hex with 0x); None for a name."""
    if not _NUMERIC_HOST.fullmatch(host):
        return None  # inet_aton takes trailing text after a space on some systems: not an address here
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except OSError:
        return None


# IPv6 blocks that carry an IPv4 address in their last 32 bits and reach it: NAT64 (RFC 6052, 8215)
# and the IPv4-compatible addresses of old (::a.b.c.d).
_CARRYING_IPV4 = (ip_network("64:ff9b::/96"), ip_network("64:ff9b:1::/48"), ip_network("::/96"))


def _ipv4_inside(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 address reaches through a translation or tunnel (NAT64, 6to4, Teredo)."""
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in block for block in _CARRYING_IPV4):
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


class CallbackAddresses:
    def __init__(self, allowed_networks: Iterable[str] = ()) -> None:
        """``allowed_networks``: CIDR blocks callbacks may reach although they are not public
        (``10.0.0.0/8`` for listeners on the operator's own network, ``127.0.0.1/32`` in development)."""
        self._allowed = tuple(ip_network(network.strip(), strict=False) for network in allowed_networks)

    @classmethod
    def from_setting(cls, text: str) -> CallbackAddresses:
        """From a comma-separated list, as ``ORDERHUB_HUB_ALLOWED_NETWORKS`` gives it."""
        networks = [part.strip() for part in text.split(",") if part.strip()]
        for network in networks:
            try:
                ip_network(network, strict=False)
            except ValueError:
                raise ValueError(
                    f"ORDERHUB_HUB_ALLOWED_NETWORKS: {network!r} is not a network (CIDR, e.g. 10.0.0.0/8)"
                ) from None
        return cls(networks)

    def refusal(self, address: str) -> str | None:
        """Why a callback must not reach this IP address, or None when it may."""
        ip: IPv4Address | IPv6Address = ip_address(address)
        if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
        if any(ip in network for network in self._allowed):
            return None
        # ::1 and :: lie in the IPv4-compatible block, and are no IPv4 address: named for what they are.
        if isinstance(ip, IPv6Address) and (ip.is_loopback or ip.is_unspecified):
            kind = "IPv6 loopback" if ip.is_loopback else "IPv6 unspecified address: this machine"
            return f"{address} is not a public address ({kind})"
        inside = _ipv4_inside(ip) if isinstance(ip, IPv6Address) else None
        if inside is not None and self.refusal(str(inside)) is not None:
            return f"{address} reaches {inside}, which is not a public address"
        # Python 3.11 counts some reserved and site-local IPv6 blocks as global: asked about them itself.
        site_local = isinstance(ip, IPv6Address) and ip.is_site_local
        if ip.is_global and not (ip.is_multicast or ip.is_reserved or site_local):
            return None
        return f"{address} is not a public address (loopback, private, link-local or reserved)"

    def host_refusal(self, host: str) -> str | None:
        """Why a callback must not name this host, as far as the name itself tells: an IP address, or a
        name that is this machine by definition. Other names are checked on what they resolve to each
        time an event is sent (fulfilment.hub_dispatcher), since that may change. The host is read as the
        resolver reads it (callback_host) first."""
        try:
            name = callback_host(host)
        except ValueError as exc:
            return str(exc)
        try:
            refused = self.refusal(name)
        except ValueError:
            pass
        else:
            return f"{host} is {name}, and {refused}" if refused and name != host else refused
        address = ipv4_of(name)
        if address is not None:
            refused = self.refusal(address)
            return f"{host} is {address}, and {refused}" if refused else None
        loopback = name == "localhost" or name.endswith(".localhost")  # RFC 6761: always this machine
        if loopback and self.refusal("127.0.0.1") is not None and self.refusal("::1") is not None:
            return f"{host} is this machine (loopback)"
        return None
