"""Serving a listener makes no TLS context of its own: httpx's client reads the whole CA bundle for each
one (some 20 ms of CPU), and a listener is served every poll, with events to send or none, so a few
hundred listeners registered by a fuzzer kept the dispatcher's eight threads busy with nothing to send."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from orderhub.domain.changes import Listener
from orderhub.fulfilment.hub_dispatcher import HubDispatcher
from orderhub.services.hub import HubService


class IdleHub:
    """A hub whose listeners have nothing pending."""

    def __init__(self) -> None:
        self.released: list[str] = []

    def pending(self, listener: Listener) -> list[Any]:
        return []

    def release(self, listener_id: str) -> None:
        self.released.append(listener_id)


def test_listeners_served_again_and_again_share_one_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []
    real = ssl.create_default_context

    def counted(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counted)
    hub = IdleHub()
    dispatcher = HubDispatcher(cast(HubService, hub))
    listeners = [
        Listener(f"listener-{n}", "demo-channel-1", f"https://listener-{n}.example.com/", None, datetime.now(UTC), 0)
        for n in range(20)
    ]

    for listener in listeners * 3:
        assert dispatcher.deliver(listener) == 0

    assert len(hub.released) == 60
    assert len(made) <= 1
