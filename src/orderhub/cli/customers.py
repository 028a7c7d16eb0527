"""End customers: their personal data given to them (GDPR art. 15 and 20) or erased (art. 17) on request."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from orderhub.cli.base import (
    DbOption,
    _fail,
    _services,
    console,
    counted,
    customer_app,
    instant_option,
    refusals_in_one_line,
)
from orderhub.cli.retention_watch import stopped_exit_code, watched_run
from orderhub.domain.customers import PERSONAL_IDENTITY_NUMBER, Customer, Identity, personal_identity
from orderhub.observability import mask, mask_identity
from orderhub.services.customer_erasure import MAX_ORDERS_NAMED, CustomerErasure, EraseCustomer, Erasure
from orderhub.services.customer_export import CustomerExports
from orderhub.services.customer_keys import CustomerKey
from orderhub.services.customer_retention import CustomerRetention, Retention, shown_since

# How each command that acts on a customer's data names the customer: the same options, read alike.
PartnerOption = Annotated[str, typer.Option(help="The partner whose customer it is")]
EmailOption = Annotated[str | None, typer.Option(help="The customer's e-mail, in any case (esim-v1's key)")]
IdentityOption = Annotated[
    tuple[str, str] | None,
    typer.Option(
        metavar="KIND NUMBER",
        help=f"The customer's identification: {PERSONAL_IDENTITY_NUMBER} and a Swedish personal identity "
        "number in any spelling (onapi-order), or the kind and number a TMF order's Customer party gave",
    ),
]
CustomerIdOption = Annotated[str | None, typer.Option("--id", help="The customer's id (order show names it)")]


@customer_app.command("erase")
def customer_erase(
    partner: Annotated[
        str | None,
        typer.Option(
            help="The partner whose customer it is (with --inactive-since: whose customers; every partner's when "
            "left out)"
        ),
    ] = None,
    email: EmailOption = None,
    identity: IdentityOption = None,
    customer_id: CustomerIdOption = None,
    inactive_since: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="Instead of one customer, every one not active since DATE (ISO-8601 date or date-time, UTC): "
            "created before it, their orders all final and none changed since (a retention policy)",
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be erased; change nothing")] = False,
    db: DbOption = None,
) -> None:
    """Erase a customer's personal data (GDPR art. 17): the customer record keeps only its id, partner and
    creation time; each of their orders keeps what the partner sent with the customer's data replaced by
    "erased" (its history says so); orders, products, prices, eSIMs and subscriptions stay. Refused while an
    order of theirs is not final. The customer's data is shown masked, as order show shows it. With
    --inactive-since, every customer no longer active is erased so, one at a time (GDPR art. 5(1)(e));
    named by id alone."""
    if inactive_since is not None:
        _erase_inactive(partner, email, identity, customer_id, inactive_since, dry_run=dry_run, db=db)
        return
    if partner is None:  # required but with --inactive-since: said before the database is opened
        raise _fail("name the partner whose customer it is with --partner (or erase every customer no longer "
                    "active with --inactive-since DATE)")  # fmt: skip
    key = _key(email, identity, customer_id)
    with refusals_in_one_line():
        done = CustomerErasure(_services(db).uow_factory, _erasers()).erase(partner, key, dry_run=dry_run)
    console.print(escape(_summary(done)), soft_wrap=True)


def _erase_inactive(
    partner: str | None,
    email: str | None,
    identity: tuple[str, str] | None,
    customer_id: str | None,
    inactive_since: str,
    *,
    dry_run: bool,
    db: str | None,
) -> None:
    given = [option for option, value in (("--email", email), ("--identity", identity), ("--id", customer_id)) if value]
    if given:
        raise _fail(f"--inactive-since selects the customers itself: it takes no --email, --identity or --id "
                    f"(given: {', '.join(given)})")  # fmt: skip
    since = instant_option("--inactive-since", inactive_since)
    with refusals_in_one_line(), watched_run(shown_since(since)) as watch:
        retention = CustomerRetention(_services(db).uow_factory, _erasers())
        try:
            done = retention.erase_inactive(partner, since, dry_run=dry_run, watch=watch)
        except Exception:
            # The database gone half-way, say: those erased before stay erased, and are counted, before
            # the error's own line.
            if watch.done is not None and watch.done.gone_through and not watch.done.dry_run:
                watch.done.stopped = True
                _say_stopped(watch.done, "an error")
            raise
    if not done.stopped:
        console.print(escape(_retention_summary(done)), soft_wrap=True)
        return
    assert watch.stopped_by is not None
    _say_stopped(done, watch.stopped_by.name)
    raise typer.Exit(code=stopped_exit_code(watch.stopped_by))


def _say_stopped(done: Retention, by: str) -> None:
    """On stdout, as a whole run's line is: how many were erased before the stop (they stay erased)."""
    stopped = f"stopped by {by} after {done.gone_through} of {done.selected} customers: "
    console.print(escape(f"{stopped}{_retention_summary(done)}; run again to erase the rest"), soft_wrap=True)


def _erasers() -> dict[str, EraseCustomer]:
    # The dialects say where their orders keep the customer; they bring the web framework with them, which
    # the other commands do not load.
    from orderhub.dialects import DIALECTS

    return {dialect.name: dialect.erase_customer for dialect in DIALECTS if dialect.erase_customer is not None}


