"""Orders as the operator reads them: one with its customer and history (`orderhub order show`), or
many at once (`orderhub order list`), what each acts on named as the operator knows it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from orderhub.domain.customers import Customer
from orderhub.domain.errors import InvalidInput
from orderhub.domain.order_states import OrderEvent
from orderhub.domain.orders import Order, Subject, SubjectKind
from orderhub.services.partners import existing_partner
from orderhub.services.ports import UnitOfWork, UnitOfWorkFactory
from orderhub.services.records import OrderQuery


@dataclass(frozen=True)
class OrderDetails:
    order: Order
    events: list[OrderEvent]
    # What the order acts on, in the words the other commands take: "esim <ICCID>", "line <business
    # unit> <MSISDN>" (line show), "access <coAccessId>" (access show). Orders keep lines and accesses by
    # an internal id, which no command takes and no partner sent.
    subject: str | None
    customer: Customer | None


@dataclass(frozen=True)
class ListedOrder:
    order: Order
    subject: str | None  # as OrderDetails.subject


@dataclass(frozen=True)
class OrderList:
    orders: list[ListedOrder]  # newest first
    total: int  # how many the query selects, however many are listed


class OrderDetailsQuery:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow = uow_factory

    def find(self, order_id_or_number: str) -> OrderDetails | None:
        """The order of that id or number (ORD-...), None when there is none."""
        with self._uow(read_only=True) as uow:
            order = uow.orders.get(order_id_or_number) or uow.orders.get_by_reference(
                order_id_or_number, deleted_too=True
            )
            if order is None:
                return None
            customer = uow.partners.get_customer(order.customer_id) if order.customer_id else None
            return OrderDetails(order, uow.orders.events(order.id), _subject(uow, order.subject), customer)

    def search(self, query: OrderQuery, *, limit: int, subject: str | None = None) -> OrderList:
        """The newest ``limit`` orders ``query`` selects, and how many it selects in all; ``subject``:
        only those acting on it, named as OrderDetails.subject names it. A partner, line or access it
        names that does not exist is refused (a typo would otherwise read as "no orders")."""
        with self._uow(read_only=True) as uow:
            for partner_id in sorted(query.partner_ids or ()):
                existing_partner(uow, partner_id)
            if subject is not None:
                query = replace(query, subject=_subject_named(uow, subject))
            found, total = uow.orders.search(query, 0, limit)
            # Many orders act on the same line or access: each is looked up once.
            names: dict[Subject | None, str | None] = {None: None}
            for order in found:
                if order.subject not in names:
                    names[order.subject] = _subject(uow, order.subject)
            return OrderList([ListedOrder(order, names[order.subject]) for order in found], total)


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


SUBJECT_FORMS = "esim <ICCID>, line <business unit> <MSISDN> or access <coAccessId>"


def _subject_named(uow: UnitOfWork, text: str) -> Subject:
    """The subject ``text`` names in _subject's words."""
    kind, *rest = text.split() or [""]
    if kind == SubjectKind.ESIM.value and len(rest) == 1:
        return Subject(SubjectKind.ESIM, rest[0])
    if kind == SubjectKind.LINE.value and len(rest) == 2:
        line = uow.lines.find_line(rest[0], rest[1])
        if line is None:
            raise InvalidInput(f"no line {rest[1]} in business unit {rest[0]}", field="subject")
        return Subject(SubjectKind.LINE, line.id)
    if kind == SubjectKind.ACCESS.value and len(rest) == 1:
        access = uow.accesses.by_ref(rest[0])
        if access is None:
            raise InvalidInput(f"no access {rest[0]}", field="subject")
        return Subject(SubjectKind.ACCESS, access.id)
    raise InvalidInput(f"subject {text!r}: expected {SUBJECT_FORMS}", field="subject")
