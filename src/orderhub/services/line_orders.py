"""Orders on mobile lines (LINE_PRODUCTS): intake rules on stored data, and the line queries the
dialects and the operator CLI use (the operator's set-up of units and lines: services.line_setup)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from orderhub.domain.customers import Customer
from orderhub.domain.errors import AccessDenied, BusinessUnitNotFound
from orderhub.domain.identifiers import new_id
from orderhub.domain.lines import (
    PLAN_TYPE_ATTRIBUTE,
    BusinessUnit,
    LineOrderRequest,
    LineProduct,
    check_line_order,
    validate_line_order,
)
from orderhub.domain.orders import OrderItem, Subject, SubjectKind
from orderhub.domain.partners import LINE_ORDERING_ROLES, Principal
from orderhub.domain.zones import zone
from orderhub.services.clock import Clock, utc_now
from orderhub.services.order_commands import NewOrder
from orderhub.services.ports import Database, DatabaseUnavailable, UnitOfWork
from orderhub.services.provisioning import LineReadings
from orderhub.services.records import nameable


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
    found = uow.partners.find_customer_by_identity([principal.partner_id], details.identity, for_order=True)
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


def _read_zone(unit: BusinessUnit) -> None:
    """Reads the unit's zone before any order of it is stored: an order's answer, given after its commit,
    is dated in that zone and must need no file then (domain.zones). A zone that cannot be read now
    (no file descriptor left) refuses the order, with nothing stored, as a database that cannot be."""
    try:
        zone(unit.timezone)
    except OSError as exc:
        raise DatabaseUnavailable(f"the time zone {unit.timezone} could not be read: {exc.strerror}") from exc


@dataclass(frozen=True)
class LineView:
    unit: BusinessUnit
    msisdn: str
    products: list[LineProduct]
    now: datetime


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
        if unit is None and nameable(business_unit_id):
            unit = await self._db.read(lambda uow: uow.lines.business_unit(business_unit_id))
            if unit is not None:
                _read_zone(unit)
                self._units[business_unit_id] = unit
        return _enabled(principal, business_unit_id, unit)

    def read_zones(self) -> None:
        """Reads the time zone of every business unit (at start-up), so that no order waits on one."""
        for unit in self._db.read_now(lambda uow: uow.lines.business_units()):
            _read_zone(unit)

    def cached_unit(self, principal: Principal, business_unit_id: str, version: int) -> BusinessUnit | None:
        """``business_unit`` as cached for the config version ``version``, without reading the store's
        (for a principal that is itself unchecked: services.auth.Caller). None when not cached at that
        version or refused: the refusal may be the stale principal's, and ``business_unit`` decides."""
        unit = self._units.get(business_unit_id) if self._units_version == version else None
        try:
            return _enabled(principal, business_unit_id, unit)
        except (BusinessUnitNotFound, AccessDenied):
            return None

    def line(self, business_unit_id: str, msisdn: str) -> LineView | None:
        """A line and every product it ever had (operator view)."""

        def load(uow: UnitOfWork) -> LineView | None:
            unit = uow.lines.business_unit(business_unit_id)
            line = uow.lines.find_line(business_unit_id, msisdn) if unit is not None else None
            if unit is None or line is None:
                return None
            return LineView(unit, msisdn, uow.lines.products_of_line(line.id), self._clock())

        return self._db.read_now(load)
