"""Orders of every API, as the operator reads them."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from orderhub.cli.base import (
    DbOption,
    _fail,
    _services,
    console,
    order_app,
    refusals_in_one_line,
)
from orderhub.domain.changes import CancellationState
from orderhub.observability import mask, mask_identity
from orderhub.services.order_details import OrderDetailsQuery


def _masked(value: Any) -> Any:
    """A stored request as the logs would show it: e-mails and identity numbers masked wherever they stand."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


@order_app.command("show")
def order_show(
    order_id: Annotated[str, typer.Argument(help="The order's id, or its number (ORD-...)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    db: DbOption = None,
) -> None:
    """An order of any API: what it is and acts on, for whom, what the partner sent, how it ended, its
    history (e-mails and identity numbers masked)."""
    details = OrderDetailsQuery(_services(db).uow_factory).find(order_id)
    if details is None:
        raise _fail(escape(f"no order {order_id}"))
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
        "failure": order.failure_reason,
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
        },
        # An e-mail the customer record does not keep (ON-API's identified customers are kept by their
        # identity number alone) is seen here, as the order carried it.
        "request": _masked(order.request),
        "history": [
            {"at": e.at.isoformat(), "state": e.to_state.value, **({"reason": e.reason} if e.reason else {})}
            for e in events
        ],
    }
    if as_json:
        print(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        if key not in ("items", "history", "customer", "request"):
            console.print(escape(f"{key}: {value}"))
    console.print(escape(f"customer: {data['customer']}"))
    console.print(escape(f"request: {json.dumps(data['request'], ensure_ascii=False)}"))
    items = Table("seq", "product", "attributes", "state")
    for item in order.items:
        items.add_row(
            str(item.seq), item.product_id, json.dumps(item.attributes), item.state.value if item.state else ""
        )
    console.print(items)
    history = Table("at", "state", "reason")
    for event in events:
        history.add_row(event.at.isoformat(), event.to_state.value, event.reason or "")
    console.print(history)


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
        raise _fail(escape(f"order {order_id} is not cancelled: {cancellation.refusal}"))
    console.print(escape(f"order {order.reference or order.id} of {order.partner_id} cancelled: {reason.strip()}"))
