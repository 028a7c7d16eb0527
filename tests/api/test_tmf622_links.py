"""The links TMF622 answers with (Location, href) point at ORDERHUB_PUBLIC_URL when it is set, as events
do: they were built from the request's Host header, which any client writes, so `Host: evil.example`
came back as a link to evil.example. Without a public URL they point where the request came to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.api.support import get_token, running_server
from tests.api.test_tmf622 import BASE, CHANNELS, DELIVERED_WITHIN, Listener, auth, later, order_body

PUBLIC_URL = "https://orders.example.com/partners"
LOOPBACK = {"hub_allowed_networks": "127.0.0.1/32", "worker_poll_seconds": 0.2, "hub_retry_seconds": 0.1}
FORGED = {"Host": "evil.example"}


def links_of(client: httpx.Client, token: str, callback: str) -> list[str]:
    """Every link the TMF622 API answers with, each request sent with a forged Host header."""
    links: list[str] = []

    def asked(method: str, path: str, body: Any = None) -> Any:
        answer = client.request(method, f"{BASE}{path}", json=body, headers=auth(token, **FORGED))
        assert answer.status_code in (200, 201), answer.text
        if "Location" in answer.headers:
            links.append(answer.headers["Location"])
        return answer.json()

    asked("POST", "/hub", {"callback": callback})  # first: a listener hears what happens after it registers
    created = asked("POST", "/productOrder", order_body(requestedStartDate=later(3)))
    reference = created["id"]
    links.append(created["href"])
    links += [order["href"] for order in asked("GET", "/productOrder", None)]
    links.append(asked("GET", f"/productOrder/{reference}")["href"])
    links.append(asked("PATCH", f"/productOrder/{reference}", {"description": "changed"})["href"])
    cancellation = asked("POST", "/cancelProductOrder", {"productOrder": {"id": reference}})
    links += [cancellation["href"], cancellation["productOrder"]["href"]]
    for shown in [*asked("GET", "/cancelProductOrder"), asked("GET", f"/cancelProductOrder/{cancellation['id']}")]:
        links += [shown["href"], shown["productOrder"]["href"]]
    assert len(links) == 13, links
    return links


def test_with_a_public_url_every_link_points_at_it_whatever_host_the_request_names(tmp_path: Path) -> None:
    listener = Listener()
    with running_server(tmp_path / "o.db", public_url=PUBLIC_URL, **LOOPBACK) as server, server.client() as client:
        token = get_token(client, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
        links = links_of(client, token, listener.url)
        # Created, pending, changed, the cancellation's own two and its three steps.
        events = listener.wait_for(8, timeout=DELIVERED_WITHIN)
    listener.close()
    assert [link for link in links if not link.startswith(f"{PUBLIC_URL}{BASE}/")] == []
    assert len(events) == 8, events
    for event in events:
        shown = event["event"].get("productOrder") or event["event"]["cancelProductOrder"]
        assert shown["href"].startswith(f"{PUBLIC_URL}{BASE}/"), event


def test_without_a_public_url_links_point_where_the_request_came(tmp_path: Path) -> None:
    with running_server(tmp_path / "o.db") as server, server.client() as client:
        token = get_token(client, str(CHANNELS[0]["client_id"]), str(CHANNELS[0]["client_secret"]))
        links = links_of(client, token, "https://partner.example.com/events")
    assert [link for link in links if not link.startswith(f"http://evil.example{BASE}/")] == []
