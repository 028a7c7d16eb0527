"""End customers: erasing one's personal data on request (GDPR art. 17)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape

from orderhub.cli.base import DbOption, _fail, _services, console, counted, customer_app, refusals_in_one_line
from orderhub.domain.customers import PERSONAL_IDENTITY_NUMBER, Customer, Identity, personal_identity
from orderhub.observability import mask, mask_identity
from orderhub.services.customer_erasure import MAX_ORDERS_NAMED, CustomerErasure, CustomerKey, Erasure


@customer_app.command("erase")
def customer_erase(
    partner: Annotated[str, typer.Option(help="The partner whose customer it is")],
    email: Annotated[str | None, typer.Option(help="The customer's e-mail, in any case (esim-v1's key)")] = None,
    identity: Annotated[
        tuple[str, str] | None,
        typer.Option(
            metavar="KIND NUMBER",
            help=f"The customer's identification: {PERSONAL_IDENTITY_NUMBER} and a Swedish personal identity "
            "number in any spelling (onapi-order), or the kind and number a TMF order's Customer party gave",
        ),
    ] = None,
    customer_id: Annotated[str | None, typer.Option("--id", help="The customer's id (order show names it)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be erased; change nothing")] = False,
    db: DbOption = None,
) -> None:
    """Erase a customer's personal data (GDPR art. 17): the customer record keeps only its id, partner and
    creation time; each of their orders keeps what the partner sent with the customer's data replaced by
    "erased" (its history says so); orders, products, prices, eSIMs and subscriptions stay. Refused while an
    order of theirs is not final. The customer's data is shown masked, as order show shows it."""
    kind, number = identity if identity is not None else (None, None)
    given = [option for option, value in (("--email", email), ("--identity", kind), ("--id", customer_id)) if value]
    if len(given) != 1:
        named = ", ".join(given) if given else "none"
        raise _fail(f"name the customer by exactly one of --email, --identity or --id (given: {named})")
    key = CustomerKey(email=email, identity=_identity(kind, number), customer_id=customer_id)
    # The dialects say where their orders keep the customer; they bring the web framework with them, which
    # the other commands do not load.
    from orderhub.dialects import DIALECTS

    erasers = {dialect.name: dialect.erase_customer for dialect in DIALECTS if dialect.erase_customer is not None}
    with refusals_in_one_line():
        done = CustomerErasure(_services(db).uow_factory, erasers).erase(partner, key, dry_run=dry_run)
    console.print(escape(_summary(done)), soft_wrap=True)


def _identity(kind: str | None, number: str | None) -> Identity | None:
    if kind is None or number is None:
        return None
    if not kind.strip() or not number.strip():
        raise _fail("--identity takes a kind and a number, e.g. --identity personalIdentityNumber 19121212-1212")
    if kind.casefold() != PERSONAL_IDENTITY_NUMBER.casefold():
        return Identity(kind, number)  # as the partner's order gave them: kept as given
    canonical = personal_identity(number.strip(), datetime.now(UTC).date())
    if canonical is None:
        raise _fail(f"--identity {PERSONAL_IDENTITY_NUMBER}: not a valid Swedish personal identity number")
    return canonical


def _held(customer: Customer) -> str:
    """What the record holds, personal data masked (order show's way); a name is named, not shown."""
    held = []
    if customer.email:
        held.append(f"e-mail {mask(customer.email)}")
    if customer.identity:
        held.append(f"identity {customer.identity.kind} {mask_identity(customer.identity.number)}")
    held += [what for what, value in (("name", customer.name), ("country", customer.country_of_residence)) if value]
    return ", ".join(held) or "nothing"


def _summary(done: Erasure) -> str:
    customer = done.customer
    orders = ", ".join(done.orders[:MAX_ORDERS_NAMED])
    if len(done.orders) > MAX_ORDERS_NAMED:
        orders += f" and {len(done.orders) - MAX_ORDERS_NAMED} more"
    held = counted(len(done.orders), "order") + (f" ({orders})" if orders else "")
    held += f", {counted(done.snapshots, 'event snapshot')} and {counted(done.reasons, 'reason')} given with changes"
    if done.ids:  # said only when there are any: a partner seldom puts personal data in its ids
        ids = counted(done.ids, "correlation id or idempotency key", "correlation ids and idempotency keys")
        held += f", and in {ids}"
    who = f"customer {customer.id} of {customer.partner_id}"
    if customer.erased_at is not None:
        erased = f"{who} was erased at {customer.erased_at.isoformat(timespec='seconds')}"
        if done.dry_run:
            return f"dry run, nothing changed: {erased}; its data would be erased in {held}"
        return f"{erased}; its data erased now in {held}"
    if done.dry_run:
        return f"dry run, nothing changed: would erase {who}: its {_held(customer)}; its data in {held}"
    return f"{who} erased: its {_held(customer)}; its data in {held}"
