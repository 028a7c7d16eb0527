"""Mobile lines of business units, and the network's accesses and offerings."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from orderhub.cli.base import (
    DbOption,
    _fail,
    _services,
    _warn_open_orders,
    access_app,
    console,
    line_app,
    refusals_in_one_line,
)
from orderhub.domain.accesses import AccessState, NetworkOffering
from orderhub.domain.errors import DomainError
from orderhub.services.access_setup import AccessAdmin
from orderhub.services.line_setup import LineAdmin

# -- mobile lines ---------------------------------------------------------------------------------


@line_app.command("add")
def line_add(
    business_unit: Annotated[str, typer.Argument(help="Business unit id, e.g. CR")],
    msisdn: Annotated[str, typer.Argument(help="The line's number in the business unit's format")],
    plan: Annotated[str | None, typer.Option(help="Start this offering as the line's base Plan")] = None,
    db: DbOption = None,
) -> None:
    """Add a line to a business unit, optionally with an active base plan."""
    services = _services(db)
    with refusals_in_one_line():
        LineAdmin(services.uow_factory).add_line(business_unit, msisdn, plan=plan)
    console.print(f"line {msisdn} added to {business_unit}" + (f" with plan {plan}" if plan else ""))


@line_app.command("show")
def line_show(
    business_unit: Annotated[str, typer.Argument(help="Business unit id, e.g. CR")],
    msisdn: Annotated[str, typer.Argument(help="The line's number")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    db: DbOption = None,
) -> None:
    """A line's plans, data plans and add-ons, active and past, with the orders that started them."""
    services = _services(db)
    view = services.lines.line(business_unit, msisdn)
    if view is None:
        raise _fail(f"{msisdn} is not a line of business unit {business_unit}")
    rows = [
        {
            "id": p.id,
            "product": p.product_id,
            "planType": p.plan_type.value,
            "status": "active" if p.active(view.now) else ("pending" if view.now < p.starts_at else "ended"),
            "startDate": p.starts_at.isoformat(),
            "endDate": p.ends_at.isoformat() if p.ends_at else None,
            "order": p.order_id,
        }
        for p in view.products
    ]
    if as_json:
        print(json.dumps({"businessUnit": business_unit, "msisdn": msisdn, "products": rows}, indent=2))
        return
    table = Table("id", "product", "planType", "status", "startDate", "endDate", "order")
    for row in rows:
        table.add_row(*(str(row[key] or "") for key in row))
    console.print(table)


# -- network accesses (onapi-order) ---------------------------------------------------------------


@access_app.command("add-offering")
def access_add_offering(
    product_id: Annotated[str, typer.Argument(help="A network product (access add-product)")],
    offering_id: Annotated[str, typer.Argument(help="ON-API offering id, e.g. 1000-1000")],
    name: Annotated[str, typer.Option(help="Display name, e.g. '1000/1000 Mbit/s'")],
    db: DbOption = None,
) -> None:
    """Add an offering of a product to the SP's catalog, or rename an existing one (then: partner
    set-offerings)."""
    services = _services(db)
    with refusals_in_one_line():
        previous = AccessAdmin(services.uow_factory).add_offering(NetworkOffering(product_id, offering_id, name))
    pair = f"offering {product_id}/{offering_id}"
    if previous is None:
        console.print(escape(f"{pair} added"))
    elif previous.name == name:
        console.print(escape(f"{pair} unchanged"))
    else:
        console.print(escape(f"{pair} updated: name {previous.name!r} -> {name!r}"))


@access_app.command("remove-offering")
def access_remove_offering(
    product_id: Annotated[str, typer.Argument(help="A network product, e.g. broadband")],
    offering_id: Annotated[str, typer.Argument(help="Its offering to withdraw, e.g. 1000-1000")],
    db: DbOption = None,
) -> None:
    """Withdraw an offering: new orders for it are refused from the next one on, no CO may order it any
    longer (set-offerings grants it again after a new add-offering); services running on accesses stay;
    orders accepted for it fail when provisioned."""
    with refusals_in_one_line():
        removal = AccessAdmin(_services(db).uow_factory).remove_offering(product_id, offering_id)
    pair = f"offering {product_id}/{offering_id}"
    if removal.removed is None:
        # Nothing to do is no mistake: a set-up script can run again, as add-offering says "unchanged".
        console.print(escape(f"{pair} is not sold: nothing removed"))
        return
    allowed = f"; no longer allowed to {', '.join(removal.disallowed)}" if removal.disallowed else ""
    console.print(escape(f"{pair} removed{allowed}"))
    _warn_open_orders(removal.open_orders)


@access_app.command("add")
def access_add(
    ref: Annotated[str, typer.Argument(help="The access id COs use (coAccessId)")],
    blocked: Annotated[bool, typer.Option("--blocked", help="Takes no new orders")] = False,
    db: DbOption = None,
) -> None:
    """Add an access of the network."""
    services = _services(db)
    with refusals_in_one_line():
        AccessAdmin(services.uow_factory).add_access(ref, blocked=blocked)
    console.print(f"access {ref} added" + (" (blocked)" if blocked else ""))


@access_app.command("set-state")
def access_set_state(
    ref: str,
    state: Annotated[str, typer.Argument(help="free, active or blocked")],
    db: DbOption = None,
) -> None:
    """Block an access for new orders (or open it again)."""
    services = _services(db)
    try:
        AccessAdmin(services.uow_factory).set_state(ref, AccessState(state))
    except ValueError as exc:
        raise _fail("state must be free, active or blocked") from exc
    except DomainError as exc:
        raise _fail(exc.message) from exc
    console.print(escape(f"access {ref}: {state}"))


@access_app.command("show")
def access_show(ref: str, as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
                db: DbOption = None) -> None:  # fmt: skip
    """An access, its state and the services on it, with the orders that started them."""
    services = _services(db)
    with services.uow_factory(read_only=True) as uow:
        access = uow.accesses.by_ref(ref)
        running = uow.accesses.services_of(access.id) if access is not None else []
    if access is None:
        raise _fail(f"no access {ref}")
    data = {
        "access": access.ref,
        "state": access.state.value,
        "services": [
            {"product": s.product_id, "offering": s.offering_id, "since": s.started_at.isoformat(), "order": s.order_id}
            for s in running
        ],
    }
    if as_json:
        print(json.dumps(data, indent=2))
        return
    console.print(f"access {access.ref}: {access.state.value}")
    table = Table("product", "offering", "since", "order")
    for service in data["services"]:
        table.add_row(*(str(v or "") for v in service.values()))  # type: ignore[union-attr]
    console.print(table)


# -- orders ------------------------------------------------------------------------------------------
