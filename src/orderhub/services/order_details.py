"""An order as the operator reads it (`orderhub order show`): what it acts on named as the operator
knows it, its customer as stored, its history."""

from __future__ import annotations

from dataclasses import dataclass

from orderhub.domain.customers import Customer
from orderhub.domain.orders import Order, OrderEvent, Subject, SubjectKind
from orderhub.services.ports import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class OrderDetails:
    order: Order
    events: list[OrderEvent]
    # What the order acts on, in the words the other commands take: "esim <ICCID>", "line <business
    # unit> <MSISDN>" (line show), "access <coAccessId>" (access show). Orders keep lines and accesses by
    # an internal id, which no command takes and no partner sent.
    subject: str | None
    customer: Customer | None


class OrderDetailsQuery:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow = uow_factory

    def find(self, order_id_or_number: str) -> OrderDetails | None:
        """The order of that id or number (ORD-...), None when there is none."""
        with self._uow(read_only=True) as uow:
            order = uow.orders.get(order_id_or_number) or uow.orders.get_by_reference(order_id_or_number)
            if order is None:
                return None
            customer = uow.partners.get_customer(order.customer_id) if order.customer_id else None
            return OrderDetails(order, uow.orders.events(order.id), _subject(uow, order.subject), customer)


def _subject(uow: UnitOfWork, subject: Subject | None) -> str | None:
    if subject is None:
        return None
    if subject.kind is SubjectKind.LINE:
        line = uow.lines.get_line(subject.ref)
        if line is not None:
            return f"line {line.business_unit_id} {line.msisdn}"
    elif subject.kind is SubjectKind.ACCESS:
        access = uow.accesses.get(subject.ref)
        if access is not None:
            return f"access {access.ref}"
    return f"{subject.kind.value} {subject.ref}"
