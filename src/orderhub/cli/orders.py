"""Orders of every API, as the operator reads them."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from orderhub.cli.base import (
    DbOption,
    _fail,
    _services,
    console,
    order_app,
)
from orderhub.observability import mask, mask_identity


@order_app.command("show")
def order_show(
    order_id: Annotated[str, typer.Argument(help="The order's id, or its number (ORD-...)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    db: DbOption = None,
) -> None:
    """An order of any API: what it is, for whom (identity numbers masked), how it ended, its history."""
    services = _services(db)
    with services.uow_factory(read_only=True) as uow:
        order = uow.orders.get(order_id) or uow.orders.get_by_reference(order_id)
        events = uow.orders.events(order.id) if order is not None else []
        customer = uow.partners.get_customer(order.customer_id) if order and order.customer_id else None
    if order is None:
        raise _fail(f"no order {order_id}")
    data: dict[str, Any] = {
        "id": order.id,
        "reference": order.reference,
        "partner": order.partner_id,
        "dialect": order.dialect,
        "operation": order.operation.value,
        "state": order.state.value,
        "subject": f"{order.subject.kind.value} {order.subject.ref}" if order.subject else None,
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
        "history": [
            {"at": e.at.isoformat(), "state": e.to_state.value, **({"reason": e.reason} if e.reason else {})}
            for e in events
        ],
    }
    if as_json:
        print(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        if key not in ("items", "history", "customer"):
            console.print(f"{key}: {value}")
    console.print(f"customer: {data['customer']}")
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
