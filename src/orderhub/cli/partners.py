"""Partners."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from orderhub.cli.base import (
    DbOption,
    _fail,
    _services,
    _warn,
    console,
    partner_app,
    refusals_in_one_line,
)
from orderhub.domain.partners import ACCESS_ORDERING_ROLES, Partner
from orderhub.services.access_setup import AccessAdmin


@partner_app.command("create")
def partner_create(
    partner_id: Annotated[str, typer.Argument(help="Short id, e.g. acme-travel")],
    name: Annotated[str, typer.Option(help="Display name")],
    role: Annotated[
        list[str],
        typer.Option(
            "--role", help="RESELLER, ACCOUNT_MANAGER, BUSINESS_CHANNEL or COMMUNICATION_OPERATOR (repeatable)"
        ),
    ],
    currency: Annotated[list[str], typer.Option("--currency", help="Supported currency (repeatable)")],
    product: Annotated[list[str] | None, typer.Option("--product", help="Product in its catalog (repeatable)")] = None,
    manager: Annotated[str | None, typer.Option(help="Id of the ACCOUNT_MANAGER partner managing it")] = None,
    business_unit: Annotated[
        list[str] | None,
        typer.Option("--business-unit", help="Business unit whose lines a BUSINESS_CHANNEL orders for (repeatable)"),
    ] = None,
    co_id: Annotated[str | None, typer.Option(help="A COMMUNICATION_OPERATOR's ON-API coId")] = None,
    language: Annotated[str, typer.Option(help="Language of end-customer messages: en or sv")] = "en",
    rate_limit: Annotated[int | None, typer.Option(help="Requests a minute it may send (default: no limit)")] = None,
    db: DbOption = None,
) -> None:
    """Create a partner with roles, supported currencies and a catalog (or business units)."""
    services = _services(db)
    with refusals_in_one_line():
        services.partners.create_partner(
            partner_id,
            name=name,
            roles=role,
            currencies=currency,
            product_ids=product or [],
            manager_id=manager,
            business_unit_ids=business_unit or [],
            co_id=co_id,
            language=language,
            rate_limit_per_minute=rate_limit,
        )
    console.print(f"partner {partner_id} created")


@partner_app.command("update")
def partner_update(
    partner_id: str,
    name: Annotated[str | None, typer.Option(help="New display name")] = None,
    currency: Annotated[
        list[str] | None, typer.Option("--currency", help="Supported currency (repeatable; replaces the set)")
    ] = None,
    language: Annotated[str | None, typer.Option(help="Language of end-customer messages: en or sv")] = None,
    co_id: Annotated[str | None, typer.Option(help="A COMMUNICATION_OPERATOR's ON-API coId")] = None,
    manager: Annotated[str | None, typer.Option(help="Id of the ACCOUNT_MANAGER partner managing it")] = None,
    no_co_id: Annotated[bool, typer.Option("--no-co-id", help="Clear its coId (onapi-order answers it 403)")] = False,
    no_manager: Annotated[bool, typer.Option("--no-manager", help="Clear its manager")] = False,
    db: DbOption = None,
) -> None:
    """Change a partner's name, currencies, language, coId or manager (or clear the last two), checked as
    at create; it keeps its id, orders and credentials. Running servers use the change from its next
    request on."""
    given = (name, currency or None, language, co_id, manager)
    if all(value is None for value in given) and not no_co_id and not no_manager:
        raise _fail("nothing to update: give --name, --currency, --language, --co-id or --manager "
                    "(or --no-co-id, --no-manager)")  # fmt: skip
    services = _services(db)
    with refusals_in_one_line():
        change = services.partners.update_partner(
            partner_id, name=name, currencies=currency or None, language=language, co_id=co_id, manager_id=manager,
            clear_co_id=no_co_id, clear_manager=no_manager,
        )  # fmt: skip
    before, after = change.before, change.after
    shown = {
        "name": (repr(before.name), repr(after.name)),
        "currencies": (", ".join(sorted(before.currencies)), ", ".join(sorted(after.currencies))),
        "language": (before.language, after.language),
        "co id": (before.co_id or "none", after.co_id or "none"),
        "manager": (before.manager_id or "none", after.manager_id or "none"),
    }
    changed = [f"{what} {old} -> {new}" for what, (old, new) in shown.items() if old != new]
    console.print(escape(f"partner {partner_id} " + (f"updated: {'; '.join(changed)}" if changed else "unchanged")))
    for currency_code, product_ids in change.unpriced.items():
        _warn(f"no price in {currency_code} for its products {', '.join(product_ids)}: esim-v1 lists them "
                     f"without one in {currency_code}")  # fmt: skip
    _warn_if_co_without_co_id(before, after)


@partner_app.command("set-roles")
def partner_set_roles(
    partner_id: str,
    role: Annotated[
        list[str],
        typer.Option(
            "--role", help="RESELLER, ACCOUNT_MANAGER, BUSINESS_CHANNEL or COMMUNICATION_OPERATOR (repeatable)"
        ),
    ],
    db: DbOption = None,
) -> None:
    """Replace a partner's roles (the list given is the new set), checked as at create. Refused while it
    holds what a role it would lose uses, naming the command that removes it first. Running servers use
    the new roles from its next request on, for the tokens it holds too."""
    services = _services(db)
    with refusals_in_one_line():
        change = services.partners.set_roles(partner_id, role)
    before, after = (", ".join(sorted(p.roles)) for p in (change.before, change.after))
    console.print(
        escape(f"partner {partner_id} " + (f"roles: {before} -> {after}" if before != after else "unchanged"))
    )
    _warn_if_co_without_co_id(change.before, change.after)


def _warn_if_co_without_co_id(before: Partner, after: Partner) -> None:
    """A COMMUNICATION_OPERATOR without a coId is allowed (as at create: one being set up), but
    onapi-order answers it 403: said when a change leaves it so."""
    is_co = bool(after.roles & ACCESS_ORDERING_ROLES)
    if is_co and after.co_id is None and (before.co_id is not None or not before.roles & ACCESS_ORDERING_ROLES):
        _warn(f"onapi-order answers {after.id} 403 until it has a co id (orderhub partner update {after.id} "
                     "--co-id ...)")  # fmt: skip


@partner_app.command("set-rate-limit")
def partner_set_rate_limit(
    partner_id: str,
    per_minute: Annotated[int | None, typer.Argument(help="Requests a minute; leave out for no limit")] = None,
    db: DbOption = None,
) -> None:
    """Limit how many requests a minute a partner may send, one budget across every API (429 beyond it)."""
    services = _services(db)
    with refusals_in_one_line():
        services.partners.set_rate_limit(partner_id, per_minute)
    console.print(f"{partner_id}: " + (f"at most {per_minute} requests a minute" if per_minute else "no limit"))


@partner_app.command("set-offerings")
def partner_set_offerings(
    partner_id: str,
    offering: Annotated[
        list[str] | None,
        typer.Option("--offering", help="product_id/offering_id it may order on accesses (repeatable)"),
    ] = None,
    none: Annotated[bool, typer.Option("--none", help="It may order none (before set-roles drops the role)")] = False,
    db: DbOption = None,
) -> None:
    """Replace the network offerings a communication operator may order (onapi-order). Its orders
    scheduled for an offering taken from it fail when due."""
    offerings = _list_or_none(offering, none, "--offering")
    services = _services(db)
    pairs = []
    for text in offerings:
        product_id, _, offering_id = text.partition("/")
        if not product_id or not offering_id:
            raise _fail(f"{text!r}: expected product_id/offering_id")
        pairs.append((product_id, offering_id))
    with refusals_in_one_line():
        AccessAdmin(services.uow_factory).allow(partner_id, pairs)
    console.print(escape(f"{partner_id} may order: {', '.join(offerings) or 'nothing'}"))


def _list_or_none(given: list[str] | None, none: bool, option: str) -> list[str]:
    """What a set-… command replaces the list with: the values given, or none when --none says so (an
    option left out by mistake must not empty the list)."""
    if given and none:
        raise _fail(f"give {option} or --none, not both")
    if not given and not none:
        raise _fail(f"give {option} (repeatable), or --none to remove them all")
    return given or []


@partner_app.command("set-products")
def partner_set_products(
    partner_id: str,
    product: Annotated[list[str], typer.Option("--product", help="Product in its catalog (repeatable)")],
    db: DbOption = None,
) -> None:
    """Replace a partner's catalog."""
    services = _services(db)
    with refusals_in_one_line():
        services.partners.set_products(partner_id, product)
    console.print(f"catalog of {partner_id}: {', '.join(sorted(product))}")