@customer_app.command("export")
def customer_export(
    partner: PartnerOption,
    email: EmailOption = None,
    identity: IdentityOption = None,
    customer_id: CustomerIdOption = None,
    output: Annotated[
        Path | None,
        typer.Option(help="Write it to this new file, readable by its owner only (never overwritten)"),
    ] = None,
    db: DbOption = None,
) -> None:
    """Give a customer a copy of the personal data held about them (GDPR art. 15 and 20): one JSON document
    of the customer record and each of their orders (what the partner sent, what it made, its history),
    UNMASKED, as stored; printed, or written to --output. Reads only, while orderhub serves."""
    key = _key(email, identity, customer_id)
    if output is not None:
        _refuse_existing(output)  # said before the database is read; _write_new makes sure
    with refusals_in_one_line():
        export = CustomerExports(_services(db).uow_factory).export(partner, key)
    document = (json.dumps(export.document(), indent=2, ensure_ascii=False) + "\n").encode()
    if output is None:
        # Bytes: UTF-8 whatever the locale says stdout's encoding is.
        sys.stdout.flush()
        sys.stdout.buffer.write(document)
        sys.stdout.buffer.flush()
        return
    _write_new(output, document)
    customer = export.customer
    done = f"customer {customer.id} of {customer.partner_id}: {counted(len(export.orders), 'order')} written to"
    console.print(escape(f"{done} {output}"), soft_wrap=True)


def _write_new(path: Path, data: bytes) -> None:
    """``data`` in a new file at ``path``, mode 0600: it holds a person's data unmasked. O_EXCL: one made
    meanwhile is not overwritten either (nor a link followed)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise _exists(path) from exc
    except OSError as exc:
        raise _fail(f"cannot write {path}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), 0o600)  # exactly, whatever the umask took away
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except OSError as exc:
        path.unlink(missing_ok=True)  # no half document left behind (a full disk)
        raise _fail(f"cannot write {path}: {exc.strerror}") from exc


def _refuse_existing(path: Path) -> None:
    try:
        path.lstat()  # a link is there too, even one to nothing
    except FileNotFoundError:
        return
    except OSError as exc:  # a name too long, a path through a file: as _write_new would say it
        raise _fail(f"cannot write {path}: {exc.strerror}") from exc
    raise _exists(path)


def _exists(path: Path) -> typer.Exit:
    return _fail(f"{path} already exists: choose a new file")


def _key(email: str | None, identity: tuple[str, str] | None, customer_id: str | None) -> CustomerKey:
    kind, number = identity if identity is not None else (None, None)
    given = [option for option, value in (("--email", email), ("--identity", kind), ("--id", customer_id)) if value]
    if len(given) != 1:
        named = ", ".join(given) if given else "none"
        raise _fail(f"name the customer by exactly one of --email, --identity or --id (given: {named})")
    return CustomerKey(email=email, identity=_identity(kind, number), customer_id=customer_id)


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


def _named(ids: list[str]) -> str:
    """The first MAX_ORDERS_NAMED of ``ids``, the others counted: one line a person reads."""
    named = ", ".join(ids[:MAX_ORDERS_NAMED])
    return named + (f" and {len(ids) - MAX_ORDERS_NAMED} more" if len(ids) > MAX_ORDERS_NAMED else "")


def _data_in(orders: str, snapshots: int, reasons: int, ids: int) -> str:
    """Where an erasure found the data: ``orders`` (counted, maybe named), then the rest, counted."""
    held = f"{orders}, {counted(snapshots, 'event snapshot')} and {counted(reasons, 'reason')} given with changes"
    if ids:  # said only when there are any: a partner seldom puts personal data in its ids
        held += f", and in {counted(ids, 'correlation id or idempotency key', 'correlation ids and idempotency keys')}"
    return held


def _summary(done: Erasure) -> str:
    customer = done.customer
    orders = counted(len(done.orders), "order") + (f" ({_named(done.orders)})" if done.orders else "")
    held = _data_in(orders, done.snapshots, done.reasons, done.ids)
    who = f"customer {customer.id} of {customer.partner_id}"
    if customer.erased_at is not None:
        erased = f"{who} was erased at {customer.erased_at.isoformat(timespec='seconds')}"
        if done.dry_run:
            return f"dry run, nothing changed: {erased}; its data would be erased in {held}"
        return f"{erased}; its data erased now in {held}"
    if done.dry_run:
        return f"dry run, nothing changed: would erase {who}: its {_held(customer)}; its data in {held}"
    return f"{who} erased: its {_held(customer)}; its data in {held}"


def _retention_summary(done: Retention) -> str:
    """One line, customers named by id alone (the dry run's first ones), never their data."""
    scope = f"(of {done.partner_id})" if done.partner_id else "(of every partner)"
    since = f"inactive since {shown_since(done.since)}"
    rest = f"; {done.kept} kept: orders not final" if done.kept else ""
    if done.skipped:
        rest += f"; {done.skipped} skipped: erased or active since selected"
    dry = "dry run, nothing changed: " if done.dry_run else ""
    if not done.customers:
        return f"{dry}{'no customer erased' if done.stopped else 'no customer'} {since} {scope}{rest}"
    customers = counted(len(done.customers), "customer")
    if done.dry_run:
        return f"{dry}would erase {customers} {scope}, {since}: {_named(done.customers)}{rest}"
    held = _data_in(counted(done.orders, "order"), done.snapshots, done.reasons, done.ids)
    return f"{customers} erased {scope}, {since}: their data in {held}{rest}"
