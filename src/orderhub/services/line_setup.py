"""The operator's (and the demo data's) set-up of line orders: business units, what they sell and as
what, and their lines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from orderhub.domain.catalog import ProductKind
from orderhub.domain.errors import BusinessUnitNotFound, InvalidInput
from orderhub.domain.identifiers import new_id
from orderhub.domain.lines import MAX_MSISDN_LENGTH, BusinessUnit, Line, LineProduct, Offering, PlanType
from orderhub.services.clock import Clock, utc_now
from orderhub.services.ports import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class OfferingRemoval:
    """What ``business-unit remove-offering`` did."""

    # The offering as it was sold; None when the unit did not sell it as that plan type.
    removed: Offering | None
    # The other plan types the unit still sells the product as.
    still_sold_as: tuple[PlanType, ...]
    # Orders accepted and not final yet that hold it (numbers, ids where none): its items fail in them.
    open_orders: list[str] = field(default_factory=list)


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
            problems = updated.problems(pattern_changed=updated.msisdn_pattern != unit.msisdn_pattern)
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

    def remove_offering(self, business_unit_id: str, product_id: str, plan_type: PlanType) -> OfferingRemoval:
        """Stop selling an offering as one plan type in a unit. New orders for it are refused from the
        next one on, as for an offering never sold (each order reads its unit's offerings in its own
        transaction). Lines keep what runs on them until its end. Orders accepted and not final yet keep
        their place: their items of it fail when provisioned, as the provisioner fails an offering no
        longer sold, and they are named so the operator can tell the partner. Removing what is not sold
        so changes nothing."""
        with self._uow() as uow:
            _existing_unit(uow, business_unit_id)
            if uow.catalog.get(product_id) is None:
                raise InvalidInput(f"no product {product_id}", field="offering")
            sold = [o for o in uow.lines.offerings(business_unit_id) if o.product_id == product_id]
            removed = next((o for o in sold if o.plan_type is plan_type), None)
            still_sold_as = tuple(o.plan_type for o in sold if o.plan_type is not plan_type)
            if removed is None:
                return OfferingRemoval(None, still_sold_as)
            open_orders = uow.lines.open_orders_of_offering(removed)
            if not uow.lines.remove_offering(removed):
                return OfferingRemoval(None, still_sold_as)  # another operator's removal came first
            uow.partners.bump_config_version()
            uow.commit()
        return OfferingRemoval(removed, still_sold_as, open_orders)

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
