"""Where event callbacks may be sent (domain.callbacks), and the pinned request that sends them."""

from __future__ import annotations

import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from orderhub.domain.callbacks import CallbackAddresses, callback_host
from orderhub.fulfilment.callback_requests import pinned

TLS = Path(__file__).parent / "tls"

NOT_PUBLIC = [
    "127.0.0.1",  # loopback
    "::1",
    "10.1.2.3",  # private
    "172.16.0.9",
    "192.168.1.1",
    "169.254.169.254",  # link-local: the cloud metadata service
    "fe80::1",
    "fd00::5",  # unique local
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",
    "224.0.0.1",  # multicast
    "::ffff:10.0.0.1",  # a private IPv4 address spelt as IPv6
    "240.0.0.1",  # reserved
    # IPv6 forms that reach an IPv4 address not public, or blocks Python 3.11 counts as global:
    "::127.0.0.1",  # IPv4-compatible
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata service
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, its client 10.0.0.1
    "fec0::1",  # site-local
]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_addresses_that_are_not_public_are_refused(address: str) -> None:
    refused = CallbackAddresses().refusal(address)
    assert refused is not None and address in refused


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert CallbackAddresses().refusal(address) is None


def test_the_operator_may_allow_networks_of_its_own() -> None:
    allowed = CallbackAddresses.from_setting(" 10.0.0.0/8, 127.0.0.1/32 ,")
    assert allowed.refusal("10.20.30.40") is None
    assert allowed.refusal("::ffff:10.0.0.1") is None
    assert allowed.refusal("127.0.0.1") is None
    assert allowed.refusal("127.0.0.2") is not None
    assert allowed.refusal("192.168.1.1") is not None
    assert allowed.host_refusal("localhost") is None


def test_a_host_is_refused_at_once_when_it_is_an_address_or_this_machine_by_name() -> None:
    addresses = CallbackAddresses()
    assert addresses.host_refusal("169.254.169.254") is not None
    assert addresses.host_refusal("::1") is not None
    for name in ("localhost", "LOCALHOST.", "api.localhost"):
        assert addresses.host_refusal(name) == f"{name} is this machine (loopback)"
    # Other names are judged on what they resolve to, when an event is sent.
    assert addresses.host_refusal("partner.example.com") is None


