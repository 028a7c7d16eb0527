"""Setting up what line and network orders need, without demo data: business units and what they sell
(tmf-productorder, TMF622), and the network's products and offerings (onapi-order)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from orderhub.cli.base import (
    DbOption,
    _fail,
    _services,
    _warn_open_orders,
    access_app,
    app,
    console,
    counted,
    line_app,
    refusals_in_one_line,
)
from orderhub.domain.catalog import PRICE_TEXT, Product, ProductKind
from orderhub.domain.lines import BusinessUnit, Offering, PlanType
from orderhub.services.access_setup import AccessAdmin
from orderhub.services.line_setup import LineAdmin

unit_app = typer.Typer(
    help="Business units (tmf-productorder, TMF622): time zone, MSISDN format and the offerings they sell.",
    no_args_is_help=True,
)
app.add_typer(unit_app, name="business-unit")

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON")]
PriceOption = Annotated[
    list[str] | None, typer.Option("--price", help="A price as CUR=AMOUNT, e.g. USD=10 (repeatable)")
]
_DIGITS = re.compile(r"^(?:\[0-9\]|\\d)\{(\d+)\}$")


def _show(rows: list[dict[str, Any]], headers: tuple[str, ...], as_json: bool, document: Any = None) -> None:
    """A listing: JSON (``document``, or the rows) or a table of the rows' values, empty for none."""
    if as_json:
        print(json.dumps(rows if document is None else document, indent=2))
        return
    table = Table(*headers)
    for row in rows:
        table.add_row(*(escape("" if value is None else str(value)) for value in row.values()))
    console.print(table)


def _hint(pattern: str) -> str:
    digits = _DIGITS.match(pattern)
    return f"{digits.group(1)} digits" if digits else f"matching {pattern}"


def _prices(texts: list[str] | None) -> dict[str, Decimal]:
    prices = {}
    for text in texts or []:
        currency, _, amount = text.partition("=")
        # The text `product import` and esim-v1 take for a price: Decimal() alone would read 1e3 or NaN.
        if not PRICE_TEXT.fullmatch(amount.strip()):
            raise _fail(f"--price {text!r}: expected CUR=AMOUNT, e.g. USD=10 or EUR=9.50")
        code = currency.strip().upper()
        if code in prices:  # which one was meant? (product import refuses a currency twice alike)
            raise _fail(f"--price: {code} given more than once")
        prices[code] = Decimal(amount.strip())
    return prices


# -- business units ------------------------------------------------------------------------------------


@unit_app.command("add")
def unit_add(
    unit_id: Annotated[str, typer.Argument(help="The businessId partners order under, e.g. CR")],
    name: Annotated[str, typer.Option(help="Display name, e.g. 'Costa Rica'")],
    timezone: Annotated[str, typer.Option(help="IANA time zone its orders are dated in, e.g. America/Costa_Rica")],
    msisdn_pattern: Annotated[str, typer.Option(help="Its MSISDNs as a regular expression, e.g. '[0-9]{8}'")],
    msisdn_hint: Annotated[str | None, typer.Option(help="The format in words (default: '8 digits' …)")] = None,
    db: DbOption = None,
) -> None:
    """Create a business unit (then: business-unit add-offering, line add, partner create or set-business-units)."""
    unit = BusinessUnit(unit_id, name, timezone, msisdn_pattern, msisdn_hint or _hint(msisdn_pattern))
    with refusals_in_one_line():
        LineAdmin(_services(db).uow_factory).add_business_unit(unit)
    console.print(escape(f"business unit {unit_id} added ({timezone}, MSISDN {unit.msisdn_hint})"))


@unit_app.command("update")
def unit_update(
    unit_id: str,
    name: Annotated[str | None, typer.Option(help="New display name")] = None,
    timezone: Annotated[str | None, typer.Option(help="New IANA time zone")] = None,
    msisdn_pattern: Annotated[str | None, typer.Option(help="New MSISDN regular expression (lines kept)")] = None,
    msisdn_hint: Annotated[str | None, typer.Option(help="New MSISDN format in words")] = None,
    db: DbOption = None,
) -> None:
    """Change a business unit; running servers use the change from their next request on."""
    if msisdn_pattern is not None and msisdn_hint is None:
        msisdn_hint = _hint(msisdn_pattern)
    changes = {"name": name, "timezone": timezone, "msisdn_pattern": msisdn_pattern, "msisdn_hint": msisdn_hint}
    with refusals_in_one_line():
        unit = LineAdmin(_services(db).uow_factory).update_business_unit(unit_id, **changes)
    console.print(escape(f"business unit {unit.id}: {unit.name}, {unit.timezone}, MSISDN {unit.msisdn_hint}"))


@unit_app.command("list")
def unit_list(as_json: AsJson = False, db: DbOption = None) -> None:
    """Business units with their time zone, MSISDN format and number of offerings."""
    units = LineAdmin(_services(db).uow_factory).business_units()
    rows = [
        {
            "id": unit.id,
            "name": unit.name,
            "timezone": unit.timezone,
            "msisdnPattern": unit.msisdn_pattern,
            "msisdnHint": unit.msisdn_hint,
            "offerings": len(offerings),
        }
        for unit, offerings in units
    ]
    _show(rows, ("id", "name", "timezone", "MSISDN pattern", "MSISDN hint", "offerings"), as_json)


