"""Orders on mobile lines (LINE_PRODUCTS): intake rules on stored data, and the line queries the
dialects and the operator CLI use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from orderhub.domain.errors import AccessDenied, BusinessUnitNotFound
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
from orderhub.services.clock import Clock, utc_now
from orderhub.services.ordering import NewOrder
from orderhub.services.ports import Database, UnitOfWork


def unit_for(uow: UnitOfWork, principal: Principal, business_unit_id: str) -> BusinessUnit:
    """The business unit, if the caller may order there (unknown: not found; not enabled: denied)."""
    unit = uow.lines.business_unit(business_unit_id)
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
        validate_line_order(request, unit)
        line = uow.lines.find_line(unit.id, request.msisdn)
        offerings = frozenset((o.product_id, o.plan_type) for o in uow.lines.offerings(unit.id))
        has_active_plan = line is not None and uow.lines.active_plan(line.id, now) is not None
        check_line_order(request, line=line, offerings=offerings, has_active_plan=has_active_plan)
        assert line is not None
        items = [
            OrderItem(
                seq=seq,
                product_id=item.offering_id,
                action=item.action,
                attributes={PLAN_TYPE_ATTRIBUTE: item.plan_type.value},
            )
            for seq, item in enumerate(request.items, start=1)
        ]
        return NewOrder(items=items, subject=Subject(SubjectKind.LINE, line.id))


@dataclass(frozen=True)
class LineView:
    unit: BusinessUnit
    msisdn: str
    products: list[LineProduct]
    now: datetime


class LineService:
    """What dialects and operators ask about business units and lines."""

    def __init__(self, db: Database, *, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock

    async def business_unit(self, principal: Principal, business_unit_id: str) -> BusinessUnit:
        return await self._db.read(lambda uow: unit_for(uow, principal, business_unit_id))

    def line(self, business_unit_id: str, msisdn: str) -> LineView | None:
        """A line and every product it ever had (operator view)."""

        def load(uow: UnitOfWork) -> LineView | None:
            unit = uow.lines.business_unit(business_unit_id)
            line = uow.lines.find_line(business_unit_id, msisdn) if unit is not None else None
            if unit is None or line is None:
                return None
            return LineView(unit, msisdn, uow.lines.products_of_line(line.id), self._clock())

        return self._db.read_now(load)
