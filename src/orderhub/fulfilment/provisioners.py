"""Provisioners turn an accepted order into lines and subscriptions, one per operation.

Each runs inside the unit of work that also completes the order, and is idempotent: run again for
the same order it finds what it made before instead of making it twice.
"""

from __future__ import annotations

from datetime import datetime

from orderhub.domain.accesses import AccessService, AccessState, offering_of
from orderhub.domain.esim import MAX_ACTIVE_SUBSCRIPTIONS_PER_ICCID, Subscription, subscription_period
from orderhub.domain.identifiers import new_id
from orderhub.domain.lines import LineProduct, PlanType, plan_type_of, provisioning_order
from orderhub.domain.orders import Operation, Order, Subject, SubjectKind
from orderhub.domain.results import AccessResult, EsimResult, LineResult
from orderhub.services.ports import UnitOfWork
from orderhub.services.provisioning import (
    AccessReadings,
    EsimReadings,
    IntakeReadings,
    LineReadings,
    NotProvisioned,
    Outcome,
    Provisioned,
    Provisioner,
)


def _subscribe(
    uow: UnitOfWork, order: Order, iccid: str, now: datetime, *, first_run: bool, readings: IntakeReadings | None
) -> tuple[str, ...]:
    # Subscriptions are written in the same transaction that completes the order, so an order has
    # either all of them (a re-run finds them) or none.
    existing = () if first_run else uow.subscriptions.of_order(order.id)
    if existing:
        return tuple(s.id for s in existing)
    # Fulfilled in the transaction that accepted it: the intake handed on the products' validity.
    if first_run and isinstance(readings, EsimReadings):
        validity = readings.validity_days
    else:
        validity = uow.catalog.validity_days(item.product_id for item in order.items)
    made = []
    for item in order.items:
        starts_at, ends_at = subscription_period(item.activation_at, validity.get(item.product_id), now)
        subscription = Subscription(
            id=new_id(),
            iccid=iccid,
            order_id=order.id,
            product_id=item.product_id,
            starts_at=starts_at,
            ends_at=ends_at,
        )
        uow.subscriptions.add(subscription, item.seq, now)
        made.append(subscription.id)
    return tuple(made)


class NewEsimProvisioner:
    """Hands an inventory profile to the order and starts its subscriptions."""

    runs_inline = True

    def provision(
        self,
        uow: UnitOfWork,
        order: Order,
        now: datetime,
        *,
        first_run: bool = False,
        readings: IntakeReadings | None = None,
    ) -> Outcome:
        earlier = None if first_run else uow.profiles.assigned_to(order.id)
        profile = earlier or uow.profiles.claim_available(order.id, order.customer_id, now)
        if profile is None:
            return NotProvisioned("no eSIM profile available in inventory")
        subscription_ids = _subscribe(uow, order, profile.iccid, now, first_run=first_run, readings=readings)
        order.subject = Subject(SubjectKind.ESIM, profile.iccid)
        return Provisioned(EsimResult(profile.iccid, profile.smdp_address, subscription_ids, profile.matching_id))


class TopUpProvisioner:
    """Adds subscriptions to the customer's existing eSIM; no new profile, so no matching ID."""

    runs_inline = True

    def provision(
        self,
        uow: UnitOfWork,
        order: Order,
        now: datetime,
        *,
        first_run: bool = False,
        readings: IntakeReadings | None = None,
    ) -> Outcome:
        assert order.subject is not None
        uow.profiles.lock(order.subject.ref)
        profile = uow.profiles.get(order.subject.ref)
        if profile is None:
            return NotProvisioned(f"eSIM {order.subject.ref} no longer exists")
        if first_run or not uow.subscriptions.of_order(order.id):
            # The limit holds at fulfilment too: checked at intake, it may no longer hold (an order
            # scheduled for later, subscriptions added meanwhile).
            active = uow.subscriptions.count_unexpired(profile.iccid, now)
            if active + len(order.items) > MAX_ACTIVE_SUBSCRIPTIONS_PER_ICCID:
                return NotProvisioned(
                    f"an eSIM holds at most {MAX_ACTIVE_SUBSCRIPTIONS_PER_ICCID} active subscriptions"
                    f" ({active} active, {len(order.items)} more ordered)"
                )
        subscription_ids = _subscribe(uow, order, profile.iccid, now, first_run=first_run, readings=readings)
        return Provisioned(EsimResult(profile.iccid, profile.smdp_address, subscription_ids))


