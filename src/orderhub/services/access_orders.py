"""Service activations on network accesses (ACTIVATE_SERVICE, ON-API): intake rules on stored data and
what a communication operator may order (the operator's set-up of them: services.access_setup)."""

from __future__ import annotations

from datetime import datetime

from orderhub.domain.accesses import (
    MAX_SERVICES_PER_ORDER,
    OFFERING_ATTRIBUTE,
    ActivationRequest,
    NetworkOffering,
    check_activation,
)
from orderhub.domain.customers import Customer
from orderhub.domain.errors import AccessDenied, InvalidInput
from orderhub.domain.identifiers import new_id
from orderhub.domain.order_states import MAX_DATE_AHEAD
from orderhub.domain.orders import OrderItem, Subject, SubjectKind
from orderhub.domain.partners import ACCESS_ORDERING_ROLES, Principal
from orderhub.services.order_commands import NewOrder
from orderhub.services.ports import Database, UnitOfWork
from orderhub.services.provisioning import AccessReadings


class AccessIntake:
    def validate(self, principal: Principal, request: ActivationRequest, now: datetime) -> None:
        if not principal.has_any_role(ACCESS_ORDERING_ROLES):
            raise AccessDenied("only communication operators order services on accesses")
        if not request.services:
            raise InvalidInput("must hold at least one product", field="products")
        if len(request.services) > MAX_SERVICES_PER_ORDER:
            raise InvalidInput(f"at most {MAX_SERVICES_PER_ORDER} products per order", field="products")
        if len({product_id for product_id, _offering in request.services}) < len(request.services):
            # Each product runs once on an access: a second of it could only fail next to the first.
            raise InvalidInput("each product may be ordered once per order", field="products")
        if request.requested_at > now + MAX_DATE_AHEAD:
            raise InvalidInput(f"can be at most {MAX_DATE_AHEAD.days} days ahead", field="requested_at")

    def prepare(self, uow: UnitOfWork, principal: Principal, request: ActivationRequest, now: datetime) -> NewOrder:
        # Its state and services are read here and changed by orders racing this one, and by operators.
        access = uow.accesses.locked_by_ref(request.access_ref)
        available = frozenset((o.product_id, o.offering_id) for o in uow.accesses.offerings_for(principal.partner_id))
        active = uow.accesses.active_products(access.id) if access is not None else frozenset()
        # Read under the access's lock, as the active products: of two orders racing for one product,
        # the second reads the first's (committed) order.
        ordered = uow.accesses.ordered_products(access.id) if access is not None else frozenset()
        check_activation(request, available=available, access=access, active_products=active, ordered_products=ordered)
        assert access is not None
        items = [
            OrderItem(seq=seq, product_id=product_id, attributes={OFFERING_ATTRIBUTE: offering_id})
            for seq, (product_id, offering_id) in enumerate(request.services, start=1)
        ]
        return NewOrder(
            items=items,
            subject=Subject(SubjectKind.ACCESS, access.id),
            customer_id=_customer_of(uow, principal, request, now),
            due_at=request.requested_at,
            readings=AccessReadings(access.id, frozenset(active)),
        )


def _customer_of(uow: UnitOfWork, principal: Principal, request: ActivationRequest, now: datetime) -> str | None:
    details = request.customer
    if details is None or (details.identity is None and details.email is None):
        return None
    found = None
    if details.identity is not None:
        found = uow.partners.find_customer_by_identity([principal.partner_id], details.identity, for_order=True)
    elif details.email is not None:
        found = uow.partners.find_customer([principal.partner_id], details.email, for_order=True)
    if found is not None:
        return found.id
    customer = Customer(
        id=new_id(),
        partner_id=principal.partner_id,
        # An identified customer is known by their identity number; the e-mail is kept only for a
        # customer known by nothing else (an e-mail can move between people).
        email=details.email if details.identity is None else None,
        created_at=now,
        name=details.name,
        identity=details.identity,
    )
    return uow.partners.add_customer(customer)


class AccessQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def offerings_for(self, principal: Principal) -> list[NetworkOffering]:
        """What the caller may order: the products and offerings of the SP's catalog open to it."""
        if not principal.has_any_role(ACCESS_ORDERING_ROLES):
            raise AccessDenied("only communication operators order services on accesses")
        return await self._db.read(lambda uow: uow.accesses.offerings_for(principal.partner_id))
