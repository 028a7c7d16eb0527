"""TMF622 event listeners (the hub) as the operator reads them: where each delivers and how it fares,
without reading the database."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import typer
from rich.markup import escape
from rich.table import Table

from orderhub.cli.base import DbOption, _services, console, hub_app
from orderhub.observability import mask


def shown_callback(url: str) -> str:
    """A callback URL without what may be a credential: its user and password, its query (partners put
    keys and signatures there) and fragment; its path masked as log lines mask text."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"***@{host}" if "@" in parts.netloc else host
    query, fragment = "***" if parts.query else "", "***" if parts.fragment else ""
    return urlunsplit((parts.scheme, netloc, mask(parts.path), query, fragment))


@hub_app.command("list")
def hub_list(
    partner: Annotated[str | None, typer.Option(help="Only this partner's listeners")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    db: DbOption = None,
) -> None:
    """Every TMF622 listener, by partner: its callback (credentials and query masked), its filter, how many
    deliveries failed in a row, the last error, when it is tried next and the last event it was sent."""
    listeners = _services(db).hub.listeners(partner)
    rows: list[dict[str, Any]] = [
        {
            "id": listener.id,
            "partner": listener.partner_id,
            "callback": shown_callback(listener.callback),
            # The partner's filter (TMF630 query), as sent: masked as any text the partner sends.
            "query": mask(listener.query) if listener.query else None,
            "failures": listener.failures,
            # The receiver's answer may quote what the partner's system put in it.
            "last_error": mask(listener.last_error) if listener.last_error else None,
            "next_attempt": listener.next_attempt_at.isoformat() if listener.next_attempt_at else None,
            "delivered_event_id": listener.delivered_event_id,
        }
        for listener in listeners
    ]
    if as_json:
        print(json.dumps({"listeners": rows}, indent=2))
        return
    if not rows:
        console.print(escape(f"no listeners of {partner}" if partner else "no listeners"))
        return
    table = Table("id", "partner", "callback", "query", "failures", "last error", "next attempt", "delivered event")
    for row in rows:
        table.add_row(*(escape("-" if value is None else str(value)) for value in row.values()))
    console.print(table)
