"""TMF622 event listeners (the hub) as the operator reads them: where each delivers and how it fares,
without reading the database."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import typer
from rich.markup import escape
from rich.table import Table

from orderhub.cli.base import DbOption, _services, console, hub_app, refusals_in_one_line
from orderhub.observability import mask
from orderhub.services.hub import BACKLOG_COUNTED_AT_MOST

# A path segment shown as it is: lower-case words (a few digits after each, "v4", "tmf622") joined by
# "-", "_" or ".", 24 characters at most. A token is long, mixed-case or has digits among its letters.
_PLAIN_SEGMENT = re.compile(r"(?=.{1,24}$)[a-z]+[0-9]{0,3}(?:[-_.][a-z]+[0-9]{0,3})*")


def shown_callback(url: str) -> str:
    """A callback URL without what may be a credential: its user and password, its query (partners put
    keys and signatures there) and fragment, and each segment of its path but plain words (a path often
    carries a token, /hooks/<token>): the scheme, host, port and the words left tell the listener."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"***@{host}" if "@" in parts.netloc else host
    path = "/".join(part if not part or _PLAIN_SEGMENT.fullmatch(part) else "***" for part in parts.path.split("/"))
    query, fragment = "***" if parts.query else "", "***" if parts.fragment else ""
    return urlunsplit((parts.scheme, netloc, path, query, fragment))


_LIST_HELP = f"""Every TMF622 listener, by partner: its callback (credentials, query and the path but its plain
words masked), its filter, how many deliveries failed in a row, the last error, when it is tried next, the
last event it was sent and how many events wait for it (pending: its partner's events after that one that
its query chooses). A listener with a query is counted over its next {BACKLOG_COUNTED_AT_MOST:,} events at
most: "N+" (JSON: pending_at_least) says more follow, not looked at."""


# The help names the bound of the count from where the bound is kept (services.hub).
@hub_app.command("list", help=_LIST_HELP)
def hub_list(
    partner: Annotated[str | None, typer.Option(help="Only this partner's listeners")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    db: DbOption = None,
) -> None:
    hub = _services(db).hub
    rows: list[dict[str, Any]] = []
    with refusals_in_one_line():
        listeners = hub.listeners(partner)
    for listener in listeners:
        backlog = hub.backlog(listener)
        rows.append(
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
                "pending": backlog.events,
                "pending_at_least": backlog.at_least,
            }
        )
    if as_json:
        print(json.dumps({"listeners": rows}, indent=2))
        return
    if not rows:
        console.print(escape(f"no listeners of {partner}" if partner else "no listeners"))
        return
    table = Table(
        "id", "partner", "callback", "query", "failures", "last error", "next attempt", "delivered event", "pending"
    )
    for row in rows:
        if row.pop("pending_at_least"):
            row["pending"] = f"{row['pending']}+"
        table.add_row(*(escape("-" if value is None else str(value)) for value in row.values()))
    console.print(table)