@pytest.mark.parametrize(
    ("host", "means"),
    [("127.1", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("2130706433", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"),
     ("0xA9.254.169.254", "169.254.169.254"), ("10.1", "10.0.0.1")],
)  # fmt: skip
def test_an_ipv4_address_in_the_resolvers_short_or_numeric_forms_is_judged_as_the_address_it_means(
    host: str, means: str
) -> None:
    assert CallbackAddresses().host_refusal(host) is not None
    assert CallbackAddresses([f"{means}/32"]).host_refusal(host) is None


def test_names_that_only_look_numeric_are_names() -> None:
    for name in ("1.2.3.4.5", "0x", "08.1", "deadbeef"):
        assert CallbackAddresses().host_refusal(name) is None


def test_an_event_is_sent_to_the_address_checked_with_the_name_kept_for_host_and_tls() -> None:
    allowed = CallbackAddresses(["127.0.0.0/8", "::1/128"])
    url, headers, extensions = pinned("https://user:pw@localhost:8443/hub/events?x=1", allowed)  # type: ignore[misc]
    assert url in ("https://user:pw@127.0.0.1:8443/hub/events?x=1", "https://user:pw@[::1]:8443/hub/events?x=1")
    assert headers == {"Host": "localhost:8443"}
    assert extensions == {"sni_hostname": "localhost"}


def test_an_event_is_not_sent_where_the_name_resolves_to_an_address_not_allowed() -> None:
    refused = pinned("http://localhost:9/x", CallbackAddresses())
    assert isinstance(refused, str) and refused.startswith("callback address refused:")
    unresolvable = pinned("http://no-such-host.invalid/x", CallbackAddresses())
    assert isinstance(unresolvable, str) and unresolvable.startswith("cannot resolve no-such-host.invalid")
    # A label longer than DNS allows (a listener registered before it was refused): the resolver raised a
    # ValueError, not an OSError, and the delivery failed on an IndexError, retried for ever.
    too_long = pinned(f"https://{'a' * 64}.example.com/x", CallbackAddresses())
    assert isinstance(too_long, str) and too_long.startswith("callback address refused:"), too_long


@pytest.mark.parametrize(
    ("host", "read"),
    [("127.0.0.1.", "127.0.0.1"), ("169.254.169.254.", "169.254.169.254"), ("127.0.0.1%2e", "127.0.0.1"),
     ("%31%32%37.0.0.1", "127.0.0.1"), ("127.1.", "127.1"), ("localhost%2E", "localhost"), ("::1.", "::1"),
     ("fe80::1%25eth0", "fe80::1%eth0"), ("\uff11\uff12\uff17.\uff10.\uff10.\uff11", "127.0.0.1")],
)  # fmt: skip
def test_a_host_is_read_as_the_resolver_reads_it_and_judged_as_such(host: str, read: str) -> None:
    # The root's trailing dot, percent-encoding and full-width digits (IDNA folds them) are the same host
    # to the resolver: were they judged as spelt, 127.0.0.1. would pass as a name.
    assert callback_host(host) == read
    refused = CallbackAddresses().host_refusal(host)
    assert refused is not None and host in refused, refused


@pytest.mark.parametrize("host", ["ex ample.com", "a%00b", "example..com", "example.com..", "a%2fb", "a%ffb", "a\tb",
                                  "[::1", "1::2::3", "ex%20ample.com", "a@b", f"{'a' * 64}.example.com"])  # fmt: skip
def test_a_host_no_name_or_address_spells_is_refused(host: str) -> None:
    # A resolver may stop reading at a space or a NUL, or read what the checks did not: no name at all.
    with pytest.raises(ValueError, match="is not a host name or an IP address"):
        callback_host(host)
    assert CallbackAddresses().host_refusal(host) == f"{host!r} is not a host name or an IP address"


@pytest.mark.parametrize(
    ("host", "read"),
    [("partner.example.com.", "partner.example.com"), ("Partner.Example.COM", "partner.example.com"),
     ("b\u00fccher.example", "xn--bcher-kva.example"), ("xn--bcher-kva.example", "xn--bcher-kva.example"),
     ("_events.partner-1.example", "_events.partner-1.example"), ("2606:2800:21f::8", "2606:2800:21f::8")],
)  # fmt: skip
def test_names_and_public_addresses_in_any_of_their_spellings_stay_allowed(host: str, read: str) -> None:
    assert callback_host(host) == read
    assert CallbackAddresses().host_refusal(host) is None


def test_an_event_is_sent_as_the_host_was_judged_at_registration() -> None:
    # The dispatcher reads a stored callback's host the same way (a listener registered before this check).
    for url in ("http://127.0.0.1%2e:9/x", "http://ex ample.com/x"):
        refused = pinned(url, CallbackAddresses())
        assert isinstance(refused, str) and refused.startswith("callback address refused:"), refused
    assert pinned("http://127.0.0.1%2e:9/x", CallbackAddresses()) == (
        "callback address refused: 127.0.0.1 is not a public address (loopback, private, link-local or reserved)"
    )
    allowed = CallbackAddresses(["127.0.0.0/8", "::1/128"])
    url, headers, extensions = pinned("http://LocalHost.:8443/hub", allowed)  # type: ignore[misc]
    assert url in ("http://127.0.0.1:8443/hub", "http://[::1]:8443/hub")
    assert (headers, extensions) == ({"Host": "localhost:8443"}, {"sni_hostname": "localhost"})


def test_a_mistyped_network_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match=re.escape("ORDERHUB_HUB_ALLOWED_NETWORKS: '10.0.0/33' is not a network")):
        CallbackAddresses.from_setting("127.0.0.1/32,10.0.0/33")


@pytest.fixture
def tls_listener() -> Iterator[tuple[int, list[str]]]:
    """A listener on 127.0.0.1 serving TLS with a certificate for ``localhost`` only; the Host headers it saw."""
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            hosts.append(self.headers["Host"])
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TLS / "localhost-cert.pem", TLS / "localhost-key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], hosts
    server.shutdown()
    server.server_close()


def test_an_https_event_sent_to_the_checked_address_is_verified_against_the_callbacks_name(
    tls_listener: tuple[int, list[str]],
) -> None:
    port, hosts = tls_listener
    allowed = CallbackAddresses(["127.0.0.1/32"])
    target = pinned(f"https://localhost:{port}/events", allowed)
    assert not isinstance(target, str), target
    url, headers, extensions = target
    assert url == f"https://127.0.0.1:{port}/events"
    with httpx.Client(verify=ssl.create_default_context(cafile=TLS / "localhost-cert.pem")) as http:
        assert http.post(url, json={}, headers=headers, extensions=extensions).status_code == 201
        assert hosts == [f"localhost:{port}"]
        # The same address under a name its certificate does not hold is refused by TLS itself.
        with pytest.raises(httpx.ConnectError, match="Hostname mismatch"):
            http.post(url, json={}, headers={"Host": "partner.example"}, extensions={"sni_hostname": "partner.example"})


def test_a_name_the_resolver_does_not_answer_for_fails_the_delivery_within_its_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A resolver that does not answer (getaddrinfo cannot be interrupted): the system's own waits can
    # last tens of seconds, past the delivery's deadline and the listener's lease.
    real = socket.getaddrinfo
    released = threading.Event()

    def stuck(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "stuck.example":
            released.wait(60)  # until the test is done: not a fixed 3 s, which a loaded machine nears
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", stuck)
    started = time.monotonic()
    try:
        refused = pinned("https://stuck.example/hub", CallbackAddresses(), within=0.3)
        assert time.monotonic() - started < 10  # the resolver not waited out
    finally:
        released.set()
    assert refused == "cannot resolve stuck.example: no answer from the resolver within 0.3 s"
    # A name that does resolve in time is unaffected.
    assert not isinstance(pinned("http://localhost:9/x", CallbackAddresses(["127.0.0.0/8", "::1/128"]), within=5), str)
