"""Orders on mobile lines (LINE_PRODUCTS): intake rules on stored data, and the line queries the
dialects and the operator CLI use."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from orderhub.domain.catalog import ProductKind
from orderhub.domain.customers import Customer
from orderhub.domain.errors import AccessDenied, BusinessUnitNotFound, InvalidInput
from orderhub.domain.identifiers import new_id
from orderhub.domain.lines import (
    MAX_MSISDN_LENGTH,
    PLAN_TYPE_ATTRIBUTE,
    BusinessUnit,
    Line,
    LineOrderRequest,
    LineProduct,
    Offering,
    PlanType,
    check_line_order,
    validate_line_order,
)
from orderhub.domain.orders import OrderItem, Subject, SubjectKind
from orderhub.domain.partners import LINE_ORDERING_ROLES, Principal
from orderhub.services.clock import Clock, utc_now
from orderhub.services.order_commands import NewOrder
from orderhub.services.ports import Database, UnitOfWork, UnitOfWorkFactory
from orderhub.services.provisioning import LineReadings


def unit_for(uow: UnitOfWork, principal: Principal, business_unit_id: str) -> BusinessUnit:
    """The business unit, if the caller may order there (unknown: not found; not enabled: denied)."""
    return _enabled(principal, business_unit_id, uow.lines.business_unit(business_unit_id))


def _enabled(principal: Principal, business_unit_id: str, unit: BusinessUnit | None) -> BusinessUnit:
    if unit is None:
        raise BusinessUnitNotFound(f"business unit {business_unit_id} not found", field="business_unit")
    if not principal.has_any_role(LINE_ORDERING_ROLES) or business_unit_id not in principal.partner.business_unit_ids:
        raise AccessDenied(f"you are not enabled for business unit {business_unit_id}", field="business_unit")
    return unit


class LineIntake:
    def validate(self, principal: Principal, request: LineOrderRequest, now: datetime) -> None:
        # The MSISDN format is the business unit's: checked in prepare, where the unit is at hand.
        return None

    def prepare(self, uow: UnitOfWork, principal: Principal, request: LineOrderRequest, now: datetime) -> NewOrder:
        unit = unit_for(uow, principal, request.business_unit_id)
        validate_line_order(request, unit, now)
        line = uow.lines.find_line(unit.id, request.msisdn)
        if line is not None:
            uow.lines.lock(line.id)  # its plans are read here and changed by orders racing this one
        offerings = tuple(uow.lines.offerings(unit.id))
        base_plan = uow.lines.active_plan(line.id, now) if line is not None else None
        sold = frozenset((o.product_id, o.plan_type) for o in offerings)
        check_line_order(request, line=line, offerings=sold, has_active_plan=base_plan is not None)
        assert line is not None
        customer_id = _customer_of(uow, principal, request, now)
        items = [
            OrderItem(
                seq=seq,
                product_id=item.offering_id,
                action=item.action,
                attributes={PLAN_TYPE_ATTRIBUTE: item.plan_type.value},
            )
            for seq, item in enumerate(request.items, start=1)
        ]
        return NewOrder(
            items=items,
            subject=Subject(SubjectKind.LINE, line.id),
            customer_id=customer_id,
            due_at=request.requested_at,
            readings=LineReadings(line, offerings, base_plan),
        )


def _customer_of(uow: UnitOfWork, principal: Principal, request: LineOrderRequest, now: datetime) -> str | None:
    """The stored customer the order is for: found by identification, or created on first order."""
    details = request.customer
    if details is None or details.identity is None:
        return None
    found = uow.partners.find_customer_by_identity([principal.partner_id], details.identity)
    if found is not None:
        return found.id
    customer = Customer(
        id=new_id(),
        partner_id=principal.partner_id,
        email=None,
        created_at=now,
        name=details.name,
        identity=details.identity,
    )
    return uow.partners.add_customer(customer)


@dataclass(frozen=True)
class LineView:
    unit: BusinessUnit
    msisdn: str
    products: list[LineProduct]
    now: datetime


class LineAdmin:
    """Operators' (and the demo data's) way to set up business units, their offerings and lines."""

    def __init__(self, uow_factory: UnitOfWorkFactory, *, clock: Clock = utc_now) -> None:
        self._uow = uow_factory
        self._clock = clock

    def add_business_unit(self, unit: BusinessUnit, offerings: Iterable[Offering] = ()) -> None:
        problems = unit.problems()
        if problems:
            raise InvalidInput("; ".join(problems), field="business_unit")
        with self._uow() as uow:
            if uow.lines.business_unit(unit.id) is not None:
                raise InvalidInput(f"business unit {unit.id} exists already", field="business_unit")
            uow.lines.add_business_unit(unit, self._clock())
            for offering in offerings:
                self._add_offering(uow, offering)
            uow.partners.bump_config_version()
            uow.commit()

    def update_business_unit(self, business_unit_id: str, **changes: str | None) -> BusinessUnit:
        """Change a unit's name, timezone, msisdn_pattern or msisdn_hint (None: kept). Running servers
        keep units by the config version, which this moves: their next order reads the new unit."""
        with self._uow() as uow:
            unit = _existing_unit(uow, business_unit_id)
            updated = replace(unit, **{k: v for k, v in changes.items() if v is not None})
            problems = updated.problems()
            if problems:
                raise InvalidInput("; ".join(problems), field="business_unit")
            uow.lines.update_business_unit(updated)
            uow.partners.bump_config_version()
            uow.commit()
        return updated

    def business_units(self) -> list[tuple[BusinessUnit, list[Offering]]]:
        with self._uow(read_only=True) as uow:
            return [(unit, uow.lines.offerings(unit.id)) for unit in uow.lines.business_units()]

    def add_offering(self, offering: Offering) -> Offering | None:
        """Sell a line offering (a product of kind line_offering) in a business unit as one plan type. If
        the unit sells it so already, it takes the new validity (a wrong one is corrected in place, and a
        set-up script can run again). The offering as it stood before, None when it is new. Lines already
        running it keep their end; orders provisioned from now on run for the new validity."""
        with self._uow() as uow:
            _existing_unit(uow, offering.business_unit_id)
            _check_offering(uow, offering)
            sold = (offering.product_id, offering.plan_type)
            previous = next(
                (o for o in uow.lines.offerings(offering.business_unit_id) if (o.product_id, o.plan_type) == sold), None
            )
            if previous == offering:
                return previous  # nothing to write: running servers keep what they have
            uow.lines.put_offering(offering)
            # Orders read a unit's offerings in their own transaction, so no server keeps them; the
            # version still moves, as for every set-up change, so that nothing kept by it goes stale.
            uow.partners.bump_config_version()
            uow.commit()
        return previous

    @staticmethod
    def _add_offering(uow: UnitOfWork, offering: Offering) -> None:
        """One of a new unit's offerings (the demo's): sold so twice in the list is a mistake."""
        _check_offering(uow, offering)
        unit_id, plan_type = offering.business_unit_id, offering.plan_type
        if any(o.product_id == offering.product_id and o.plan_type is plan_type for o in uow.lines.offerings(unit_id)):
            raise InvalidInput(f"{unit_id} sells {offering.product_id} as {plan_type} already", field="offering")
        uow.lines.put_offering(offering)

    def add_line(self, business_unit_id: str, msisdn: str, *, plan: str | None = None) -> Line:
        """A line, optionally with an active base plan (``plan``: an offering sold as a Plan there)."""
        now = self._clock()
        with self._uow() as uow:
            unit = _existing_unit(uow, business_unit_id)
            if len(msisdn) > MAX_MSISDN_LENGTH or not unit.msisdn_valid(msisdn):
                raise InvalidInput(f"{msisdn} is not an MSISDN of {unit.id} ({unit.msisdn_hint})", field="msisdn")
            if uow.lines.find_line(unit.id, msisdn) is not None:
                raise InvalidInput(f"{msisdn} is a line of {unit.id} already", field="msisdn")
            line = Line(new_id(), unit.id, msisdn)
            uow.lines.add_line(line, now)
            if plan is not None:
                offering = next(
                    (o for o in uow.lines.offerings(unit.id) if o.product_id == plan and o.plan_type is PlanType.PLAN),
                    None,
                )
                if offering is None:
                    raise InvalidInput(f"{plan} is not sold as a Plan in {unit.id}", field="plan")
                starts_at, ends_at = LineProduct.period(now, offering.validity_days)
                uow.lines.add_product(
                    LineProduct(new_id(), line.id, None, None, plan, PlanType.PLAN, starts_at, ends_at), now
                )
            uow.commit()
        return line


def _check_offering(uow: UnitOfWork, offering: Offering) -> None:
    """Each problem of an offering on its own: its validity, its product."""
    problems = offering.problems()
    if problems:
        raise InvalidInput("; ".join(problems), field="offering")
    product = uow.catalog.get(offering.product_id)
    if product is None:
        raise InvalidInput(
            f"no product {offering.product_id}: create it first (orderhub line add-product)", field="offering"
        )
    if product.kind is not ProductKind.LINE_OFFERING:
        raise InvalidInput(f"product {product.id} is a {product.kind} product, not a line offering", field="offering")


def _existing_unit(uow: UnitOfWork, business_unit_id: str) -> BusinessUnit:
    unit = uow.lines.business_unit(business_unit_id)
    if unit is None:
        raise BusinessUnitNotFound(
            f"business unit {business_unit_id} not found (orderhub business-unit add)", field="business_unit"
        )
    return unit


MAX_CACHED_UNITS = 1024


class LineService:
    """What dialects and operators ask about business units and lines."""

    def __init__(self, db: Database, *, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock
        # Business units read lately, for the store's config version they were read under: every
        # productOrder POST names one, and adding a unit bumps the version. Unknown ids are not kept,
        # so made-up ones cannot fill it.
        self._units: dict[str, BusinessUnit] = {}
        self._units_version: int | None = None

    async def business_unit(self, principal: Principal, business_unit_id: str) -> BusinessUnit:
        """The business unit, if the caller may order there (unknown: not found; not enabled: denied).
        The intake checks it again inside the order's transaction; this is the early answer."""
        version = await self._db.config_version()
        if version != self._units_version or len(self._units) >= MAX_CACHED_UNITS:
            self._units, self._units_version = {}, version
        unit = self._units.get(business_unit_id)
        if unit is None:
            unit = await self._db.read(lambda uow: uow.lines.business_unit(business_unit_id))
            if unit is not None:
                self._units[business_unit_id] = unit
        return _enabled(principal, business_unit_id, unit)

    def line(self, business_unit_id: str, msisdn: str) -> LineView | None:
        """A line and every product it ever had (operator view)."""

        def load(uow: UnitOfWork) -> LineView | None:
            unit = uow.lines.business_unit(business_unit_id)
            line = uow.lines.find_line(business_unit_id, msisdn) if unit is not None else None
            if unit is None or line is None:
                return None
            return LineView(unit, msisdn, uow.lines.products_of_line(line.id), self._clock())

        return self._db.read_now(load)
