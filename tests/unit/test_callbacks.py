"""Where event callbacks may be sent (domain.callbacks), and the pinned request that sends them."""

from __future__ import annotations

import re

import pytest

from orderhub.domain.callbacks import CallbackAddresses
from orderhub.fulfilment.hub_dispatcher import pinned

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


def test_a_mistyped_network_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match=re.escape("ORDERHUB_HUB_ALLOWED_NETWORKS: '10.0.0/33' is not a network")):
        CallbackAddresses.from_setting("127.0.0.1/32,10.0.0/33")