@partner_app.command("set-business-units")
def partner_set_business_units(
    partner_id: str,
    business_unit: Annotated[
        list[str] | None,
        typer.Option("--business-unit", help="Business unit whose lines it orders for (repeatable)"),
    ] = None,
    none: Annotated[bool, typer.Option("--none", help="It orders for none (before set-roles drops the role)")] = False,
    db: DbOption = None,
) -> None:
    """Replace the business units a business channel orders for; running servers use them from its next
    request on, and its orders scheduled in a unit taken from it fail when due."""
    units = _list_or_none(business_unit, none, "--business-unit")
    services = _services(db)
    with refusals_in_one_line():
        services.partners.set_business_units(partner_id, units)
    console.print(escape(f"business units of {partner_id}: {', '.join(sorted(set(units))) or 'none'}"))


@partner_app.command("list")
def partner_list(db: DbOption = None) -> None:
    """List partners with their roles, currencies, catalog, business units, network offerings, live
    client ids and rate limit (requests a minute, every API's)."""
    services = _services(db)
    table = Table(
        "id", "roles", "currencies", "manager", "products", "business units", "offerings", "client ids", "rate limit"
    )
    for entry in services.partners.list_partners():
        partner = entry.partner
        row = (
            partner.id, ", ".join(sorted(partner.roles)), ", ".join(sorted(partner.currencies)),
            partner.manager_id or "", ", ".join(sorted(partner.product_ids)),
            ", ".join(sorted(partner.business_unit_ids)), ", ".join(f"{p}/{o}" for p, o in entry.offerings),
            ", ".join(entry.client_ids),
            f"{partner.rate_limit_per_minute}/min" if partner.rate_limit_per_minute is not None else "",
        )  # fmt: skip
        table.add_row(*(escape(value) for value in row))
    console.print(table)


# -- catalog ------------------------------------------------------------------------------------