@unit_app.command("add-offering")
def unit_add_offering(
    unit_id: Annotated[str, typer.Argument(help="Business unit id, e.g. CR")],
    product_id: Annotated[str, typer.Argument(help="A line offering product (line add-product)")],
    plan_type: Annotated[str, typer.Option(help="Plan, DataPlan or Addon (one offering may be sold as each)")],
    validity_days: Annotated[int | None, typer.Option(help="How long it runs once provisioned (none: no end)")] = None,
    db: DbOption = None,
) -> None:
    """Sell a line offering in a business unit as one plan type, or give the one sold so already a new
    validity; running servers use it from their next order on."""
    kind = PlanType.read(plan_type)
    if kind is None:
        raise _fail(f"plan type {plan_type!r} must be Plan, DataPlan or Addon")
    with refusals_in_one_line():
        previous = LineAdmin(_services(db).uow_factory).add_offering(Offering(unit_id, product_id, kind, validity_days))
    # As access add-offering says it: what the command did, and what changed.
    sold = f"offering {product_id} as {kind} in {unit_id}"
    if previous is None:
        console.print(escape(f"{sold} added ({_days(validity_days)})"))
    elif previous.validity_days == validity_days:
        console.print(escape(f"{sold} unchanged ({_days(validity_days)})"))
    else:
        console.print(escape(f"{sold} updated: validity {_days(previous.validity_days)} -> {_days(validity_days)}"))


@unit_app.command("remove-offering")
def unit_remove_offering(
    unit_id: Annotated[str, typer.Argument(help="Business unit id, e.g. CR")],
    product_id: Annotated[str, typer.Argument(help="A line offering product the unit sells")],
    plan_type: Annotated[str, typer.Option(help="The plan type it stops being sold as: Plan, DataPlan or Addon")],
    db: DbOption = None,
) -> None:
    """Stop selling a line offering in a business unit as one plan type: new orders for it are refused from
    the next one on; lines keep what runs on them; orders accepted for it fail it when provisioned."""
    kind = PlanType.read(plan_type)
    if kind is None:
        raise _fail(f"plan type {plan_type!r} must be Plan, DataPlan or Addon")
    with refusals_in_one_line():
        removal = LineAdmin(_services(db).uow_factory).remove_offering(unit_id, product_id, kind)
    sold = f"offering {product_id} as {kind} in {unit_id}"
    others = ", ".join(plan.value for plan in removal.still_sold_as)
    if removal.removed is None:
        # Nothing to do is no mistake: a set-up script can run again, as add-offering says "unchanged".
        console.print(escape(f"{sold} is not sold: nothing removed" + (f" (it is sold as {others})" if others else "")))
        return
    console.print(escape(f"{sold} removed" + (f" (still sold as {others})" if others else "")))
    _warn_open_orders(removal.open_orders)


def _days(validity_days: int | None) -> str:
    return counted(validity_days, "day") if validity_days else "no end"


@unit_app.command("offerings")
def unit_offerings(unit_id: str, as_json: AsJson = False, db: DbOption = None) -> None:
    """What a business unit sells, as which plan type, for how long."""
    found = next((o for u, o in LineAdmin(_services(db).uow_factory).business_units() if u.id == unit_id), None)
    if found is None:
        raise _fail(f"business unit {unit_id} not found")
    rows = [{"product": o.product_id, "planType": o.plan_type.value, "validityDays": o.validity_days} for o in found]
    _show(rows, ("product", "planType", "validityDays"), as_json, {"businessUnit": unit_id, "offerings": rows})


# -- products of lines and of the network --------------------------------------------------------------


@line_app.command("add-product")
def line_add_product(
    product_id: Annotated[str, typer.Argument(help="The offering id partners order, e.g. OFFER-DP-001")],
    name: Annotated[str, typer.Option(help="Display name")],
    description: Annotated[str, typer.Option(help="Description")] = "",
    price: PriceOption = None,
    db: DbOption = None,
) -> None:
    """Create (or update) a line offering product; business units sell it (business-unit add-offering)."""
    product = Product(product_id, name, ProductKind.LINE_OFFERING, description, prices=_prices(price))
    with refusals_in_one_line():
        created = _services(db).catalog.add_product(product)
    console.print(f"line offering product {product_id} {'created' if created else 'updated'}")


@access_app.command("add-product")
def access_add_product(
    product_id: Annotated[str, typer.Argument(help="ON-API productId, e.g. fiber-internet")],
    name: Annotated[str, typer.Option(help="Display name, e.g. 'Fiber internet'")],
    description: Annotated[str, typer.Option(help="Description")] = "",
    price: PriceOption = None,
    db: DbOption = None,
) -> None:
    """Create (or update) a network product; its offerings follow (access add-offering)."""
    with refusals_in_one_line():
        created = AccessAdmin(_services(db).uow_factory).add_product(
            product_id, name, description=description, prices=_prices(price)
        )
    console.print(f"network product {product_id} {'created' if created else 'updated'}")


@access_app.command("offerings")
def access_offerings(as_json: AsJson = False, db: DbOption = None) -> None:
    """The network's products and offerings (partner set-offerings opens them to a CO)."""
    offerings = AccessAdmin(_services(db).uow_factory).offerings()
    rows = [{"product": o.product_id, "productName": o.product_name, "offering": o.offering_id, "name": o.name}
            for o in offerings]  # fmt: skip
    _show(rows, ("product", "product name", "offering", "name"), as_json)