class LineProductsProvisioner:
    """Starts the ordered plans, data plans and add-ons on the line; a Plan replaces the base plan."""

    runs_inline = True

    def provision(
        self,
        uow: UnitOfWork,
        order: Order,
        now: datetime,
        *,
        first_run: bool = False,
        readings: IntakeReadings | None = None,
    ) -> Outcome:
        assert order.subject is not None and order.subject.kind is SubjectKind.LINE
        # Fulfilled in the transaction that accepted it: the intake has read the line under its lock.
        known = readings if first_run and isinstance(readings, LineReadings) else None
        if known is not None and known.line.id == order.subject.ref:
            line = known.line
        else:
            known = None
            found = uow.lines.get_line(order.subject.ref)
            if found is None:
                return NotProvisioned("the line no longer exists")
            line = found
            uow.lines.lock(line.id)
        made = [] if first_run else uow.lines.products_of_order(order.id)
        failed: dict[int, str] = {}
        if not made:
            # An order provisioned later than it was accepted (scheduled, or left to the worker) may be of a
            # channel no longer enabled for the line's business unit (partner set-business-units); one
            # fulfilled at intake was checked against the channel's units in this very transaction. Units
            # are a BUSINESS_CHANNEL's only (partner set-roles refuses to take the role while it has some).
            if known is None and line.business_unit_id not in uow.partners.business_units_of(order.partner_id):
                return NotProvisioned(
                    f"{order.partner_id} is no longer enabled for business unit {line.business_unit_id}"
                )
            offerings = known.offerings if known else uow.lines.offerings(line.business_unit_id)
            validity = {(o.product_id, o.plan_type): o.validity_days for o in offerings}
            base_plan = known.base_plan if known else uow.lines.active_plan(line.id, now)
            for item in provisioning_order(order.items):
                plan_type = plan_type_of(item)
                if (item.product_id, plan_type) not in validity:
                    failed[item.seq] = f"offering {item.product_id} is no longer sold as {plan_type}"
                    continue
                if plan_type.needs_base_plan and base_plan is None:
                    # The plan the order was accepted on has ended since (an order scheduled for later).
                    failed[item.seq] = f"no active Plan on MSISDN {line.msisdn}"
                    continue
                starts_at, ends_at = LineProduct.period(now, validity[(item.product_id, plan_type)])
                product = LineProduct(
                    id=new_id(),
                    line_id=line.id,
                    order_id=order.id,
                    item_seq=item.seq,
                    product_id=item.product_id,
                    plan_type=plan_type,
                    starts_at=starts_at,
                    ends_at=ends_at,
                )
                if plan_type is PlanType.PLAN:
                    if base_plan is not None:
                        uow.lines.end_product(base_plan.id, now)
                    base_plan = product
                uow.lines.add_product(product, now)
                made.append(product)
        else:
            delivered = {p.item_seq for p in made}
            failed = {i.seq: "not provisioned" for i in order.items if i.seq not in delivered}
        delivered_products = tuple(sorted((p.item_seq, p.id) for p in made if p.item_seq is not None))
        result = LineResult(line.business_unit_id, line.msisdn, delivered_products)
        return Provisioned(result, failed)


class ServiceActivationProvisioner:
    """Activates the ordered services on the access, all of them or none: when one cannot be delivered
    now (the access was blocked meanwhile, the product got active through another order), none is."""

    runs_inline = True

    def provision(
        self,
        uow: UnitOfWork,
        order: Order,
        now: datetime,
        *,
        first_run: bool = False,
        readings: IntakeReadings | None = None,
    ) -> Outcome:
        assert order.subject is not None and order.subject.kind is SubjectKind.ACCESS
        # Fulfilled in the transaction that accepted it: the intake holds the access's lock and has read
        # its active products under it.
        known = readings if first_run and isinstance(readings, AccessReadings) else None
        if known is not None and known.access_id == order.subject.ref:
            access = uow.accesses.get(order.subject.ref)
        else:
            known = None
            # Its state read once the lock is held: read before, it could predate an operator's block that
            # the lock waited for, and the order was activated on the blocked access, set active again.
            access = uow.accesses.locked(order.subject.ref)
        if access is None:
            return NotProvisioned("the access no longer exists")
        made = [] if first_run else uow.accesses.services_of_order(order.id)
        failed: dict[int, str] = {}
        if not made:
            active = set(known.active_products if known else uow.accesses.active_products(access.id))
            # An order provisioned later than it was accepted (scheduled, or left to the worker) may hold
            # an offering withdrawn since (access remove-offering) or no longer open to its communication
            # operator (partner set-offerings); one fulfilled at intake was checked against the CO's
            # offerings in this very transaction.
            granted = (
                None if known else {(o.product_id, o.offering_id) for o in uow.accesses.offerings_for(order.partner_id)}
            )
            for item in order.items:
                if access.state is AccessState.BLOCKED:
                    failed[item.seq] = f"access {access.ref} is blocked"
                elif granted is not None and (item.product_id, offering_of(item)) not in granted:
                    failed[item.seq] = _no_longer_orderable(uow, order.partner_id, item.product_id, offering_of(item))
                elif item.product_id in active:
                    failed[item.seq] = f"{item.product_id} is already active on access {access.ref}"
                active.add(item.product_id)
            if failed:
                # All or nothing: an order is activated whole or not at all, never in part (ON-API
                # answers REJECTED for an order that did not complete).
                failed = {
                    i.seq: failed.get(i.seq, "not activated: another service of the order could not be")
                    for i in order.items
                }
            else:
                for item in order.items:
                    service = AccessService(
                        new_id(), access.id, order.id, item.seq, item.product_id, offering_of(item), now
                    )
                    uow.accesses.add_service(service, now)
                    made.append(service)
                if access.state is AccessState.FREE:
                    uow.accesses.set_state(access.id, AccessState.ACTIVE, now)
        else:
            delivered = {s.item_seq for s in made}
            failed = {i.seq: "not activated" for i in order.items if i.seq not in delivered}
        services = tuple((s.item_seq, s.id) for s in made if s.item_seq is not None)
        return Provisioned(AccessResult(access.ref, services), failed)


def _no_longer_orderable(uow: UnitOfWork, partner_id: str, product_id: str, offering_id: str) -> str:
    """Why an offering the CO may no longer order cannot be: withdrawn, or taken from it. Only a sold
    offering can be granted, so the offerings sold are read only here, for an order that fails."""
    sold = any((o.product_id, o.offering_id) == (product_id, offering_id) for o in uow.accesses.all_offerings())
    if not sold:
        return f"offering {product_id}/{offering_id} is no longer sold"
    return f"offering {product_id}/{offering_id} is no longer allowed to {partner_id}"


def default_provisioners() -> dict[Operation, Provisioner]:
    return {
        Operation.NEW_ESIM: NewEsimProvisioner(),
        Operation.TOPUP: TopUpProvisioner(),
        Operation.LINE_PRODUCTS: LineProductsProvisioner(),
        Operation.ACTIVATE_SERVICE: ServiceActivationProvisioner(),
    }
