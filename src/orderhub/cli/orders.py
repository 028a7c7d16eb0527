"""Orders of every API, as the operator reads them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from orderhub.cli.base import (
    DbOption,
    _fail,
    _services,
    console,
    count_option,
    instant_option,
    one_line,
    order_app,
    refusals_in_one_line,
)
from orderhub.cli.shown_requests import shown_correlation_id, shown_request
from orderhub.domain.changes import CancellationState
from orderhub.domain.order_states import OrderState
from orderhub.observability import mask, mask_identity
from orderhub.services.order_details import OrderDetailsQuery
from orderhub.services.records import OrderQuery


@order_app.command("show")
def order_show(
    order_id: Annotated[str, typer.Argument(help="The order's id, or its number (ORD-...)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    db: DbOption = None,
) -> None:
    """An order of any API: what it is and acts on, for whom, what the partner sent, how it ended, its
    history (e-mails, identity numbers and the customer's phone numbers masked)."""
    details = OrderDetailsQuery(_services(db).uow_factory).find(order_id)
    if details is None:
        raise _fail(f"no order {order_id}")
    order, events, customer = details.order, details.events, details.customer
    data: dict[str, Any] = {
        "id": order.id,
        "reference": order.reference,
        "partner": order.partner_id,
        "dialect": order.dialect,
        "operation": order.operation.value,
        "state": order.state.value,
        "subject": details.subject,
        "due": order.due_at.isoformat() if order.due_at else None,
        # The partner's own id for the request that placed it (X-Correlation-ID): masked as the request is.
        "correlation_id": shown_correlation_id(order.correlation_id, customer) if order.correlation_id else None,
        # A reason may quote what the partner sent: masked as `order list` masks it.
        "failure": mask(order.failure_reason) if order.failure_reason else None,
        "items": [
            {"seq": i.seq, "product": i.product_id, **i.attributes, "state": i.state.value if i.state else None}
            for i in order.items
        ],
        "customer": None
        if customer is None
        else {
            "id": customer.id,
            "name": customer.name,
            "email": mask(customer.email) if customer.email else None,
            "identity": f"{customer.identity.kind} {mask_identity(customer.identity.number)}"
            if customer.identity
            else None,
            # Their personal data was erased on request (customer erase): why the rest is None.
            **({"erased": customer.erased_at.isoformat()} if customer.erased_at else {}),
        },
        # An e-mail the customer record does not keep (ON-API's identified customers are kept by their
        # identity number alone) is seen here, as the order carried it, masked like the customer's own.
        "request": shown_request(order.request, customer),
        "history": [
            # A cancellation request's notes name it (their state unmoved); reasons masked as the failure is.
            {"at": e.at.isoformat(), "state": e.to_state.value}
            | {name: v for name, v in (("reason", mask(e.reason or "")), ("cancellation", e.cancellation_id)) if v}
            for e in events
        ],
    }
    if as_json:
        print(json.dumps(data, indent=2))
        return
    # What a partner wrote (a TMF622 cancellationReason, a name) may hold an escape or a newline: written out
    # (one_line), so it neither drives the operator's terminal nor forges a line of its own.
    for key, value in data.items():
        if key not in ("items", "history", "customer", "request"):
            console.print(escape(one_line(f"{key}: {_text(value)}")))
    if data["customer"] is None:
        console.print("customer: -")
    else:
        # Each of its fields on a line of its own, as the order's are: not a Python dict.
        console.print("customer:")
        for key, value in data["customer"].items():
            console.print(escape(one_line(f"  {key}: {_text(value)}")))
    console.print(escape(one_line(f"request: {json.dumps(data['request'], ensure_ascii=False)}")))
    items = Table("seq", "product", "attributes", "state")
    for item in order.items:
        items.add_row(  # what the partner sent: shown as sent, not read as the console's [markup]
            str(item.seq),
            escape(item.product_id),
            escape(json.dumps(item.attributes)),
            item.state.value if item.state else "",
        )
    console.print(items)
    history = Table("at", "state", "reason")
    for shown in data["history"]:
        named = f" ({shown['cancellation']})" if "cancellation" in shown else ""
        history.add_row(shown["at"], shown["state"], escape(one_line(shown.get("reason", "") + named)))
    console.print(history)


def _text(value: object) -> str:
    """A value as an operator reads it: "-" for none (JSON keeps null), not Python's None."""
    return "-" if value is None else str(value)


# A reason the partner reads in the order's history: one line of text, not a document.
MAX_REASON = 500


@order_app.command("cancel")
def order_cancel(
    order_id: Annotated[str, typer.Argument(help="The order's id or number (ORD-...)")],
    reason: Annotated[str, typer.Option(help="Why: the partner sees it in the order's history")],
    db: DbOption = None,
) -> None:
    """Call off an order whose provisioning has not started (accepted or scheduled), on its partner's
    behalf: the partner and its listeners see it cancelled, with the reason."""
    if not reason.strip() or len(reason) > MAX_REASON or not reason.isprintable():
        raise _fail(f"--reason must be 1-{MAX_REASON} printable characters")
    with refusals_in_one_line():
        cancellation, order = _services(db).changes.cancel_for_operator(order_id, reason=reason.strip())
    if cancellation.state is CancellationState.REFUSED:
        raise _fail(f"order {order_id} is not cancelled: {cancellation.refusal}")
    console.print(escape(f"order {order.reference or order.id} of {order.partner_id} cancelled: {reason.strip()}"))


# --limit: enough for a day's failures; more rows than a person reads (and each order is its own reads).
DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
# A failure reason in the table (--json has it whole).
MAX_FAILURE_SHOWN = 60
OPEN_STATES = frozenset(state for state in OrderState if not state.is_final)


@order_app.command("list")
def order_list(
    partner: Annotated[str | None, typer.Option(help="Only this partner's orders")] = None,
    state: Annotated[
        list[str] | None, typer.Option(help="Only orders in this state (repeatable), as `order show` prints it")
    ] = None,
    api: Annotated[str | None, typer.Option(help="Only orders placed through this API, e.g. tmf622")] = None,
    since: Annotated[str | None, typer.Option(help="Created at or after: 2026-01-15 or 2026-01-15T08:00Z")] = None,
    until: Annotated[str | None, typer.Option(help="Created before; a date includes its whole day (UTC)")] = None,
    subject: Annotated[
        str | None,
        typer.Option(help="Only orders acting on it, as listed: 'line GT 50210001', 'access access-4711'"),
    ] = None,
    correlation_id: Annotated[
        str | None,
        typer.Option(help="Only orders placed by the request with this X-Correlation-ID (as access lines show it)"),
    ] = None,
    external_id: Annotated[str | None, typer.Option(help="Only TMF orders the partner gave this externalId")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only orders not in a final state")] = False,
    limit: Annotated[str, typer.Option(metavar="N", help=f"List at most N (1-{MAX_LIMIT})")] = str(DEFAULT_LIMIT),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    db: DbOption = None,
) -> None:
    """Orders of every partner and API, newest first, that match all the options given; how many match
    in all. No customer data: `order show` has it, masked."""
    shown_at_most = count_option("--limit", limit, MAX_LIMIT)
    query = OrderQuery(
        partner_ids=frozenset({partner}) if partner is not None else None,
        operations=None,
        states=_states(state or [], open_only=open_only),
        dialects=frozenset({_api(api)}) if api is not None else None,
        created_from=instant_option("--since", since) if since is not None else None,
        created_before=instant_option("--until", until, end_of_day=True) if until is not None else None,
        correlation_ids=frozenset({_correlation_id(correlation_id)}) if correlation_id is not None else None,
        external_ids=frozenset({external_id}) if external_id is not None else None,
    )
    if query.created_from and query.created_before and query.created_from >= query.created_before:
        raise _fail("--since must be before --until")
    with refusals_in_one_line():
        found = OrderDetailsQuery(_services(db).uow_factory).search(query, limit=shown_at_most, subject=subject)
    rows = [
        {
            "id": listed.order.id,
            "reference": listed.order.reference,
            "partner": listed.order.partner_id,
            "dialect": listed.order.dialect,
            "operation": listed.order.operation.value,
            "state": listed.order.state.value,
            "subject": listed.subject,
            "due": listed.order.due_at.isoformat() if listed.order.due_at else None,
            "created": listed.order.created_at.isoformat(),
            # A reason may quote what the partner sent: masked as `order show` masks the request.
            "failure": mask(listed.order.failure_reason) if listed.order.failure_reason else None,
        }
        for listed in found.orders
    ]
    if as_json:
        print(json.dumps({"total": found.total, "orders": rows}, indent=2))
        return
    if rows:
        table = Table("id", "number", "partner", "api", "operation", "state", "subject", "due", "created", "failure")
        for row in rows:
            table.add_row(*(escape(one_line(_cell(key, value))) for key, value in row.items()))
        console.print(table)
    console.print(_tally(found.total, len(rows)))


def _states(given: list[str], *, open_only: bool) -> frozenset[OrderState] | None:
    states: set[OrderState] = set()
    for text in given:
        try:
            states.add(OrderState(text.strip().lower()))
        except ValueError:
            raise _fail(f"unknown state {text!r}: the states are {', '.join(OrderState)}") from None
    if not open_only:
        return frozenset(states) or None
    if not states:
        return OPEN_STATES
    if not states & OPEN_STATES:
        final = ", ".join(sorted(state.value for state in states))
        raise _fail(f"--open leaves out final states, and every --state given is one ({final})")
    return frozenset(states & OPEN_STATES)


def _api(name: str) -> str:
    # The web stack comes with the dialects: imported only when a command needs their names.
    from orderhub.dialects import DIALECTS

    names = [dialect.name for dialect in DIALECTS]
    if name not in names:
        raise _fail(f"unknown API {name!r}: the APIs are {', '.join(names)}")
    return name


def _correlation_id(text: str) -> str:
    from orderhub.web.middleware import MAX_CORRELATION_ID_LENGTH  # the APIs' bound: imported only here, as in _api

    # Stored ids have no blanks around them (the middleware strips the header): one copied with them matches.
    cid = text.strip()
    if not cid:
        raise _fail(f"--correlation-id is blank: give a request's X-Correlation-ID, 1 to {MAX_CORRELATION_ID_LENGTH} "
                    "characters")  # fmt: skip
    if len(cid) > MAX_CORRELATION_ID_LENGTH:
        raise _fail(f"--correlation-id is {len(cid)} characters long: an X-Correlation-ID has at most "
                    f"{MAX_CORRELATION_ID_LENGTH}")  # fmt: skip
    return cid


def _cell(key: str, value: str | None) -> str:
    if value is None:
        return ""
    if key in ("due", "created"):
        return datetime.fromisoformat(value).isoformat(timespec="seconds")
    if key == "failure":
        one_line = " ".join(value.split())
        return one_line if len(one_line) <= MAX_FAILURE_SHOWN else one_line[: MAX_FAILURE_SHOWN - 1] + "…"
    return value


def _tally(total: int, shown: int) -> str:
    if total == 0:
        return "no order matches"
    matched = f"{total} orders match" if total != 1 else "1 order matches"
    if shown == total:
        return f"{matched}, all shown"
    if total <= MAX_LIMIT:
        return f"{matched}, the newest {shown} shown: --limit {total} shows them all"
    return (
        f"{matched}, the newest {shown} shown: narrow them with --since/--until, --state, --partner, --api or --subject"
        f" to see the others (--limit takes at most {MAX_LIMIT})"
    )
