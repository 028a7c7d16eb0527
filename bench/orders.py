"""What a run places and reads back: tokens, orders placed one by one, the database prepared, and
from the orders' own history their completion times and the backlog."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench import bulk
from bench.servers import Server, orderhub_cli

# The backlog: orders due by now and not finished (orders scheduled for later are not behind).
UNFINISHED = (
    "SELECT COUNT(*) FROM orders WHERE state IN ('accepted', 'scheduled', 'in_progress')"
    " AND due_at <= strftime('%Y-%m-%d %H:%M:%f', 'now')"
)


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def token(server: Server, client_id: str = "demo-reseller-1") -> str:
    """A bearer token of a demo partner (its secret is the demo's: the client id and "-secret")."""
    answer = httpx.post(
        server.url + "/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": f"{client_id}-secret"},
        trust_env=False,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def activation() -> str:
    return (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT12:00:00Z")


def place(server: Server, token: str, count: int) -> list[str]:
    body = {
        "input": {
            "operationType": "NEW_ESIM",
            "countryCode": "PT",
            "customer": {"email": "", "countryOfResidence": "US"},
            "device": {"type": "ios"},
            "subscriptions": [{"id": bulk.PRODUCT, "activationDate": activation(), "price": 10, "currency": "USD"}],
        }
    }
    ids = []
    with httpx.Client(base_url=server.url, trust_env=False, timeout=30) as http:
        for _ in range(count):
            body["input"]["customer"]["email"] = f"bench-{uuid.uuid4().hex[:12]}@example.com"  # type: ignore[index]
            headers = {"Authorization": f"Bearer {token}", "X-Correlation-ID": f"bench-{uuid.uuid4()}"}
            answer = http.post("/esim/v1/order", json=body, headers=headers)
            answer.raise_for_status()
            ids.append(answer.json()["id"])
    return ids


def completion_ms(db_path: Path, since: datetime, until: datetime) -> dict[str, float | int]:
    """accepted -> completed, from the orders' own history, for orders accepted in the window."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT a.at, c.at FROM order_events a JOIN order_events c ON c.order_id = a.order_id"
            " AND c.to_state = 'completed' WHERE a.to_state = 'accepted' AND a.at BETWEEN ? AND ?",
            (utc_text(since), utc_text(until)),
        ).fetchall()
    if not rows:
        return {"orders": 0}
    spans = sorted((datetime.fromisoformat(c) - datetime.fromisoformat(a)).total_seconds() * 1000 for a, c in rows)
    return {
        "orders": len(spans),
        "p50_ms": round(spans[len(spans) // 2], 2),
        "p99_ms": round(spans[min(len(spans) - 1, int(len(spans) * 0.99))], 2),
    }


def unfinished(db_path: Path) -> int:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10) as db:
        return int(db.execute(UNFINISHED).fetchone()[0])


def prepare(db_path: Path, profiles: int, src: Path | None) -> None:
    orderhub_cli("migrate", "--db", f"sqlite:///{db_path}", src=src)
    orderhub_cli(
        "demo-data", "--db", f"sqlite:///{db_path}", src=src, extra_env={"ORDERHUB_DEMO_INVENTORY_SIZE": "100"}
    )
    bulk.load_profiles(db_path, profiles)
